/**
 * Shared by the egress tests (gateway-egress, gateway-rampout): a three-node cluster's second
 * gateway and gateway-less node, the pods that ping the outside, and reading ovn-trace's answer.
 */
import type { GatewayInfo, NodeInfo } from '../../src/ovn/intent/index.js';
import { CLUSTER_ROUTER } from '../../src/ovn/names.js';
import type { OvnCentral } from '../../src/runtime/ovn-central.js';
import { snapshotView } from './nb-harness.js';

/** node2's gateway, for the tests that give node2 one */
export const gateway2: GatewayInfo = {
  chassisId: 'chassis-node2',
  joinIps: ['100.64.0.3/16'],
  ips: ['172.18.0.12/24'],
  mac: '02:42:ac:12:00:0c',
  nextHops: ['172.18.0.1'],
};
/** never a gateway */
export const node3: NodeInfo = { name: 'node3', subnets: ['10.128.4.0/23'] };

/** a pod on `node` pinging an outside address; MACs as the intent derives them (0a:58 + IP) */
export interface PodEnd {
  node: string;
  port: string;
  mac: string;
  ip: string;
  routerMac: string;
}
export const A1: PodEnd = {
  node: 'node1',
  port: 'default_a1',
  mac: '0a:58:0a:80:00:05',
  ip: '10.128.0.5',
  routerMac: '0a:58:0a:80:00:01',
};
export const B1: PodEnd = {
  node: 'node2',
  port: 'default_b1',
  mac: '0a:58:0a:80:02:05',
  ip: '10.128.2.5',
  routerMac: '0a:58:0a:80:02:01',
};
export const C1: PodEnd = {
  node: 'node3',
  port: 'default_c1',
  mac: '0a:58:0a:80:04:05',
  ip: '10.128.4.5',
  routerMac: '0a:58:0a:80:04:01',
};
export const OUTSIDE = '8.8.8.8';

/** A ping from `p` to `dst` (default OUTSIDE), taking ECMP member `selectId` where a group is met. */
export const tracePing = (
  central: OvnCentral,
  p: PodEnd,
  opts: { dst?: string; selectId?: number } = {},
): Promise<string> =>
  central.trace(
    ...Array<string>(4).fill('--ct=new'),
    ...(opts.selectId !== undefined ? [`--select-id=${opts.selectId}`] : []),
    '--detailed',
    p.node,
    `inport=="${p.port}" && eth.src==${p.mac} && eth.dst==${p.routerMac} && ip4.src==${p.ip} && ip4.dst==${opts.dst ?? OUTSIDE} && ip.ttl==64 && icmp4.type==8`,
  );

/** Which gateway router a traced packet entered, and the address it was SNATed to. */
export function gatewayExit(trace: string): { gr: string | undefined; snat: string | undefined } {
  return {
    gr: /outport="jtor-(GR_\w+)"/.exec(trace)?.[1],
    snat: /ct_snat\(ip4\.src=([\d.]+)\)/.exec(trace)?.[1],
  };
}

/**
 * ovn-controller learns GR_<node>'s neighbours by ARP (dynamic_neigh_routers); ovn-trace has no
 * data path, so record them in SB.
 */
export async function learnNeighbours(central: OvnCentral, node: string): Promise<void> {
  const dp = (
    await central.sbctl(
      '--bare',
      '--columns=_uuid',
      'find',
      'Datapath_Binding',
      `external_ids:name=GR_${node}`,
    )
  ).trim();
  const binding = (port: string, ip: string, mac: string) =>
    central.sbctl(
      'create',
      'MAC_Binding',
      `logical_port=${port}`,
      `ip=${ip}`,
      `mac="${mac}"`,
      `datapath=${dp}`,
    );
  await binding(`rtoj-GR_${node}`, '100.64.0.1', '0a:58:64:40:00:01');
  await binding(`rtoe-GR_${node}`, '172.18.0.1', '02:00:00:00:00:01');
}

/** "policy prefix via nexthop" of every route on the cluster router, sorted. */
export async function clusterRoutes(central: OvnCentral): Promise<string[]> {
  const view = await snapshotView(central.nb.unix);
  const cr = view.byName('Logical_Router', CLUSTER_ROUTER)[0]!;
  return (cr.static_routes as string[])
    .map((u) => view.get('Logical_Router_Static_Route', u)!)
    .map((r) => `${String(r.policy ?? 'dst-ip')} ${String(r.ip_prefix)} via ${String(r.nexthop)}`)
    .sort();
}
