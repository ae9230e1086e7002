/**
 * A node's gateway (shared-gateway mode): GR_<node> bound to the node's chassis, joined to the
 * cluster router through the join switch, and to the physical network through ext_<node> and a
 * localnet port. Routing:
 * - on GR_<node>: default route via the physical next hop; the cluster subnets via the cluster
 *   router's join IP; SNAT of the cluster subnets to the node IP, so replies to anything that left
 *   by this GR come back to it;
 * - on ovn_cluster_router, two kinds of route per gateway:
 *   - a src-ip route per subnet of THIS node via this GR's join IP: a node's pods leave by their own
 *     node's gateway (every gateway gets its route, unlike the original, which pointed one default
 *     route at the first gateway only);
 *   - a dst-ip default route (0.0.0.0/0, ::/0) via this GR's join IP, per family the GR can carry
 *     out (join IP, node IP and next hop of that family): pods of nodes WITHOUT a gateway leave by
 *     some gateway. The default routes of all gateways share prefix and policy, so ovn-northd makes
 *     them one ECMP group and hashes flows across the gateways.
 *   ovn-northd ranks a route by prefix length before policy (a src-ip /23 outranks any dst-ip
 *   /0), while connected dst-ip routes of the node subnets outrank a src-ip route of the same
 *   length: pod-to-pod traffic stays inside, and a gateway node's pods never take the ECMP group
 *   (proved with ovn-trace in test/ovn/gateway-egress.test.ts).
 * - a src-ip route per ramp-out subnet (gateway-init --rampout-ip-subnets) via this GR's join IP:
 *   those sources leave by this gateway whichever node they are on (a longer prefix than /0, so
 *   it outranks the ECMP default route);
 * Rows are owned by the node, so removing the node (or its gateway config) removes them and leaves
 * the other gateways' default routes in place; with no gateway left there is no default route.
 */
import {
  CLUSTER_LB_GROUP,
  CLUSTER_ROUTER,
  CLUSTER_ROUTER_LB_GROUP,
  DEFAULT_PHYSICAL_NETWORK,
  JOIN_SWITCH,
  PHYSICAL_IP_KEY,
  extSwitch,
  extToGwRouterPort,
  gatewayRouter,
  gwRouterToExtPort,
  gwRouterToJoinPort,
  joinToGwRouterPort,
  localnetPort,
  nodeOwner,
} from '../names.js';
import { canonicalCidr, hostCidr, ipFamily, ipOf, macFromIp, parseCidr, type IpFamily } from './addr.js';
import { clusterRouterJoinIps, joinSubnets, routerTypeSwitchPort } from './cluster.js';
import { ownedExternalIds, parent, ref, type DesiredRow, type NbTable } from './desired.js';
import type { ClusterConfig, NodeInfo } from './inputs.js';

export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
}

const defaultPrefix = (family: IpFamily): string => (family === 4 ? '0.0.0.0/0' : '::/0');
const byFamily = (ips: string[], family: IpFamily): string | undefined =>
  ips.find((ip) => ipFamily(ipOf(ip)) === family);

/** Key of a static route: router, policy and prefix identify it (one route per prefix and policy). */
export const routeKey = (router: string, policy: 'dst-ip' | 'src-ip', prefix: string): string =>
  `${router}:${policy}:${prefix}`;
/**
 * Key of one member of an ECMP group: several gateways own a route with the same router, policy
 * and prefix, so the next hop is part of its identity. (The other routes keep `routeKey`, so rows
 * written before ECMP routes existed keep their identity.)
 */
export const ecmpRouteKey = (
  router: string,
  policy: 'dst-ip' | 'src-ip',
  prefix: string,
  nexthop: string,
): string => `${routeKey(router, policy, prefix)}@${nexthop}`;
export const snatKey = (router: string, logicalIp: string): string => `${router}:snat:${logicalIp}`;

/**
 * A stable join address per gateway, from a node index the controller keeps (0, 1, ...): host
 * index+2 of each join subnet (host 1 is the cluster router). `ip/len`, one per family.
 */
export const gatewayJoinIps = (config: ClusterConfig, index: number): string[] =>
  joinSubnets(config).map((s) => hostCidr(s, index + 2));

/** The node IPs NodePort VIPs listen on: the gateway's physical IPs. */
export const gatewayNodeIps = (node: NodeInfo): string[] => (node.gateway ? node.gateway.ips.map(ipOf) : []);

export function gatewayRows(node: NodeInfo, config: ClusterConfig): DesiredRow[] {
  const gw = node.gateway;
  if (!gw) return [];
  if (gw.ips.length === 0) throw new GatewayConfigError(`gateway of node ${node.name} has no physical IP`);
  if (gw.joinIps.length === 0) throw new GatewayConfigError(`gateway of node ${node.name} has no join IP`);
  const owner = nodeOwner(node.name);
  const ids = (table: NbTable, key: string, extra: Record<string, string> = {}) =>
    ownedExternalIds(table, key, owner, extra);
  const gr = gatewayRouter(node.name);
  const rtoj = gwRouterToJoinPort(node.name);
  const jtor = joinToGwRouterPort(node.name);
  const ext = extSwitch(node.name);
  const rtoe = gwRouterToExtPort(node.name);
  const etor = extToGwRouterPort(node.name);
  const localnet = gw.interfaceId ?? localnetPort(node.name);
  const rows: DesiredRow[] = [
    {
      table: 'Logical_Router',
      key: gr,
      columns: {
        name: gr,
        options: {
          chassis: gw.chassisId,
          // SNAT load-balanced traffic to the IP of the port it leaves by, so replies come back here
          lb_force_snat_ip: 'router_ip',
          always_learn_from_arp_request: 'false',
          dynamic_neigh_routers: 'true',
        },
        external_ids: ids('Logical_Router', gr, { [PHYSICAL_IP_KEY]: ipOf(gw.ips[0]!) }),
      },
      refs: {
        load_balancer_group: [
          ref('Load_Balancer_Group', CLUSTER_LB_GROUP),
          ref('Load_Balancer_Group', CLUSTER_ROUTER_LB_GROUP),
        ],
      },
    },
    {
      table: 'Logical_Router_Port',
      key: rtoj,
      columns: {
        name: rtoj,
        mac: macFromIp(gw.joinIps[0]!),
        networks: gw.joinIps,
        external_ids: ids('Logical_Router_Port', rtoj),
      },
      parents: [parent('Logical_Router', gr, 'ports')],
    },
    {
      table: 'Logical_Switch_Port',
      key: jtor,
      columns: routerTypeSwitchPort(jtor, rtoj, ids('Logical_Switch_Port', jtor)),
      parents: [parent('Logical_Switch', JOIN_SWITCH, 'ports')],
    },
    { table: 'Logical_Switch', key: ext, columns: { name: ext, external_ids: ids('Logical_Switch', ext) } },
    {
      table: 'Logical_Switch_Port',
      key: localnet,
      columns: {
        name: localnet,
        type: 'localnet',
        addresses: ['unknown'],
        options: { network_name: gw.physicalNetwork ?? DEFAULT_PHYSICAL_NETWORK },
        tag_request: gw.vlanId && gw.vlanId > 0 ? gw.vlanId : null,
        external_ids: ids('Logical_Switch_Port', localnet),
      },
      parents: [parent('Logical_Switch', ext, 'ports')],
    },
    {
      table: 'Logical_Router_Port',
      key: rtoe,
      columns: {
        name: rtoe,
        mac: gw.mac.toLowerCase(),
        networks: gw.ips,
        external_ids: ids('Logical_Router_Port', rtoe),
      },
      parents: [parent('Logical_Router', gr, 'ports')],
    },
    {
      table: 'Logical_Switch_Port',
      key: etor,
      columns: routerTypeSwitchPort(etor, rtoe, ids('Logical_Switch_Port', etor)),
      parents: [parent('Logical_Switch', ext, 'ports')],
    },
  ];

  const route = (
    router: string,
    policy: 'dst-ip' | 'src-ip',
    prefix: string,
    nexthop: string,
    outputPort?: string,
    key = routeKey(router, policy, prefix),
  ): DesiredRow => {
    return {
      table: 'Logical_Router_Static_Route',
      key,
      columns: {
        ip_prefix: prefix,
        nexthop,
        policy: policy === 'src-ip' ? 'src-ip' : null,
        output_port: outputPort ?? null,
        external_ids: ids('Logical_Router_Static_Route', key),
      },
      parents: [parent('Logical_Router', router, 'static_routes')],
    };
  };

  for (const nh of gw.nextHops) {
    const family = ipFamily(ipOf(nh));
    if (byFamily(gw.ips, family)) rows.push(route(gr, 'dst-ip', defaultPrefix(family), ipOf(nh), rtoe));
  }
  const crJoinIps = clusterRouterJoinIps(config);
  for (const subnet of config.clusterSubnets.map(canonicalCidr)) {
    const family = parseCidr(subnet).family;
    const viaClusterRouter = byFamily(crJoinIps, family);
    if (viaClusterRouter) rows.push(route(gr, 'dst-ip', subnet, viaClusterRouter));
    const nodeIp = byFamily(gw.ips, family);
    if (nodeIp) {
      const key = snatKey(gr, subnet);
      rows.push({
        table: 'NAT',
        key,
        columns: {
          type: 'snat',
          logical_ip: subnet,
          external_ip: ipOf(nodeIp),
          external_ids: ids('NAT', key),
        },
        parents: [parent('Logical_Router', gr, 'nat')],
      });
    }
  }
  for (const subnet of node.subnets.map(canonicalCidr)) {
    const grJoin = byFamily(gw.joinIps, parseCidr(subnet).family);
    if (grJoin) rows.push(route(CLUSTER_ROUTER, 'src-ip', subnet, ipOf(grJoin)));
  }
  // ramp-out (gateway-init --rampout-ip-subnets): traffic from these sources leaves by this GR.
  // Keyed with the next hop: another gateway may ramp out the same subnet, or it may be another
  // node's own subnet (that node's src-ip route above); ovn-northd load-balances routes that share
  // prefix and policy. A subnet equal to one of this node's own subnets already has its route.
  const ownSubnets = new Set(node.subnets.map(canonicalCidr));
  for (const subnet of new Set((gw.rampoutSubnets ?? []).map(canonicalCidr))) {
    const grJoin = byFamily(gw.joinIps, parseCidr(subnet).family);
    if (!grJoin || ownSubnets.has(subnet)) continue;
    const nexthop = ipOf(grJoin);
    const key = ecmpRouteKey(CLUSTER_ROUTER, 'src-ip', subnet, nexthop);
    rows.push(route(CLUSTER_ROUTER, 'src-ip', subnet, nexthop, undefined, key));
  }
  // this gateway's member of the cluster-wide ECMP default route, only for a family it can carry
  // all the way out: otherwise other nodes' pods would be hashed onto a GR that drops their traffic
  for (const family of [4, 6] as const) {
    const grJoin = byFamily(gw.joinIps, family);
    const canLeave = byFamily(gw.ips, family) && gw.nextHops.some((nh) => ipFamily(ipOf(nh)) === family);
    if (!grJoin || !canLeave) continue;
    const prefix = defaultPrefix(family);
    const nexthop = ipOf(grJoin);
    const key = ecmpRouteKey(CLUSTER_ROUTER, 'dst-ip', prefix, nexthop);
    rows.push(route(CLUSTER_ROUTER, 'dst-ip', prefix, nexthop, undefined, key));
  }
  return rows;
}
