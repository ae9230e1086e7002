/**
 * minion-init: prepares one node for OVN networking, all through the node's Open_vSwitch
 * database (our OVSDB client) plus `ip` for the host side.
 *
 * 1. Open_vSwitch external_ids: ovn-remote, ovn-nb, ovn-encap-ip, ovn-encap-type, system-id,
 *    hostname, ovn-bridge-datapath-type, k8s-api-server, k8s-api-token, k8s-ca-certificate
 *    (each only when its source is given; system-id is kept when present, else taken from the
 *    system-id file, else generated once and persisted). Other keys are never touched.
 * 2. br-int (datapath_type from --datapath-type, fail_mode secure) when missing.
 * 3. The management port: OVS internal port `ovn-k8s-mp0` (the modern ovn-kubernetes name; the
 *    2017 Python code used `k8s-<node[:11]>`, which breaks on long node names) with
 *    external_ids iface-id=k8s-<node>, MAC 0a:58:<.2 octets> (what the watcher puts on the LSP
 *    k8s-<node>), MTU; on the host its address .2/len and a route to every cluster subnet via .1.
 *    An explicit subnet (--minion-switch-subnet) is also published as the Node's
 *    k8s.ovn.org/node-subnets, which the watcher builds the node switch from.
 * 4. The CNI network config in the CNI conf dir and a launcher for the plugin in the CNI bin dir.
 *
 * Every step compares first and writes only what differs, so a second run changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJsonAnnotation, setAnnotations } from '../k8s/annotations.js';
import { httpStatusOf } from '../k8s/errors.js';
import { formatCidr, parseCidr, parseClusterSubnets, type Cidr } from '../ipam/cidr.js';
import { hostSubnetGatewayIp, hostSubnetManagementIp } from '../ipam/host-subnet.js';
import { macFromIp } from '../ipam/mac.js';
import { NodeConfigError, NodeTimeoutError } from './errors.js';
import { IpTool } from './ip.js';
import type { K8sSettings, NodeK8s } from './k8s-access.js';
import { OvsConfigDb, type StringMap } from './ovs-config.js';

export const INTEGRATION_BRIDGE = 'br-int';
/** OVS interface name of the management port (ovn-kubernetes' K8sMgmtIntfName). */
export const MGMT_PORT_INTERFACE = 'ovn-k8s-mp0';
export const NODE_SUBNETS_ANNOTATION = 'k8s.ovn.org/node-subnets';
export const CNI_CONF_FILE = '10-ovn-kubernetes.conf';
export const CNI_PLUGIN_NAME = 'ovn-k8s-cni-overlay';
export const CNI_NETWORK_NAME = 'ovn-kubernetes';
export const DEFAULT_MTU = 1400;

export type EncapType = 'geneve' | 'vxlan' | 'stt';
export type DatapathType = 'system' | 'netdev';

export interface MinionInitOptions {
  nodeName: string;
  /** cluster subnets, e.g. ['10.128.0.0/14/23'] (host prefix optional) */
  clusterSubnets: string[];
  /** the node's own subnet; when absent it is read from the Node's k8s.ovn.org/node-subnets */
  nodeSubnet?: string;
  ovsAddress: string;
  encapIp?: string;
  encapType?: EncapType;
  sbAddress?: string;
  nbAddress?: string;
  k8s?: K8sSettings;
  datapathType?: DatapathType;
  cniConfDir?: string;
  cniBinDir?: string;
  /** file that persists the generated system-id (read when OVS has none) */
  systemIdFile?: string;
  mtu?: number;
  /** how long to wait for the watcher to annotate the node's subnet (default 30 s) */
  subnetTimeoutMs?: number;
  /** the plugin's JavaScript entry the launcher runs (default: next to this build) */
  pluginEntry?: string;
  log?: (line: string) => void;
}

export interface MinionInitResult {
  systemId: string;
  nodeSubnets: string[];
  /** external_ids keys of the Open_vSwitch row that this run changed */
  changedExternalIds: string[];
  /** write transactions sent to the Open_vSwitch database */
  ovsWrites: number;
  /** host changes made (addresses, routes, files) */
  hostChanges: string[];
}

/** `k8s-ca-certificate` keeps PEM newlines as literal "\n" (the original's convention). */
const escapeCa = (pem: string): string => pem.trim().replace(/\r?\n/g, '\\n');

function validate(opts: MinionInitOptions): Cidr[] {
  if (!opts.nodeName) throw new NodeConfigError('--node-name is required');
  let cluster;
  try {
    cluster = parseClusterSubnets(opts.clusterSubnets);
  } catch (err) {
    throw new NodeConfigError(`--cluster-ip-subnet: ${(err as Error).message}`);
  }
  if (cluster.length === 0) throw new NodeConfigError('--cluster-ip-subnet is required (e.g. 10.128.0.0/14)');
  if (opts.nodeSubnet) {
    try {
      parseCidr(opts.nodeSubnet);
    } catch (err) {
      throw new NodeConfigError(`--minion-switch-subnet: ${(err as Error).message}`);
    }
  }
  if (opts.encapIp && !/^[0-9a-fA-F:.]+$/.test(opts.encapIp))
    throw new NodeConfigError(`--encap-ip ${opts.encapIp} is not an IP address`);
  return cluster.map((c) => c.cidr);
}

/** The node's subnets from the Node annotation, waiting a bounded time for the watcher to write it. */
export async function waitNodeSubnets(k8s: NodeK8s, node: string, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last = 'the Node does not exist';
  for (;;) {
    try {
      const obj = await k8s.nodes.get(node);
      const v = parseJsonAnnotation(obj, NODE_SUBNETS_ANNOTATION) as Record<string, unknown> | undefined;
      const def = v?.default;
      const list =
        typeof def === 'string' ? [def] : Array.isArray(def) ? def.filter((s) => typeof s === 'string') : [];
      if (list.length > 0) return list as string[];
      last = `annotation ${NODE_SUBNETS_ANNOTATION} has no "default" subnet yet`;
    } catch (err) {
      last = httpStatusOf(err) === 404 ? `Node ${node} does not exist` : (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new NodeTimeoutError(
        `no subnet for node ${node} after ${timeoutMs} ms (${last}); is the watcher running? or pass --minion-switch-subnet`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The `default` subnets recorded in a Node's k8s.ovn.org/node-subnets (string or list). */
function recordedSubnets(obj: Parameters<typeof parseJsonAnnotation>[0]): string[] {
  const v = parseJsonAnnotation(obj, NODE_SUBNETS_ANNOTATION) as Record<string, unknown> | undefined;
  const def = v?.default;
  const list = typeof def === 'string' ? [def] : Array.isArray(def) ? def : [];
  return list.filter((s): s is string => typeof s === 'string' && s !== '');
}

/**
 * Publishes an explicit node subnet (--minion-switch-subnet) as the Node's
 * k8s.ovn.org/node-subnets, in the watcher's format (a string for one subnet, a list for
 * several). Waits a bounded time for the Node to be registered. A different subnet already
 * recorded is an error: pods may hold addresses from it, so it is not silently replaced.
 */
export async function publishNodeSubnets(
  k8s: NodeK8s,
  node: string,
  subnets: string[],
  timeoutMs: number,
): Promise<'patched' | 'unchanged'> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let current;
    try {
      current = await k8s.nodes.get(node);
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
      if (Date.now() > deadline)
        throw new NodeTimeoutError(
          `Node ${node} does not exist in the Kubernetes API at ${k8s.server} after ${timeoutMs} ms; cannot record --minion-switch-subnet`,
        );
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const recorded = recordedSubnets(current).map((s) => {
      try {
        return formatCidr(parseCidr(s));
      } catch {
        return s;
      }
    });
    if (recorded.length > 0) {
      if (recorded.join(',') === subnets.join(',')) return 'unchanged';
      throw new NodeConfigError(
        `Node ${node} already has subnet ${recorded.join(',')} (${NODE_SUBNETS_ANNOTATION}); --minion-switch-subnet ${subnets.join(',')} disagrees`,
      );
    }
    const value = JSON.stringify({ default: subnets.length === 1 ? subnets[0] : subnets });
    const res = await setAnnotations(
      k8s.nodes,
      { name: node },
      { [NODE_SUBNETS_ANNOTATION]: value },
      { current },
    );
    if (res.status === 'not-found') continue;
    return res.status === 'patched' ? 'patched' : 'unchanged';
  }
}

/** Writes `content` to `path` unless it already holds exactly that; true when written. */
async function writeIfChanged(path: string, content: string, mode: number): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  return true;
}

export function defaultPluginEntry(): string {
  // dist/node/minion-init.js -> dist/cli/ovn-k8s-cni-overlay.js
  return fileURLToPath(new URL('../cli/ovn-k8s-cni-overlay.js', import.meta.url));
}

/** The CNI network configuration minion-init writes (read back by the plugin). */
export interface OvnCniNetConf {
  cniVersion: string;
  name: string;
  type: string;
  ovsAddress: string;
  bridge: string;
  mtu: number;
  datapathType?: DatapathType;
  kubeconfig?: string;
  k8sApiServer?: string;
  annotationTimeoutMs?: number;
}

export async function minionInit(opts: MinionInitOptions): Promise<MinionInitResult> {
  const clusterCidrs = validate(opts);
  const log = opts.log ?? (() => undefined);
  const mtu = opts.mtu ?? DEFAULT_MTU;
  const hostChanges: string[] = [];
  const db = await OvsConfigDb.connect(opts.ovsAddress);
  try {
    // 1. external_ids of the Open_vSwitch row
    const ovs = await db.openVswitch();
    let systemId: string | undefined = ovs.externalIds['system-id'];
    if (!systemId && opts.systemIdFile) {
      systemId = (await readFile(opts.systemIdFile, 'utf8').catch(() => '')).trim() || undefined;
    }
    systemId ??= randomUUID();
    const sysId: string = systemId;
    if (opts.systemIdFile && (await writeIfChanged(opts.systemIdFile, `${systemId}\n`, 0o644)))
      hostChanges.push(`wrote ${opts.systemIdFile}`);
    const desired: StringMap = {
      'system-id': sysId,
      hostname: opts.nodeName,
      'ovn-encap-type': opts.encapType ?? 'geneve',
    };
    if (opts.sbAddress) desired['ovn-remote'] = opts.sbAddress;
    if (opts.nbAddress) desired['ovn-nb'] = opts.nbAddress;
    if (opts.encapIp) desired['ovn-encap-ip'] = opts.encapIp;
    if (opts.datapathType) desired['ovn-bridge-datapath-type'] = opts.datapathType;
    if (opts.k8s?.server) desired['k8s-api-server'] = opts.k8s.server;
    if (opts.k8s?.token) desired['k8s-api-token'] = opts.k8s.token;
    if (opts.k8s?.caCert) {
      try {
        desired['k8s-ca-certificate'] = escapeCa(await readFile(opts.k8s.caCert, 'utf8'));
      } catch (err) {
        throw new NodeConfigError(`--k8s-cacert ${opts.k8s.caCert}: ${(err as Error).message}`);
      }
    }
    const changedExternalIds = await db.setOvsExternalIds(desired);
    if (changedExternalIds.length > 0) log(`Open_vSwitch external_ids set: ${changedExternalIds.join(', ')}`);
    const externalIds = { ...ovs.externalIds, ...desired };

    // 2. the integration bridge
    const brSpec = {
      failMode: 'secure' as const,
      // in-band control would add hidden flows to br-int; OVN programs it out of band
      otherConfig: { 'disable-in-band': 'true' },
      ...(opts.datapathType ? { datapathType: opts.datapathType } : {}),
    };
    if (await db.ensureBridge(INTEGRATION_BRIDGE, brSpec)) log(`${INTEGRATION_BRIDGE} created or updated`);

    // 3. the node subnet and the management port
    let nodeSubnets: string[];
    if (opts.nodeSubnet) {
      nodeSubnets = [formatCidr(parseCidr(opts.nodeSubnet))];
      // the watcher takes a node's subnet from this annotation: without it, it would carve a
      // different one for the node switch than the management port uses here
      const { connectK8s, hasK8sSettings } = await import('./k8s-access.js');
      if (hasK8sSettings(opts.k8s ?? {}, externalIds)) {
        const k8s = connectK8s(opts.k8s ?? {}, externalIds);
        const status = await publishNodeSubnets(
          k8s,
          opts.nodeName,
          nodeSubnets,
          opts.subnetTimeoutMs ?? 30_000,
        );
        if (status === 'patched')
          hostChanges.push(`annotated Node ${opts.nodeName} ${NODE_SUBNETS_ANNOTATION}`);
      } else log(`no Kubernetes API configured: ${NODE_SUBNETS_ANNOTATION} not written`);
    } else {
      // loaded on demand: only this path needs the (slow to load) Kubernetes client
      const { connectK8s } = await import('./k8s-access.js');
      const k8s = connectK8s(opts.k8s ?? {}, externalIds);
      nodeSubnets = await waitNodeSubnets(k8s, opts.nodeName, opts.subnetTimeoutMs ?? 30_000);
    }
    nodeSubnets = nodeSubnets.map((s) => formatCidr(parseCidr(s)));
    const mgmtMac = macFromIp(hostSubnetManagementIp(nodeSubnets[0]!));
    if (
      await db.ensurePort(INTEGRATION_BRIDGE, MGMT_PORT_INTERFACE, {
        type: 'internal',
        mac: mgmtMac,
        mtuRequest: mtu,
        externalIds: { 'iface-id': `k8s-${opts.nodeName}` },
      })
    )
      log(`management port ${MGMT_PORT_INTERFACE} created or updated`);
    hostChanges.push(...(await configureMgmtHost(nodeSubnets, clusterCidrs, mgmtMac, mtu)));

    // 4. CNI config and plugin launcher
    if (opts.cniConfDir) {
      const conf: OvnCniNetConf = {
        cniVersion: '1.0.0',
        name: CNI_NETWORK_NAME,
        type: CNI_PLUGIN_NAME,
        ovsAddress: opts.ovsAddress,
        bridge: INTEGRATION_BRIDGE,
        mtu,
        ...(opts.datapathType ? { datapathType: opts.datapathType } : {}),
        ...(opts.k8s?.kubeconfig ? { kubeconfig: opts.k8s.kubeconfig } : {}),
        ...(opts.k8s?.server ? { k8sApiServer: opts.k8s.server } : {}),
      };
      const path = join(opts.cniConfDir, CNI_CONF_FILE);
      // no secrets in it: the plugin takes token and CA from the Open_vSwitch external_ids
      if (await writeIfChanged(path, `${JSON.stringify(conf, null, 2)}\n`, 0o644))
        hostChanges.push(`wrote ${path}`);
    }
    if (opts.cniBinDir) {
      const entry = opts.pluginEntry ?? defaultPluginEntry();
      const launcher = `#!/bin/sh\n# installed by ovn-k8s-overlay minion-init\nexec ${shQuote(process.execPath)} ${shQuote(entry)} "$@"\n`;
      const path = join(opts.cniBinDir, CNI_PLUGIN_NAME);
      if (await writeIfChanged(path, launcher, 0o755)) hostChanges.push(`wrote ${path}`);
    }
    return { systemId: sysId, nodeSubnets, changedExternalIds, ovsWrites: db.writes, hostChanges };
  } finally {
    db.close();
  }
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Address .2/len on the management interface, link up, routes to the cluster subnets via .1. */
async function configureMgmtHost(
  nodeSubnets: string[],
  clusterCidrs: Cidr[],
  mac: string,
  mtu: number,
): Promise<string[]> {
  const ip = new IpTool();
  const changes: string[] = [];
  // the TAP/internal device appears once ovs-vswitchd has seen the new port
  const link = await ip.waitLink(MGMT_PORT_INTERFACE, 10_000);
  if (link.address?.toLowerCase() !== mac) {
    await ip.ip('link', 'set', 'dev', MGMT_PORT_INTERFACE, 'address', mac);
    changes.push(`${MGMT_PORT_INTERFACE} address ${mac}`);
  }
  if (link.mtu !== mtu) {
    await ip.ip('link', 'set', 'dev', MGMT_PORT_INTERFACE, 'mtu', String(mtu));
    changes.push(`${MGMT_PORT_INTERFACE} mtu ${mtu}`);
  }
  if (!link.flags.includes('UP')) {
    await ip.linkUp(MGMT_PORT_INTERFACE);
    changes.push(`${MGMT_PORT_INTERFACE} up`);
  }
  const addrs = await ip.addrs(MGMT_PORT_INTERFACE);
  const routes = await ip.routes(MGMT_PORT_INTERFACE);
  for (const subnet of nodeSubnets) {
    const cidr = parseCidr(subnet);
    const mgmtIp = hostSubnetManagementIp(subnet);
    const gw = hostSubnetGatewayIp(subnet);
    if (!addrs.some((a) => a.local === mgmtIp && a.prefixlen === cidr.prefixLength)) {
      await ip.addrReplace(MGMT_PORT_INTERFACE, `${mgmtIp}/${cidr.prefixLength}`);
      changes.push(`${MGMT_PORT_INTERFACE} address ${mgmtIp}/${cidr.prefixLength}`);
    }
    for (const cluster of clusterCidrs.filter((c) => c.family === cidr.family)) {
      const dst = formatCidr(cluster);
      if (!routes.some((r) => r.dst === dst && r.gateway === gw)) {
        await ip.ip('route', 'replace', dst, 'via', gw, 'dev', MGMT_PORT_INTERFACE);
        changes.push(`route ${dst} via ${gw}`);
      }
    }
  }
  return changes;
}
