/**
 * nics-to-bridge: turns NIC `IF` into a port of a new OVS bridge `br<IF>` and moves the NIC's IP
 * configuration to the bridge's internal interface, so the host keeps its addresses and routes
 * while OVS owns the wire (the original `ovn-k8s-util nics-to-bridge`).
 *
 * The bridge keeps the NIC's MAC (other_config:hwaddr), carries external_ids bridge-id=br<IF>,
 * and uses fail_mode standalone (it must forward like a plain switch before any controller).
 * Safe to run twice: an existing bridge and port are left as they are, and with no addresses
 * left on the NIC there is nothing to move.
 */
import { NodeConfigError } from './errors.js';
import { IpTool, type RouteInfo } from './ip.js';
import { OvsConfigDb } from './ovs-config.js';

export interface NicsToBridgeOptions {
  ovsAddress: string;
  /** datapath of the new bridge; default: br-int's if it exists, else the OVS default */
  datapathType?: string;
  log?: (line: string) => void;
}

export interface NicBridgeResult {
  nic: string;
  bridge: string;
  mac: string;
  movedAddresses: string[];
  movedRoutes: string[];
  /** OVSDB write transactions sent for this NIC */
  ovsWrites: number;
}

export const bridgeForNic = (nic: string): string => `br${nic}`;

/** Linux limits interface names to 15 bytes; `br` + the NIC name must fit. */
const MAX_IFNAME = 15;

function routeArgs(r: RouteInfo, dev: string): string[] {
  const args = [r.dst];
  if (r.gateway) args.push('via', r.gateway);
  args.push('dev', dev);
  if (r.metric !== undefined) args.push('metric', String(r.metric));
  if (r.prefsrc) args.push('src', r.prefsrc);
  if (r.protocol && r.protocol !== 'boot') args.push('proto', r.protocol);
  return args;
}

export async function nicToBridge(
  nic: string,
  opts: NicsToBridgeOptions,
  db: OvsConfigDb,
): Promise<NicBridgeResult> {
  const bridge = bridgeForNic(nic);
  if (bridge.length > MAX_IFNAME)
    throw new NodeConfigError(
      `NIC name ${nic} is too long: bridge ${bridge} would exceed ${MAX_IFNAME} characters`,
    );
  const ip = new IpTool();
  const log = opts.log ?? (() => undefined);
  const writesBefore = db.writes;
  const link = await ip.link(nic);
  if (!link) throw new NodeConfigError(`network interface ${nic} does not exist`);
  const existing = await db.bridge(bridge);
  // The MAC to keep: the bridge's recorded hwaddr on a re-run, else the NIC's own.
  const mac = (existing?.otherConfig.hwaddr ?? link.address ?? '').toLowerCase();
  if (!mac) throw new NodeConfigError(`network interface ${nic} has no MAC address`);
  const datapathType = opts.datapathType ?? (await db.bridge('br-int'))?.datapathType;

  await db.ensureBridge(bridge, {
    failMode: 'standalone',
    otherConfig: { hwaddr: mac },
    externalIds: { 'bridge-id': bridge },
    ...(datapathType !== undefined && !existing ? { datapathType } : {}),
  });
  await db.ensurePort(bridge, nic);

  // What to move, read before anything changes: the NIC's addresses and its non-connected routes
  // (the kernel re-creates the connected ones when the address lands on the bridge).
  const addrs = await ip.addrs(nic);
  const routes = (await ip.routes(nic)).filter((r) => r.protocol !== 'kernel');
  const brLink = await ip.waitLink(bridge, 10_000);
  if (!brLink.flags.includes('UP')) await ip.linkUp(bridge);
  if (!link.flags.includes('UP')) await ip.linkUp(nic);
  const movedAddresses: string[] = [];
  for (const a of addrs) {
    const cidr = `${a.local}/${a.prefixlen}`;
    await ip.addrReplace(bridge, cidr);
    await ip.addrDel(nic, cidr);
    movedAddresses.push(cidr);
  }
  const movedRoutes: string[] = [];
  for (const r of routes) {
    const args = routeArgs(r, bridge);
    await ip.ip(r.family === 6 ? '-6' : '-4', 'route', 'replace', ...args);
    movedRoutes.push(args.join(' '));
  }
  if (movedAddresses.length > 0 || movedRoutes.length > 0)
    log(
      `${nic}: moved ${movedAddresses.join(', ') || 'no addresses'} and ${movedRoutes.length} route(s) to ${bridge}`,
    );
  return { nic, bridge, mac, movedAddresses, movedRoutes, ovsWrites: db.writes - writesBefore };
}

export async function nicsToBridge(nics: string[], opts: NicsToBridgeOptions): Promise<NicBridgeResult[]> {
  if (nics.length === 0) throw new NodeConfigError('name at least one network interface, e.g. eth0');
  const db = await OvsConfigDb.connect(opts.ovsAddress);
  try {
    const out: NicBridgeResult[] = [];
    for (const nic of nics) out.push(await nicToBridge(nic, opts, db));
    return out;
  } finally {
    db.close();
  }
}
