/**
 * What NB shows of a secondary network's config: does the network's row set (owner `Network`
 * `<name>`) agree with a given config? Used to keep a network with the config it was built with
 * after a restart, when several NADs name the network with different configs (src/multinet's
 * resolveClaims).
 *
 * How: the config's own rows are generated again (secondaryNetworkRows) for the nodes NB has, and
 * every row of the network in NB must have a counterpart there with the same config-bearing
 * columns: the topology and role in external_ids, a switch's other_config (subnet, exclude_ips,
 * ipv6_prefix), a layer3 router port's networks (the node's gateway on its host subnet, which must
 * fit the config's cluster subnets and host prefix), and a port's type, options (localnet
 * network_name) and tag_request (VLAN). The nodes of a layer3 network come from its router ports
 * `rtos-<prefix><node>`. Generating instead of parsing keeps this in step with the intent.
 *
 * Not visible in NB: mtu and allowPersistentIPs, and a layer3 cluster subnet is only seen through
 * the node subnets carved from it; configs differing only there all agree with the same rows.
 */
import { IpamError, formatCidr, parseCidr } from '../ipam/index.js';
import {
  NETWORK_ROLE_KEY,
  SecondaryIntentError,
  networkRouterToSwitchPort,
  secondaryNetworkRows,
  type SecondaryNetworkInfo,
  type SecondaryNodeInfo,
} from '../ovn/intent/secondary.js';
import type { DesiredRow } from '../ovn/intent/desired.js';
import { OWNER_KEY, TOPOLOGY_KEY, ownerOf } from '../ovn/names.js';
import type { NbView } from '../ovn/reconcile/view.js';
import type { Row, Value } from '../ovsdb/value.js';

/** The tables a network's shared rows live in. */
const NETWORK_TABLES = ['Logical_Router', 'Logical_Switch', 'Logical_Router_Port', 'Logical_Switch_Port'];

/** The config-bearing columns of each table (external_ids keys apart). */
const CONFIG_COLUMNS: Record<string, readonly string[]> = {
  Logical_Router: [],
  Logical_Switch: ['other_config'],
  Logical_Router_Port: ['networks'],
  Logical_Switch_Port: ['type', 'options', 'tag_request'],
};
/** other_config keys the intent sets from the config (others, if any, are not ours to judge) */
const SWITCH_CONFIG_KEYS = ['subnet', 'exclude_ips', 'ipv6_prefix'];
const ID_CONFIG_KEYS = [TOPOLOGY_KEY, NETWORK_ROLE_KEY];

/** The rows NB holds for network `name` (owner `Network` `<name>`), by table. */
export function networkRowsInNb(view: NbView, name: string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const table of NETWORK_TABLES) {
    const rows = view
      .byExternalId(table, OWNER_KEY, name)
      .filter((r) => ownerOf(r.external_ids)?.type === 'Network');
    if (rows.length > 0) out.set(table, rows);
  }
  return out;
}

const asRecord = (v: Value | undefined): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) ? v : {};

/** A value in a form where equal config means equal text: empty is null, sets are sorted. */
function canonical(v: Value | undefined, keys?: readonly string[]): string {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return 'null';
  if (Array.isArray(v)) return JSON.stringify(v.map(String).sort());
  if (typeof v === 'object') {
    const rec = asRecord(v);
    const ks = (keys ?? Object.keys(rec)).filter((k) => rec[k] !== undefined).sort();
    return JSON.stringify(ks.map((k) => [k, String(rec[k])]));
  }
  return JSON.stringify(String(v));
}

function sameConfigColumns(table: string, nb: Row, want: DesiredRow): boolean {
  const ids = canonical(nb.external_ids, ID_CONFIG_KEYS);
  if (ids !== canonical(want.columns.external_ids, ID_CONFIG_KEYS)) return false;
  for (const col of CONFIG_COLUMNS[table] ?? []) {
    const keys =
      col === 'other_config'
        ? [...new Set([...SWITCH_CONFIG_KEYS, ...Object.keys(asRecord(want.columns[col]))])]
        : undefined;
    if (canonical(nb[col], keys) !== canonical(want.columns[col], keys)) return false;
  }
  return true;
}

/** A layer3 network's nodes and host subnets, read from its router ports' gateway addresses. */
function layer3NodesInNb(net: SecondaryNetworkInfo, rows: Map<string, Row[]>): SecondaryNodeInfo[] {
  const portPrefix = networkRouterToSwitchPort(net.name, '');
  const nodes: SecondaryNodeInfo[] = [];
  for (const lrp of rows.get('Logical_Router_Port') ?? []) {
    const name = typeof lrp.name === 'string' ? lrp.name : '';
    if (!name.startsWith(portPrefix)) continue;
    const networks = Array.isArray(lrp.networks) ? lrp.networks.map(String) : [];
    // the gateway `10.245.1.1/24` sits on the node's host subnet `10.245.1.0/24`
    const subnets = networks.map((gw) => formatCidr(parseCidr(gw, { allowHostBits: true })));
    nodes.push({ name: name.slice(portPrefix.length), subnets });
  }
  return nodes;
}

/**
 * True when every row NB holds for the network agrees with `net`; false when some row does not,
 * or when NB holds none (nothing is built).
 */
export function nbAgreesWith(view: NbView, net: SecondaryNetworkInfo): boolean {
  const rows = networkRowsInNb(view, net.name);
  if (rows.size === 0) return false;
  let wanted: DesiredRow[];
  try {
    wanted = secondaryNetworkRows(net, net.topology === 'layer3' ? layer3NodesInNb(net, rows) : []);
  } catch (err) {
    // e.g. a node subnet in NB that is not a host subnet of this config's cluster subnets
    if (err instanceof SecondaryIntentError || err instanceof IpamError) return false;
    throw err;
  }
  const byKey = new Map(wanted.map((w) => [`${w.table}\u0000${w.key}`, w]));
  for (const [table, tableRows] of rows) {
    for (const row of tableRows) {
      const want = typeof row.name === 'string' ? byKey.get(`${table}\u0000${row.name}`) : undefined;
      if (!want || !sameConfigColumns(table, row, want)) return false;
    }
  }
  return true;
}
