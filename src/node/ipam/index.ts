/** The `ovn-k8s-ipam` CNI IPAM plugin logic (entry point: src/cli/ovn-k8s-ipam.ts). */
export * from './cni.js';
export * from './plugin.js';
