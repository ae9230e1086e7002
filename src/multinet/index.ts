/**
 * The multi-network vocabulary, pure (no I/O): NAD configs (ovn-kubernetes secondary networks and
 * other CNIs' `ipam` sections), Multus pod network selection and network-status, Kube-OVN and
 * Spiderpool annotations, and SpiderMultusConfig -> NAD config.
 */
export * from './errors.js';
export * from './cni-config.js';
export * from './ovn-network.js';
export * from './selection.js';
export * from './network-status.js';
export * from './kube-ovn.js';
export * from './spiderpool.js';
export * from './ipam-result.js';
export * from './network-claims.js';
