/**
 * master-init: the cluster router, the join switch with the router's join port, and the three
 * load-balancer groups. Owned by the cluster owner; node, pod and service rows hang off these.
 */
import {
  CLUSTER_LB_GROUP,
  CLUSTER_OWNER,
  CLUSTER_ROUTER,
  CLUSTER_ROUTER_LB_GROUP,
  CLUSTER_ROUTER_MARK_KEY,
  CLUSTER_SWITCH_LB_GROUP,
  DEFAULT_JOIN_SUBNET_V4,
  JOIN_SWITCH,
  clusterRouterToJoinPort,
  joinToClusterRouterPort,
} from '../names.js';
import { hostCidr, hostIp, macFromIp } from './addr.js';
import { ownedExternalIds, parent, type DesiredRow } from './desired.js';
import type { ClusterConfig } from './inputs.js';

export const joinSubnets = (config: ClusterConfig): string[] =>
  config.joinSubnets && config.joinSubnets.length > 0 ? config.joinSubnets : [DEFAULT_JOIN_SUBNET_V4];

/** The cluster router's addresses on the join switch: host 1 of each join subnet (`ip/len`). */
export const clusterRouterJoinCidrs = (config: ClusterConfig): string[] =>
  joinSubnets(config).map((s) => hostCidr(s, 1));

/** The cluster router's join IPs (no length): the next hop of the gateway routers' cluster routes. */
export const clusterRouterJoinIps = (config: ClusterConfig): string[] =>
  joinSubnets(config).map((s) => hostIp(s, 1));

/** A router-type switch port facing `routerPort`. */
export function routerTypeSwitchPort(
  name: string,
  routerPort: string,
  ids: Record<string, string>,
): DesiredRow['columns'] {
  return {
    name,
    type: 'router',
    addresses: ['router'],
    options: { 'router-port': routerPort },
    external_ids: ids,
  };
}

export function clusterRows(config: ClusterConfig): DesiredRow[] {
  const owner = CLUSTER_OWNER;
  const routerCidrs = clusterRouterJoinCidrs(config);
  const rtoj = clusterRouterToJoinPort();
  const jtor = joinToClusterRouterPort();
  return [
    {
      table: 'Logical_Router',
      key: CLUSTER_ROUTER,
      columns: {
        name: CLUSTER_ROUTER,
        external_ids: ownedExternalIds('Logical_Router', CLUSTER_ROUTER, owner, {
          [CLUSTER_ROUTER_MARK_KEY]: 'yes',
        }),
      },
    },
    {
      table: 'Logical_Switch',
      key: JOIN_SWITCH,
      columns: { name: JOIN_SWITCH, external_ids: ownedExternalIds('Logical_Switch', JOIN_SWITCH, owner) },
    },
    {
      table: 'Logical_Router_Port',
      key: rtoj,
      columns: {
        name: rtoj,
        mac: macFromIp(routerCidrs[0]!),
        networks: routerCidrs,
        external_ids: ownedExternalIds('Logical_Router_Port', rtoj, owner),
      },
      parents: [parent('Logical_Router', CLUSTER_ROUTER, 'ports')],
    },
    {
      table: 'Logical_Switch_Port',
      key: jtor,
      columns: routerTypeSwitchPort(jtor, rtoj, ownedExternalIds('Logical_Switch_Port', jtor, owner)),
      parents: [parent('Logical_Switch', JOIN_SWITCH, 'ports')],
    },
    ...[CLUSTER_LB_GROUP, CLUSTER_SWITCH_LB_GROUP, CLUSTER_ROUTER_LB_GROUP].map((name): DesiredRow => ({
      table: 'Load_Balancer_Group',
      key: name,
      columns: { name },
    })),
  ];
}
