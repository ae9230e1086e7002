/** The local sandbox (OVN central + Kubernetes simulator), the sample cluster, the demo and its ovn-trace checks. */
export * from './demo.js';
export * from './sample-cluster.js';
export * from './sandbox.js';
export * from './topology.js';
export * from './trace-checks.js';
