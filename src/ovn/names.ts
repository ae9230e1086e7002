/**
 * Every OVN logical object name and every external_ids / annotation key the watcher uses, in one
 * place. The names follow modern ovn-kubernetes (go-controller/pkg/types/const.go) so an operator
 * who knows ovn-k recognises the topology; the original Python-era markers that are still useful
 * (k8s-cluster-router=yes, pod=true, namespace) are kept.
 */

// ---- cluster-wide objects ---------------------------------------------------------------------

export const CLUSTER_ROUTER = 'ovn_cluster_router';
export const JOIN_SWITCH = 'join';
export const DEFAULT_JOIN_SUBNET_V4 = '100.64.0.0/16';
export const DEFAULT_JOIN_SUBNET_V6 = 'fd98::/64';
export const DEFAULT_CLUSTER_SUBNET = '10.128.0.0/14/23';
/** default `network_name` of the localnet port; must match the node's ovn-bridge-mappings */
export const DEFAULT_PHYSICAL_NETWORK = 'physnet';

export const CLUSTER_LB_GROUP = 'clusterLBGroup';
export const CLUSTER_SWITCH_LB_GROUP = 'clusterSwitchLBGroup';
export const CLUSTER_ROUTER_LB_GROUP = 'clusterRouterLBGroup';

export const ROUTER_TO_JOIN_PREFIX = 'rtoj-';
export const JOIN_TO_ROUTER_PREFIX = 'jtor-';
export const ROUTER_TO_SWITCH_PREFIX = 'rtos-';
export const SWITCH_TO_ROUTER_PREFIX = 'stor-';
export const ROUTER_TO_EXT_PREFIX = 'rtoe-';
export const EXT_TO_ROUTER_PREFIX = 'etor-';
export const GATEWAY_ROUTER_PREFIX = 'GR_';
export const EXT_SWITCH_PREFIX = 'ext_';
export const MGMT_PORT_PREFIX = 'k8s-';

export const clusterRouterToJoinPort = (): string => `${ROUTER_TO_JOIN_PREFIX}${CLUSTER_ROUTER}`;
export const joinToClusterRouterPort = (): string => `${JOIN_TO_ROUTER_PREFIX}${CLUSTER_ROUTER}`;

// ---- per-node objects -------------------------------------------------------------------------

/** the node's logical switch carries the node's own name */
export const nodeSwitch = (node: string): string => node;
export const routerToSwitchPort = (node: string): string => `${ROUTER_TO_SWITCH_PREFIX}${node}`;
export const switchToRouterPort = (node: string): string => `${SWITCH_TO_ROUTER_PREFIX}${node}`;
export const mgmtPort = (node: string): string => `${MGMT_PORT_PREFIX}${node}`;
export const gatewayRouter = (node: string): string => `${GATEWAY_ROUTER_PREFIX}${node}`;
export const gwRouterToJoinPort = (node: string): string => `${ROUTER_TO_JOIN_PREFIX}${gatewayRouter(node)}`;
export const joinToGwRouterPort = (node: string): string => `${JOIN_TO_ROUTER_PREFIX}${gatewayRouter(node)}`;
export const extSwitch = (node: string): string => `${EXT_SWITCH_PREFIX}${node}`;
export const gwRouterToExtPort = (node: string): string => `${ROUTER_TO_EXT_PREFIX}${gatewayRouter(node)}`;
export const extToGwRouterPort = (node: string): string => `${EXT_TO_ROUTER_PREFIX}${gatewayRouter(node)}`;
/** localnet port on ext_<node>; ovn-k names it after the gateway interface: `<bridge>_<node>` */
export const localnetPort = (node: string, bridge = 'breth0'): string => `${bridge}_${node}`;

// ---- pods and services ------------------------------------------------------------------------

export const podPort = (namespace: string, pod: string): string => `${namespace}_${pod}`;

export type LbProtocol = 'TCP' | 'UDP' | 'SCTP';
/** load-balancer scopes; `node_router` is our one-per-service NodePort LB attached through clusterRouterLBGroup */
export type LbScope = 'cluster' | 'node_router' | `node_router_${string}` | `node_switch_${string}`;
export const serviceLb = (namespace: string, name: string, proto: LbProtocol, scope: LbScope): string =>
  `Service_${namespace}/${name}_${proto}_${scope}`;

// ---- external_ids keys ------------------------------------------------------------------------

/** Who owns a row: `<owner-type>` + `<owner>` together identify one Kubernetes object (or the cluster). */
export const OWNER_KEY = 'k8s.ovn.org/owner';
export const OWNER_TYPE_KEY = 'k8s.ovn.org/owner-type';
/** stable identity of rows that have no unique name (static routes, NAT) */
export const ID_KEY = 'k8s.ovn.org/id';
export const NETWORK_KEY = 'k8s.ovn.org/network';
/** ovn-k's marker on service load balancers (`Service`), kept next to our owner-type */
export const KIND_KEY = 'k8s.ovn.org/kind';
export const NAD_KEY = 'k8s.ovn.org/nad';
export const TOPOLOGY_KEY = 'k8s.ovn.org/topology';
export const CLUSTER_ROUTER_MARK_KEY = 'k8s-cluster-router';
export const POD_MARK_KEY = 'pod';
export const NAMESPACE_KEY = 'namespace';
export const GATEWAY_IP_KEY = 'gateway_ip';
export const PHYSICAL_IP_KEY = 'physical_ip';

/**
 * `Network` owns a secondary network's shared rows (id: the network name) and `PodNetwork` one pod's
 * port on one NAD (id: `<ns>/<pod>@<nad-ns>/<nad>`): types of their own, so a sweep of the default
 * network's `Cluster` and `Pod` owners can never reach them.
 */
export type OwnerType = 'Cluster' | 'Node' | 'Pod' | 'Service' | 'Network' | 'PodNetwork';
export const OWNER_TYPES: readonly OwnerType[] = [
  'Cluster',
  'Node',
  'Pod',
  'Service',
  'Network',
  'PodNetwork',
];

export interface OwnerRef {
  type: OwnerType;
  /** `default` for the cluster, the node name, or `<ns>/<name>` for pods and services */
  id: string;
}

export const CLUSTER_OWNER: OwnerRef = { type: 'Cluster', id: 'default' };
export const nodeOwner = (node: string): OwnerRef => ({ type: 'Node', id: node });
export const podOwner = (namespace: string, pod: string): OwnerRef => ({
  type: 'Pod',
  id: `${namespace}/${pod}`,
});
export const serviceOwner = (namespace: string, name: string): OwnerRef => ({
  type: 'Service',
  id: `${namespace}/${name}`,
});

/** The external_ids that mark a row as ours. */
export const ownerIds = (owner: OwnerRef): Record<string, string> => ({
  [OWNER_TYPE_KEY]: owner.type,
  [OWNER_KEY]: owner.id,
});

export const ownerKeyString = (owner: OwnerRef): string => `${owner.type}:${owner.id}`;

/** Reads the owner back from a row's external_ids; undefined for rows that are not ours. */
export function ownerOf(externalIds: unknown): OwnerRef | undefined {
  if (!externalIds || typeof externalIds !== 'object' || externalIds instanceof Map) return undefined;
  const ids = externalIds as Record<string, unknown>;
  const type = ids[OWNER_TYPE_KEY];
  const id = ids[OWNER_KEY];
  if (typeof id !== 'string' || typeof type !== 'string') return undefined;
  if (!(OWNER_TYPES as readonly string[]).includes(type)) return undefined;
  return { type: type as OwnerType, id };
}

// ---- Kubernetes annotation keys ---------------------------------------------------------------

export const POD_NETWORKS_ANNOTATION = 'k8s.ovn.org/pod-networks';
/** the original Python watcher's pod annotation: {"ip_address","mac_address","gateway_ip"} */
export const LEGACY_POD_ANNOTATION = 'ovn';
export const NODE_SUBNETS_ANNOTATION = 'k8s.ovn.org/node-subnets';
export const L3_GATEWAY_CONFIG_ANNOTATION = 'k8s.ovn.org/l3-gateway-config';
export const NODE_CHASSIS_ID_ANNOTATION = 'k8s.ovn.org/node-chassis-id';
export const NODE_GATEWAY_ROUTER_LRP_IFADDRS_ANNOTATION = 'k8s.ovn.org/node-gateway-router-lrp-ifaddrs';
export const NODE_MGMT_PORT_MAC_ANNOTATION = 'k8s.ovn.org/node-mgmt-port-mac-addresses';
export const DEFAULT_NETWORK = 'default';

// ---- secondary networks (issue 6) -------------------------------------------------------------

/** ovn-k's prefix for objects of a secondary network: the network name with `-` and `/` as `.`, then `_`. */
export const networkPrefix = (network: string): string => `${network.replace(/[-/]/g, '.')}_`;

/** Name of an object in `network`; the default network has no prefix. */
export const inNetwork = (network: string, name: string): string =>
  network === DEFAULT_NETWORK ? name : `${networkPrefix(network)}${name}`;
