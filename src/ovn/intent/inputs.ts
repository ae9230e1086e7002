/**
 * The plain records intent is computed from. Controllers translate Kubernetes objects (and the
 * allocations of src/ipam) into these; intent never sees a Kubernetes object.
 */

export interface ClusterConfig {
  /** cluster networks without the host prefix, e.g. ["10.128.0.0/14"] */
  clusterSubnets: string[];
  /** join subnets, one per IP family; default ["100.64.0.0/16"] */
  joinSubnets?: string[];
}

export interface GatewayInfo {
  /** system-id of the node's chassis (Open_vSwitch external_ids:system-id); GR_<node> options:chassis */
  chassisId: string;
  /** rtoj-GR_<node> addresses on the join subnet, `ip/len`, one per family (allocated by the controller) */
  joinIps: string[];
  /** the node's physical addresses, `ip/len`, one per family: rtoe-GR_<node> networks and the SNAT/NodePort IPs */
  ips: string[];
  /** MAC of the physical interface / bridge, used by rtoe-GR_<node> */
  mac: string;
  /** default gateways, one per family */
  nextHops: string[];
  /** name of the localnet port on ext_<node> (ovn-k: `<bridge>_<node>`); default `breth0_<node>` */
  interfaceId?: string;
  /** localnet `network_name`; must match the node's ovn-bridge-mappings; default `physnet` */
  physicalNetwork?: string;
  /** VLAN of the physical network, if tagged */
  vlanId?: number;
  /**
   * source subnets pinned to this gateway (gateway-init --rampout-ip-subnets): a src-ip route per
   * subnet on the cluster router via this GR's join IP. Absent or empty: no ramp-out.
   */
  rampoutSubnets?: string[];
}

export interface NodeInfo {
  name: string;
  /** host subnets carved for this node, one per family, e.g. ["10.128.0.0/23"] */
  subnets: string[];
  /** MAC of the node's management interface; default: derived from the .2 address */
  mgmtMac?: string;
  gateway?: GatewayInfo;
}

export interface PodInfo {
  namespace: string;
  name: string;
  /** pod UID: options:iface-id-ver lets the CNI tell a re-created pod of the same name apart */
  uid?: string;
  node: string;
  /** allocated addresses, `ip/len` (the node subnet's length) */
  ips: string[];
  /** default: derived from the first IP */
  mac?: string;
}

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePortInfo {
  name?: string;
  protocol?: ServiceProtocol;
  port: number;
  /** a number, or the name of a container port (resolved through the EndpointSlices' ports) */
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  /** empty or ["None"] for headless services, which get no load balancer */
  clusterIPs: string[];
  externalIPs?: string[];
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIPs?: string[];
  ports: ServicePortInfo[];
  /** set for sessionAffinity: ClientIP (spec.sessionAffinityConfig.clientIP.timeoutSeconds, default 10800) */
  affinityTimeoutSeconds?: number;
}

/** One EndpointSlice of the service, reduced to what load balancing needs. */
export interface EndpointSliceInfo {
  /** the slice's ports: `name` is the service port's name, `port` the resolved target port */
  ports: { name?: string; protocol?: ServiceProtocol; port: number }[];
  endpoints: {
    addresses: string[];
    /** Kubernetes semantics: absent means ready */
    ready?: boolean;
    serving?: boolean;
    terminating?: boolean;
  }[];
}
