/** Intent: cluster state in, desired rows out, grouped by owner. */
import { CLUSTER_OWNER, nodeOwner, podOwner, serviceOwner } from '../names.js';
import { clusterRows } from './cluster.js';
import type { OwnedRows } from './desired.js';
import { gatewayNodeIps, gatewayRows } from './gateway.js';
import type { ClusterConfig, EndpointSliceInfo, NodeInfo, PodInfo, ServiceInfo } from './inputs.js';
import { nodeRows } from './node.js';
import { podRows } from './pod.js';
import { serviceRows } from './service.js';

export * from './addr.js';
export * from './cluster.js';
export * from './desired.js';
export * from './gateway.js';
export * from './inputs.js';
export * from './node.js';
export * from './pod.js';
export * from './service.js';

export interface ClusterState {
  config: ClusterConfig;
  nodes: NodeInfo[];
  pods: PodInfo[];
  services: { service: ServiceInfo; slices: EndpointSliceInfo[] }[];
}

/** Everything the cluster wants in NB, owner by owner (the cluster, each node, pod and service). */
export function clusterIntent(state: ClusterState): OwnedRows[] {
  const gatewayIps = state.nodes.flatMap(gatewayNodeIps);
  return [
    { owner: CLUSTER_OWNER, rows: clusterRows(state.config) },
    ...state.nodes.map((n) => ({
      owner: nodeOwner(n.name),
      rows: [...nodeRows(n), ...gatewayRows(n, state.config)],
    })),
    ...state.pods.map((p) => ({ owner: podOwner(p.namespace, p.name), rows: podRows(p) })),
    ...state.services.map(({ service, slices }) => ({
      owner: serviceOwner(service.namespace, service.name),
      rows: serviceRows(service, slices, gatewayIps),
    })),
  ];
}
