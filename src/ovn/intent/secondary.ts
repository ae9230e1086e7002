/**
 * Intent for secondary OVN networks (NADs with `"type": "ovn-k8s-cni-overlay"`), ovn-kubernetes
 * multi-homing: plain network, node and attachment records in, desired rows and the pod's
 * `k8s.ovn.org/pod-networks` entry out.
 *
 * - layer3: a router `<prefix>ovn_cluster_router` and, per node, a switch `<prefix><node>` on the
 *   node's host subnet (carved from `subnets` like 10.245.0.0/16/24) behind `rtos-<prefix><node>`.
 * - layer2: one switch `<prefix>ovn_layer2_switch` across all nodes; `subnets` optional.
 * - localnet: a switch `<prefix>ovn_localnet_switch` whose localnet port `<prefix>ovn_localnet_port`
 *   bridges it to a physical network (the node's ovn-bridge-mappings name it).
 *
 * Secondary layer3 and layer2 networks are east-west only, as in ovn-k: no gateway router, no join
 * switch, no NAT, no load balancers. Nothing routes between a secondary network and the default
 * network, which is what keeps them isolated.
 */
import {
  type ClusterSubnet,
  type Cidr,
  type IpAddress,
  type IpRange,
  cidrContains,
  cidrContainsCidr,
  clipRange,
  formatCidr,
  formatClusterSubnet,
  formatIpRange,
  normalizeRanges,
  parseCidr as parseIpamCidr,
  parseClusterSubnet,
  parseIpRange,
  parseIpWithPrefix,
} from '../../ipam/cidr.js';
import {
  DEFAULT_NETWORK,
  EXT_SWITCH_PREFIX,
  GATEWAY_ROUTER_PREFIX,
  NAD_KEY,
  NAMESPACE_KEY,
  NETWORK_KEY,
  POD_MARK_KEY,
  TOPOLOGY_KEY,
  networkPrefix,
  type OwnerRef,
} from '../names.js';
import { hostCidr, hostIp, ipFamily, ipOf, macFromIp, parseCidr } from './addr.js';
import { routerTypeSwitchPort } from './cluster.js';
import { ownedExternalIds, parent, type DesiredRow, type OwnedRows } from './desired.js';
import {
  NETWORK_ROLE_KEY,
  attachmentOwner,
  attachmentPort,
  layer2Switch,
  localnetNetworkPort,
  localnetSwitch,
  networkNodeSwitch,
  networkOwner,
  networkRouter,
  networkRouterToSwitchPort,
  networkSwitchFor,
  networkSwitchToRouterPort,
  type SecondaryTopology,
} from './secondary-names.js';

export * from './secondary-names.js';

export class SecondaryIntentError extends Error {
  override name = 'SecondaryIntentError';
}

/**
 * A secondary network as its NAD config defines it. Shaped so that src/multinet's parsed config
 * (OvnNetworkConfig) can be passed as it is; plain strings are accepted too.
 */
export interface SecondaryNetworkInfo {
  /** the network name (config `name`), shared by every NAD of the network */
  name: string;
  topology: SecondaryTopology;
  /**
   * layer3: cluster subnets with host prefix (`10.245.0.0/16/24`); layer2/localnet: plain CIDRs,
   * possibly none (an L2-only network: port security on the MAC only)
   */
  subnets: readonly (string | ClusterSubnet)[];
  /** CIDRs or single IPs never handed out; shown to northd as `exclude_ips` */
  excludeSubnets?: readonly string[];
  mtu?: number;
  /** default `secondary`; only the role marker differs for `primary` (no primary-UDN gateway is built) */
  role?: 'primary' | 'secondary';
  /** localnet: VLAN of the physical network (the localnet port's `tag_request`) */
  vlanID?: number;
  /** localnet: ovn-bridge-mappings name of the physical network; default the network name */
  physicalNetworkName?: string;
}

/** A node's part of a layer3 network: its host subnets in that network (one per family). */
export interface SecondaryNodeInfo {
  name: string;
  /** e.g. ["10.245.1.0/24"]; allocated per node and network by the controller (HostSubnetAllocator) */
  subnets: string[];
}

/** One pod attached to one NAD of the network. */
export interface PodAttachmentInfo {
  namespace: string;
  name: string;
  /** pod UID, for options:iface-id-ver */
  uid?: string;
  node: string;
  /** `<ns>/<nad>` of the NAD the pod's selection names */
  nad: string;
  /** allocated addresses `ip/len`; empty on a network without subnets */
  ips: string[];
  /** required when there are no IPs; default derived from the first IP */
  mac?: string;
  /**
   * gateways of the selection element's `default-route`: only these become `gateway_ips` (the
   * CNI turns gateway_ips into default routes, which a secondary network must not take by default)
   */
  defaultRoute?: string[];
}

// ---- subnets ----------------------------------------------------------------------------------

interface NetworkSubnet {
  cidr: Cidr;
  /** layer3: per-node host prefix; layer2/localnet: the CIDR's own length */
  hostPrefixLength: number;
}

function networkSubnets(net: SecondaryNetworkInfo): NetworkSubnet[] {
  return net.subnets.map((s) => {
    if (typeof s !== 'string') return s;
    try {
      if (net.topology === 'layer3') return parseClusterSubnet(s);
      const cidr = parseIpamCidr(s);
      return { cidr, hostPrefixLength: cidr.prefixLength };
    } catch (err) {
      throw new SecondaryIntentError(`network ${net.name}: subnet ${s}: ${(err as Error).message}`);
    }
  });
}

/** The network's subnets as text: `cidr/hostPrefix` for layer3, plain CIDRs otherwise. */
export const networkSubnetTexts = (net: SecondaryNetworkInfo): string[] =>
  networkSubnets(net).map((s) => (net.topology === 'layer3' ? formatClusterSubnet(s) : formatCidr(s.cidr)));

/** The network's CIDRs without host prefix (the destinations of layer3 pod routes). */
export const networkCidrs = (net: SecondaryNetworkInfo): string[] =>
  networkSubnets(net).map((s) => formatCidr(s.cidr));

/** `exclude_ips` of a switch on `subnet`: the given addresses plus excludeSubnets, clipped, as OVN ranges. */
function excludeIps(net: SecondaryNetworkInfo, subnet: Cidr, always: readonly string[]): string | undefined {
  const ranges: IpRange[] = [];
  for (const e of [...always, ...(net.excludeSubnets ?? [])]) {
    let r: IpRange;
    try {
      r = parseIpRange(e);
    } catch (err) {
      throw new SecondaryIntentError(
        `network ${net.name}: excludeSubnets entry ${e}: ${(err as Error).message}`,
      );
    }
    const clipped = clipRange(r, subnet);
    if (clipped) ranges.push(clipped);
  }
  if (ranges.length === 0) return undefined;
  // OVN syntax: whitespace-separated IPs and `a..b` ranges
  return normalizeRanges(ranges)
    .map((x) => formatIpRange(x, 'kube-ovn'))
    .join(' ');
}

/** other_config of a switch on these subnets: `subnet` + `exclude_ips` (IPv4), `ipv6_prefix` (IPv6). */
function switchOtherConfig(
  net: SecondaryNetworkInfo,
  subnets: readonly Cidr[],
  alwaysExcluded: (v4: Cidr) => string[],
): Record<string, string> {
  const cfg: Record<string, string> = {};
  const v4 = subnets.find((c) => c.family === 4);
  const v6 = subnets.find((c) => c.family === 6);
  if (v4) {
    cfg.subnet = formatCidr(v4);
    const ex = excludeIps(net, v4, alwaysExcluded(v4));
    if (ex) cfg.exclude_ips = ex;
  }
  if (v6) cfg.ipv6_prefix = parseCidr(formatCidr(v6)).network;
  return cfg;
}

/**
 * Default-network names that are `<word>_<node>`: a network whose prefix is one of these would name
 * its layer3 switches like the gateway routers or external switches of the default network.
 */
const RESERVED_PREFIXES: ReadonlySet<string> = new Set([GATEWAY_ROUTER_PREFIX, EXT_SWITCH_PREFIX]);

/** Rejects names whose objects could be mistaken for the default network's. */
export function checkNetworkName(name: string): void {
  if (name === '' || name === DEFAULT_NETWORK)
    throw new SecondaryIntentError(`"${name}" cannot name a secondary network`);
  if (RESERVED_PREFIXES.has(networkPrefix(name)))
    throw new SecondaryIntentError(
      `network ${name}: its object prefix ${networkPrefix(name)} is the default network's`,
    );
}

// ---- rows of the network ----------------------------------------------------------------------

/** external_ids every object of the network carries (ovn-k GenerateExternalIDsForSwitchOrRouter). */
export const networkExternalIds = (net: SecondaryNetworkInfo): Record<string, string> => ({
  [NETWORK_KEY]: net.name,
  [TOPOLOGY_KEY]: net.topology,
  [NETWORK_ROLE_KEY]: net.role ?? 'secondary',
});

function checkNodeSubnets(
  net: SecondaryNetworkInfo,
  node: SecondaryNodeInfo,
  subnets: NetworkSubnet[],
): Cidr[] {
  return node.subnets.map((text) => {
    let c: Cidr;
    try {
      c = parseIpamCidr(text);
    } catch (err) {
      throw new SecondaryIntentError(`network ${net.name} node ${node.name}: ${(err as Error).message}`);
    }
    if (!subnets.some((s) => s.hostPrefixLength === c.prefixLength && cidrContainsCidr(s.cidr, c)))
      throw new SecondaryIntentError(
        `network ${net.name} node ${node.name}: host subnet ${text} is not a /host-prefix of ${networkSubnetTexts(net).join(',')}`,
      );
    return c;
  });
}

function layer3Rows(
  net: SecondaryNetworkInfo,
  nodes: readonly SecondaryNodeInfo[],
  owner: OwnerRef,
): DesiredRow[] {
  const subnets = networkSubnets(net);
  if (subnets.length === 0) throw new SecondaryIntentError(`layer3 network ${net.name} has no subnets`);
  const ids = networkExternalIds(net);
  const router = networkRouter(net.name);
  const rows: DesiredRow[] = [
    {
      table: 'Logical_Router',
      key: router,
      columns: { name: router, external_ids: ownedExternalIds('Logical_Router', router, owner, ids) },
    },
  ];
  for (const node of nodes) {
    const hostSubnets = checkNodeSubnets(net, node, subnets);
    if (hostSubnets.length === 0) continue; // not allocated yet: the node joins once it has a subnet
    const sw = networkNodeSwitch(net.name, node.name);
    const rtos = networkRouterToSwitchPort(net.name, node.name);
    const stor = networkSwitchToRouterPort(net.name, node.name);
    const gw = node.subnets.map((s) => hostCidr(s, 1));
    // ovn-k: the port MAC comes from the IPv4 gateway when there is one
    const macSource = gw.find((g) => ipFamily(g) === 4) ?? gw[0]!;
    rows.push(
      {
        table: 'Logical_Switch',
        key: sw,
        columns: {
          name: sw,
          other_config: switchOtherConfig(net, hostSubnets, (v4) => [hostIp(formatCidr(v4), 2)]),
          external_ids: ownedExternalIds('Logical_Switch', sw, owner, ids),
        },
      },
      {
        table: 'Logical_Router_Port',
        key: rtos,
        columns: {
          name: rtos,
          mac: macFromIp(macSource),
          networks: gw,
          external_ids: ownedExternalIds('Logical_Router_Port', rtos, owner, ids),
        },
        parents: [parent('Logical_Router', router, 'ports')],
      },
      {
        table: 'Logical_Switch_Port',
        key: stor,
        columns: routerTypeSwitchPort(stor, rtos, ownedExternalIds('Logical_Switch_Port', stor, owner, ids)),
        parents: [parent('Logical_Switch', sw, 'ports')],
      },
    );
  }
  return rows;
}

function flatSwitchRow(net: SecondaryNetworkInfo, name: string, owner: OwnerRef): DesiredRow {
  return {
    table: 'Logical_Switch',
    key: name,
    columns: {
      name,
      other_config: switchOtherConfig(
        net,
        networkSubnets(net).map((s) => s.cidr),
        () => [],
      ),
      external_ids: ownedExternalIds('Logical_Switch', name, owner, networkExternalIds(net)),
    },
  };
}

function localnetRows(net: SecondaryNetworkInfo, owner: OwnerRef): DesiredRow[] {
  const sw = localnetSwitch(net.name);
  const port = localnetNetworkPort(net.name);
  return [
    flatSwitchRow(net, sw, owner),
    {
      table: 'Logical_Switch_Port',
      key: port,
      columns: {
        name: port,
        type: 'localnet',
        // traffic to MACs OVN does not know goes out to the physical network
        addresses: ['unknown'],
        options: { network_name: net.physicalNetworkName ?? net.name },
        // northd copies tag_request of a localnet port to `tag`; null clears a removed VLAN
        tag_request: net.vlanID ?? null,
        external_ids: ownedExternalIds('Logical_Switch_Port', port, owner, networkExternalIds(net)),
      },
      parents: [parent('Logical_Switch', sw, 'ports')],
    },
  ];
}

/**
 * The network's shared rows, owned by networkOwner(net.name). For layer3, `nodes` are the nodes with
 * their host subnets in this network; a node without subnets gets nothing yet. Other topologies
 * ignore `nodes`.
 */
export function secondaryNetworkRows(
  net: SecondaryNetworkInfo,
  nodes: readonly SecondaryNodeInfo[] = [],
): DesiredRow[] {
  checkNetworkName(net.name);
  const owner = networkOwner(net.name);
  switch (net.topology) {
    case 'layer3':
      return layer3Rows(net, nodes, owner);
    case 'layer2':
      return [flatSwitchRow(net, layer2Switch(net.name), owner)];
    case 'localnet':
      return localnetRows(net, owner);
    default:
      throw new SecondaryIntentError(`network ${String(net.name)}: unknown topology ${String(net.topology)}`);
  }
}

// ---- pod attachments --------------------------------------------------------------------------

const who = (net: SecondaryNetworkInfo, att: PodAttachmentInfo): string =>
  `pod ${att.namespace}/${att.name} on network ${net.name} (${att.nad})`;

export function attachmentMac(net: SecondaryNetworkInfo, att: PodAttachmentInfo): string {
  if (att.mac) return att.mac.toLowerCase();
  if (att.ips.length === 0) throw new SecondaryIntentError(`${who(net, att)} has neither a MAC nor an IP`);
  return macFromIp(att.ips[0]!);
}

function ipWithPrefix(net: SecondaryNetworkInfo, att: PodAttachmentInfo, ip: string): IpAddress {
  try {
    return parseIpWithPrefix(ip).address;
  } catch (err) {
    throw new SecondaryIntentError(`${who(net, att)}: ${ip} is not IP/LEN: ${(err as Error).message}`);
  }
}

/** Every IP must lie in one of the network's subnets (a wrong IP would be unreachable and look fine). */
function checkAttachmentIps(net: SecondaryNetworkInfo, att: PodAttachmentInfo): void {
  const subnets = networkSubnets(net);
  if (subnets.length === 0 && att.ips.length > 0 && net.topology === 'layer3')
    throw new SecondaryIntentError(`${who(net, att)}: layer3 network without subnets`);
  for (const ip of att.ips) {
    const addr = ipWithPrefix(net, att, ip);
    // without subnets (layer2/localnet) static IPs of any range are the user's choice
    if (subnets.length > 0 && !subnets.some((s) => cidrContains(s.cidr, addr)))
      throw new SecondaryIntentError(
        `${who(net, att)}: ${ip} is outside ${networkSubnetTexts(net).join(',')}`,
      );
  }
}

/** The `addresses`/`port_security` entry: "MAC IP..." or, on an L2-only network, just the MAC. */
export const attachmentAddress = (net: SecondaryNetworkInfo, att: PodAttachmentInfo): string =>
  [attachmentMac(net, att), ...att.ips.map(ipOf)].join(' ');

/** The pod's port on the network, owned by attachmentOwner(pod, NAD). */
export function podAttachmentRows(net: SecondaryNetworkInfo, att: PodAttachmentInfo): DesiredRow[] {
  checkAttachmentIps(net, att);
  const name = attachmentPort(att.nad, att.namespace, att.name);
  const address = attachmentAddress(net, att);
  const options: Record<string, string> = { 'requested-chassis': att.node };
  if (att.uid) options['iface-id-ver'] = att.uid;
  const owner = attachmentOwner(att.namespace, att.name, att.nad);
  return [
    {
      table: 'Logical_Switch_Port',
      key: name,
      columns: {
        name,
        addresses: [address],
        port_security: [address],
        options,
        external_ids: ownedExternalIds('Logical_Switch_Port', name, owner, {
          [NAMESPACE_KEY]: att.namespace,
          [POD_MARK_KEY]: 'true',
          ...networkExternalIds(net),
          [NAD_KEY]: att.nad,
        }),
      },
      parents: [parent('Logical_Switch', networkSwitchFor(net.name, net.topology, att.node), 'ports')],
    },
  ];
}

/** One network's whole intent: its shared rows and one owner per pod attachment. */
export function secondaryNetworkIntent(
  net: SecondaryNetworkInfo,
  nodes: readonly SecondaryNodeInfo[],
  attachments: readonly PodAttachmentInfo[],
): OwnedRows[] {
  return [
    { owner: networkOwner(net.name), rows: secondaryNetworkRows(net, nodes) },
    ...attachments.map((a) => ({
      owner: attachmentOwner(a.namespace, a.name, a.nad),
      rows: podAttachmentRows(net, a),
    })),
  ];
}

// ---- the pod annotation -----------------------------------------------------------------------

export interface PodRouteEntry {
  dest: string;
  nextHop: string;
}

/** One value of `k8s.ovn.org/pod-networks`, in ovn-k's JSON field names (pkg/util/pod_annotation.go). */
export interface PodNetworkEntry {
  ip_addresses: string[];
  mac_address: string;
  gateway_ips?: string[];
  routes?: PodRouteEntry[];
  /** deprecated single-value fields, kept for older readers */
  ip_address?: string;
  gateway_ip?: string;
  role: 'primary' | 'secondary';
}

/**
 * The attachment's entry of `k8s.ovn.org/pod-networks`, keyed `<ns>/<nad>`. On layer3 every pod IP
 * gets a route to each of the network's CIDRs of its family via its node switch's gateway (.1 of
 * `nodeSubnets`, the node's host subnets in this network); layer2 and localnet subnets are directly
 * connected and need none. `gateway_ips` only carries an explicit `default-route` request.
 */
export function podAttachmentAnnotation(
  net: SecondaryNetworkInfo,
  att: PodAttachmentInfo,
  nodeSubnets: readonly string[] = [],
): { key: string; entry: PodNetworkEntry } {
  checkAttachmentIps(net, att);
  const entry: PodNetworkEntry = {
    ip_addresses: [...att.ips],
    mac_address: attachmentMac(net, att),
    role: net.role ?? 'secondary',
  };
  if (net.topology === 'layer3') {
    const routes: PodRouteEntry[] = [];
    for (const ip of att.ips) {
      const family = ipFamily(ip);
      const nodeSubnet = nodeSubnets.find((s) => parseCidr(s).family === family);
      if (!nodeSubnet)
        throw new SecondaryIntentError(
          `${who(net, att)}: node ${att.node} has no IPv${family} subnet in the network`,
        );
      if (!cidrContains(parseIpamCidr(nodeSubnet, { allowHostBits: true }), parseIpWithPrefix(ip).address))
        throw new SecondaryIntentError(
          `${who(net, att)}: ${ip} is outside node ${att.node}'s subnet ${nodeSubnet}`,
        );
      const nextHop = hostIp(nodeSubnet, 1);
      for (const dest of networkCidrs(net)) {
        if (parseCidr(dest).family === family) routes.push({ dest, nextHop });
      }
    }
    if (routes.length > 0) entry.routes = routes;
  }
  if (att.defaultRoute && att.defaultRoute.length > 0) entry.gateway_ips = att.defaultRoute.map(ipOf);
  if (entry.ip_addresses[0]) entry.ip_address = entry.ip_addresses[0];
  if (entry.gateway_ips?.[0]) entry.gateway_ip = entry.gateway_ips[0];
  return { key: att.nad, entry };
}
