/**
 * A node's piece of the overlay: its switch, the router port pair to the cluster router and the
 * management port. The cluster router needs no static route for the node subnet: the subnet is
 * directly attached through rtos-<node>.
 */
import {
  CLUSTER_LB_GROUP,
  CLUSTER_ROUTER,
  CLUSTER_SWITCH_LB_GROUP,
  mgmtPort,
  nodeOwner,
  nodeSwitch,
  routerToSwitchPort,
  switchToRouterPort,
} from '../names.js';
import { hostCidr, hostIp, macFromIp, parseCidr } from './addr.js';
import { routerTypeSwitchPort } from './cluster.js';
import { ownedExternalIds, parent, ref, type DesiredRow } from './desired.js';
import type { NodeInfo } from './inputs.js';

/** The node's gateway addresses (.1 of each subnet, `ip/len`): rtos-<node> networks and the pods' gateway. */
export const nodeGatewayCidrs = (node: NodeInfo): string[] => node.subnets.map((s) => hostCidr(s, 1));
/** The management port's addresses (.2 of each subnet, no length). */
export const nodeMgmtIps = (node: NodeInfo): string[] => node.subnets.map((s) => hostIp(s, 2));
export const nodeMgmtMac = (node: NodeInfo): string => node.mgmtMac ?? macFromIp(nodeMgmtIps(node)[0]!);

/** Logical_Switch other_config: northd IPAM hints (we allocate ourselves; exclude_ips keeps .2 out of any dynamic use). */
function switchOtherConfig(node: NodeInfo): Record<string, string> {
  const cfg: Record<string, string> = {};
  const v4 = node.subnets.find((s) => parseCidr(s).family === 4);
  const v6 = node.subnets.find((s) => parseCidr(s).family === 6);
  if (v4) {
    cfg.subnet = v4;
    cfg.exclude_ips = hostIp(v4, 2);
  }
  if (v6) cfg.ipv6_prefix = parseCidr(v6).network;
  return cfg;
}

export function nodeRows(node: NodeInfo): DesiredRow[] {
  if (node.subnets.length === 0) return [];
  const owner = nodeOwner(node.name);
  const sw = nodeSwitch(node.name);
  const rtos = routerToSwitchPort(node.name);
  const stor = switchToRouterPort(node.name);
  const mgmt = mgmtPort(node.name);
  const gw = nodeGatewayCidrs(node);
  return [
    {
      table: 'Logical_Switch',
      key: sw,
      columns: {
        name: sw,
        other_config: switchOtherConfig(node),
        external_ids: ownedExternalIds('Logical_Switch', sw, owner),
      },
      refs: {
        load_balancer_group: [
          ref('Load_Balancer_Group', CLUSTER_LB_GROUP),
          ref('Load_Balancer_Group', CLUSTER_SWITCH_LB_GROUP),
        ],
      },
    },
    {
      table: 'Logical_Router_Port',
      key: rtos,
      columns: {
        name: rtos,
        mac: macFromIp(gw[0]!),
        networks: gw,
        external_ids: ownedExternalIds('Logical_Router_Port', rtos, owner),
      },
      parents: [parent('Logical_Router', CLUSTER_ROUTER, 'ports')],
    },
    {
      table: 'Logical_Switch_Port',
      key: stor,
      columns: routerTypeSwitchPort(stor, rtos, ownedExternalIds('Logical_Switch_Port', stor, owner)),
      parents: [parent('Logical_Switch', sw, 'ports')],
    },
    {
      table: 'Logical_Switch_Port',
      key: mgmt,
      columns: {
        name: mgmt,
        addresses: [[nodeMgmtMac(node), ...nodeMgmtIps(node)].join(' ')],
        external_ids: ownedExternalIds('Logical_Switch_Port', mgmt, owner),
      },
      parents: [parent('Logical_Switch', sw, 'ports')],
    },
  ];
}
