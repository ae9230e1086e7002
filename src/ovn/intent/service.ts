/**
 * Per-service load balancers, one per protocol and scope, attached through the load-balancer
 * groups (never to each switch/router one by one):
 * - `Service_<ns>/<name>_<PROTO>_cluster` in clusterLBGroup (every node switch and gateway
 *   router): ClusterIP, externalIPs and LoadBalancer ingress VIPs;
 * - `Service_<ns>/<name>_<PROTO>_node_router` in clusterRouterLBGroup (every gateway router):
 *   `<node IP>:<nodePort>` for every gateway. One LB per service instead of one per node and
 *   service keeps the NB at O(services) rows. A gateway router also holds the other gateways'
 *   node-IP VIPs; traffic that reaches it for them (a pod of this node calling another node's
 *   NodePort) is load-balanced right here, to the same backends.
 * Backends come from EndpointSlices; a VIP without ready endpoints is kept with no backends, and
 * `options:reject=true` makes OVN answer with a reset/unreachable instead of silence.
 */
import {
  CLUSTER_LB_GROUP,
  CLUSTER_ROUTER_LB_GROUP,
  KIND_KEY,
  serviceLb,
  serviceOwner,
  type LbProtocol,
  type LbScope,
} from '../names.js';
import { ipFamily, ipOf, ipPort } from './addr.js';
import { ownedExternalIds, parent, type DesiredRow } from './desired.js';
import type { EndpointSliceInfo, ServiceInfo, ServicePortInfo, ServiceProtocol } from './inputs.js';

/** OVN accepts at most 65535 s (ovn-nb(5) options:affinity_timeout). */
export const MAX_AFFINITY_TIMEOUT = 65535;

const protocolOf = (p: { protocol?: ServiceProtocol }): ServiceProtocol => p.protocol ?? 'TCP';
const isRealIp = (ip: string): boolean => ip !== '' && ip !== 'None';

/** The target port of `svcPort` within one slice, or undefined when the slice does not serve it. */
function slicePort(svcPort: ServicePortInfo, slice: EndpointSliceInfo): number | undefined {
  const match = slice.ports.find(
    (p) => (p.name ?? '') === (svcPort.name ?? '') && protocolOf(p) === protocolOf(svcPort),
  );
  if (match) return match.port;
  // a slice without port entries (hand-written Endpoints) can still serve a numeric targetPort
  if (slice.ports.length === 0 && typeof svcPort.targetPort === 'number') return svcPort.targetPort;
  return undefined;
}

/**
 * Backends `ip:port` of one service port and IP family, sorted (a stable string keeps reconcile
 * a no-op when nothing changed). Ready endpoints; when there is none, serving-but-terminating ones
 * (as kube-proxy and ovn-k do, to drain gracefully).
 */
export function backendsFor(svcPort: ServicePortInfo, slices: EndpointSliceInfo[], family: 4 | 6): string[] {
  const pick = (usable: (e: EndpointSliceInfo['endpoints'][number]) => boolean): string[] => {
    const out = new Set<string>();
    for (const slice of slices) {
      const port = slicePort(svcPort, slice);
      if (port === undefined) continue;
      for (const ep of slice.endpoints) {
        if (!usable(ep)) continue;
        for (const addr of ep.addresses) if (ipFamily(addr) === family) out.add(ipPort(addr, port));
      }
    }
    return [...out].sort();
  };
  const ready = pick((e) => e.ready !== false);
  return ready.length > 0 ? ready : pick((e) => e.serving === true && e.terminating === true);
}

function lbRow(
  svc: ServiceInfo,
  proto: LbProtocol,
  scope: LbScope,
  vips: Record<string, string>,
  group: string,
): DesiredRow {
  const name = serviceLb(svc.namespace, svc.name, proto, scope);
  // No ARP/ND replies for VIPs: NodePort VIPs are the gateways' own addresses (rtoe-GR_<node>
  // answers for its own), and an external IP attached to every gateway router would be answered
  // by all of them at once (the original put external IPs on the first gateway only for that
  // reason); steering external IPs to a node is the network's job, as in Kubernetes. It also saves
  // northd work (ovn-k PR #3400: the responder flows cost up to 30% of its time).
  const options: Record<string, string> = { reject: 'true', event: 'false', neighbor_responder: 'none' };
  const affinity = svc.affinityTimeoutSeconds;
  if (affinity !== undefined && affinity > 0)
    options.affinity_timeout = String(Math.min(affinity, MAX_AFFINITY_TIMEOUT));
  return {
    table: 'Load_Balancer',
    key: name,
    columns: {
      name,
      protocol: proto.toLowerCase(),
      vips,
      options,
      selection_fields: affinity !== undefined && affinity > 0 ? ['ip_src'] : [],
      external_ids: ownedExternalIds('Load_Balancer', name, serviceOwner(svc.namespace, svc.name), {
        [KIND_KEY]: 'Service',
      }),
    },
    parents: [parent('Load_Balancer_Group', group, 'load_balancer')],
  };
}

/**
 * @param gatewayIps the node IPs of every gateway (NodePort VIPs), see gatewayNodeIps
 */
export function serviceRows(
  svc: ServiceInfo,
  slices: EndpointSliceInfo[],
  gatewayIps: string[] = [],
): DesiredRow[] {
  const clusterIps = svc.clusterIPs.filter(isRealIp).map(ipOf);
  const externalIps = [...(svc.externalIPs ?? []), ...(svc.loadBalancerIPs ?? [])].filter(isRealIp).map(ipOf);
  const nodeIps = svc.type === 'ClusterIP' ? [] : gatewayIps.map(ipOf);
  const rows: DesiredRow[] = [];
  for (const proto of ['TCP', 'UDP', 'SCTP'] as const) {
    const ports = svc.ports.filter((p) => protocolOf(p) === proto);
    if (ports.length === 0) continue;
    const clusterVips: Record<string, string> = {};
    const nodeVips: Record<string, string> = {};
    for (const p of ports) {
      const memo: Partial<Record<4 | 6, string>> = {};
      const backends = (ip: string): string =>
        (memo[ipFamily(ip)] ??= backendsFor(p, slices, ipFamily(ip)).join(','));
      // headless services (no cluster IP) get no load balancer at all
      if (clusterIps.length > 0) {
        for (const ip of [...clusterIps, ...externalIps]) clusterVips[ipPort(ip, p.port)] = backends(ip);
      }
      if (p.nodePort) for (const ip of nodeIps) nodeVips[ipPort(ip, p.nodePort)] = backends(ip);
    }
    if (Object.keys(clusterVips).length > 0)
      rows.push(lbRow(svc, proto, 'cluster', clusterVips, CLUSTER_LB_GROUP));
    if (Object.keys(nodeVips).length > 0)
      rows.push(lbRow(svc, proto, 'node_router', nodeVips, CLUSTER_ROUTER_LB_GROUP));
  }
  return rows;
}
