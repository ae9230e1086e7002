/**
 * The CNI plugin ovn-k8s-cni-overlay: ADD plugs a pod into br-int with the address the watcher
 * annotated, DEL unplugs it, CHECK verifies, VERSION reports the spec versions.
 *
 * ADD, step by step:
 *  1. wait (bounded, annotationTimeoutMs) for the pod's k8s.ovn.org/pod-networks annotation;
 *  2. create a veth pair: host end `<containerID[:15]>` in our namespace, the other end created
 *     directly inside CNI_NETNS as CNI_IFNAME (so it never collides with host names);
 *  3. in the pod: MAC, MTU, addresses, default route via the gateway and the annotated routes, and
 *     with the userspace datapath checksum offload off (`ethtool -K <if> tx off`): otherwise TCP
 *     and UDP leave with partial checksums that the userspace conntrack counts as invalid and drops;
 *  4. the host end becomes a port of br-int with external_ids iface-id=<ns>_<pod>, iface-id-ver,
 *     attached_mac, ip_addresses and sandbox, which is what ovn-controller binds the LSP by;
 *  5. optionally wait for ovn-controller's external_ids:ovn-installed on that interface.
 * A failure after step 2 removes what was made, so a retried ADD starts clean.
 *
 * DEL removes the OVS port and the veth (by name and by sandbox), needs neither the Kubernetes
 * API nor the pod's namespace, and succeeds when there is nothing left to remove.
 *
 * Secondary OVN networks: Multus calls the plugin once per attachment, with CNI_IFNAME net1, ...
 * and the NAD's config (`netAttachDefName` set). The pod-networks entry is then the one keyed
 * `<ns>/<nad>` (it may have no addresses: an L2-only network), the iface-id is the attachment's
 * port (attachmentPort), the host veth name includes a hash of the interface, and routes come from
 * the entry only: no default route unless the selection asked for one (`default-route`).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { attachmentPort } from '../../ovn/intent/secondary-names.js';
import { httpStatusOf } from '../../k8s/errors.js';
import { parseIpWithPrefix } from '../../ipam/cidr.js';
import { HostCommandError, NodeError, NodeTimeoutError } from '../errors.js';
import { IpTool } from '../ip.js';
import { OvsConfigDb } from '../ovs-config.js';
import { podNetworkOf, type PodNetwork } from './pod-network.js';
import { parseCommand, parseConfig, parseEnv, type CniEnv, type PluginConfig } from './request.js';
import {
  CniCode,
  CniError,
  formatResult,
  LATEST_VERSION,
  SUPPORTED_VERSIONS,
  type AddResult,
  type CniRoute,
} from './types.js';

export interface CniOutcome {
  /** what to print on stdout ('' for a successful DEL) */
  stdout: string;
  exitCode: number;
}

/** Host-side veth name: the first 15 characters of the container id (Linux name limit). */
export const hostVethName = (containerId: string): string => containerId.slice(0, 15);

/**
 * Host-side veth name of a secondary attachment: 10 characters of the container id and 5 of a hash
 * of the pod interface, so a pod's eth0, net1, net2... never share a host name.
 */
export const secondaryHostVethName = (containerId: string, ifname: string): string =>
  `${containerId.slice(0, 10)}${createHash('sha256').update(ifname).digest('hex').slice(0, 5)}`;

/** The host veth of this invocation: the default network's, or a secondary attachment's. */
const hostNameOf = (env: CniEnv, cfg: PluginConfig): string =>
  cfg.netAttachDefName ? secondaryHostVethName(env.containerId, env.ifname) : hostVethName(env.containerId);

/** The logical port (OVS iface-id): `<ns>_<pod>`, or the attachment's `<nad-prefix>_<ns>_<pod>`. */
const ifaceIdOf = (ref: { namespace: string; name: string }, cfg: PluginConfig): string =>
  cfg.netAttachDefName
    ? attachmentPort(cfg.netAttachDefName, ref.namespace, ref.name)
    : `${ref.namespace}_${ref.name}`;

/** external_ids key recording the pod interface a port serves (DEL of one attachment keeps the others). */
const IFNAME_KEY = 'k8s.ovn.org/ifname';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function podRef(env: CniEnv): { namespace: string; name: string } {
  const namespace = env.args.K8S_POD_NAMESPACE;
  const name = env.args.K8S_POD_NAME;
  if (!namespace || !name)
    throw new CniError(
      CniCode.InvalidEnvironment,
      'CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME (is the runtime configured for Kubernetes?)',
    );
  return { namespace, name };
}

async function connectOvs(cfg: PluginConfig): Promise<OvsConfigDb> {
  try {
    return await OvsConfigDb.connect(cfg.ovsAddress);
  } catch (err) {
    throw new CniError(CniCode.TryAgainLater, (err as Error).message);
  }
}

async function waitPodNetwork(
  cfg: PluginConfig,
  ovsIds: Record<string, string>,
  ref: { namespace: string; name: string },
): Promise<{ pod: V1Pod; net: PodNetwork }> {
  const network = cfg.netAttachDefName ?? 'default';
  // loaded on demand: the Kubernetes client is the slow part of starting the plugin, and only ADD needs it
  const { connectK8s } = await import('../k8s-access.js');
  let k8s;
  try {
    k8s = connectK8s({ kubeconfig: cfg.kubeconfig, server: cfg.k8sApiServer }, ovsIds);
  } catch (err) {
    throw new CniError(CniCode.InvalidNetworkConfig, (err as Error).message);
  }
  const deadline = Date.now() + cfg.annotationTimeoutMs;
  let why = 'not annotated yet';
  for (;;) {
    try {
      const pod = await k8s.pods.get(ref.name, ref.namespace);
      const net = podNetworkOf(pod, network);
      if (net) return { pod, net };
    } catch (err) {
      if (err instanceof CniError) throw err;
      const status = httpStatusOf(err);
      why =
        status === 404
          ? 'the pod does not exist'
          : `Kubernetes API at ${k8s.server}: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) {
      throw new CniError(
        CniCode.AnnotationTimeout,
        `pod ${ref.namespace}/${ref.name} has no k8s.ovn.org/pod-networks ${network === 'default' ? 'annotation' : `entry "${network}"`} after ${cfg.annotationTimeoutMs} ms (${why}); is the ovn-k8s watcher running?`,
      );
    }
    await sleep(200);
  }
}

function routesOf(net: PodNetwork): CniRoute[] {
  const routes: CniRoute[] = [];
  for (const gw of net.gatewayIps) routes.push({ dst: gw.includes(':') ? '::/0' : '0.0.0.0/0', gw });
  for (const r of net.routes) routes.push({ dst: r.dest, gw: r.nextHop });
  return routes;
}

async function add(env: CniEnv, cfg: PluginConfig): Promise<AddResult> {
  const ref = podRef(env);
  const db = await connectOvs(cfg);
  const host = hostNameOf(env, cfg);
  const hostIp = new IpTool();
  const podIp = new IpTool(env.netns);
  let created = false;
  try {
    const ovs = await db.openVswitch();
    const { pod, net } = await waitPodNetwork(cfg, ovs.externalIds, ref);
    const datapathType = cfg.datapathType ?? (await db.bridge(cfg.bridge))?.datapathType ?? '';
    try {
      // A retried ADD starts from nothing: the OVS port too, because ovs-vswitchd does not
      // re-open a port whose device was deleted and re-created under the same name.
      await db.deletePort(host);
      await hostIp.linkDel(host); // deleting one veth end removes both
      await hostIp.ip(
        'link',
        'add',
        host,
        'mtu',
        String(cfg.mtu),
        'type',
        'veth',
        'peer',
        'name',
        env.ifname,
        'mtu',
        String(cfg.mtu),
        'netns',
        env.netns,
      );
      created = true;
      await podIp.ip('link', 'set', 'dev', env.ifname, 'address', net.mac);
      for (const a of net.ipAddresses) await podIp.ip('addr', 'add', a, 'dev', env.ifname);
      await podIp.linkUp(env.ifname);
      for (const r of routesOf(net)) {
        await podIp.ip(
          r.dst.includes(':') ? '-6' : '-4',
          'route',
          'replace',
          r.dst,
          'via',
          r.gw!,
          'dev',
          env.ifname,
        );
      }
      if (datapathType === 'netdev') await podIp.exec('ethtool', ['-K', env.ifname, 'tx', 'off']);
      await hostIp.linkUp(host);
    } catch (err) {
      if (err instanceof HostCommandError)
        throw new CniError(
          CniCode.InterfaceSetup,
          `setting up ${env.ifname} in ${env.netns} failed`,
          err.message,
        );
      throw err;
    }
    const hostLink = await hostIp.link(host);
    const podLink = await podIp.link(env.ifname);
    const externalIds: Record<string, string> = {
      'iface-id': ifaceIdOf(ref, cfg),
      attached_mac: net.mac,
      ip_addresses: net.ipAddresses.join(','),
      sandbox: env.containerId,
      [IFNAME_KEY]: env.ifname,
    };
    const uid = pod.metadata?.uid ?? env.args.K8S_POD_UID;
    if (uid) externalIds['iface-id-ver'] = uid;
    try {
      // A port of an earlier sandbox of this pod (its DEL never came) carries the same iface-id;
      // two interfaces claiming one logical port make ovn-controller flap between them.
      for (const stale of await db.interfacesWith('iface-id', externalIds['iface-id']!)) {
        if (stale === host) continue;
        await db.deletePort(stale);
        await hostIp.linkDel(stale);
      }
      await db.ensurePort(cfg.bridge, host, { externalIds });
    } catch (err) {
      throw new CniError(
        CniCode.OvsFailure,
        `adding ${host} to ${cfg.bridge} failed: ${(err as Error).message}`,
      );
    }
    if (cfg.waitForOvnInstalled) {
      try {
        await db.waitInterface(
          host,
          'ovn-installed',
          (r) => r.externalIds['ovn-installed'] === 'true',
          cfg.ovnInstalledTimeoutMs,
        );
      } catch (err) {
        throw new CniError(
          CniCode.OvsFailure,
          `${(err as Error).message}; is ovn-controller running and is the logical port ${externalIds['iface-id']} in NB?`,
        );
      }
    }
    created = false; // success: keep everything
    return {
      interfaces: [
        { name: host, ...(hostLink?.address ? { mac: hostLink.address } : {}) },
        { name: env.ifname, mac: podLink?.address ?? net.mac, sandbox: env.netns },
      ],
      ips: net.ipAddresses.map((address) => {
        const fam = parseIpWithPrefix(address).address.family;
        const gateway = net.gatewayIps.find((g) => g.includes(':') === (fam === 6));
        return { address, ...(gateway ? { gateway } : {}), interface: 1 };
      }),
      routes: routesOf(net),
    };
  } finally {
    if (created) {
      await db.deletePort(host).catch(() => false);
      await hostIp.linkDel(host).catch(() => false);
    }
    db.close();
  }
}

async function del(env: CniEnv, cfg: PluginConfig): Promise<void> {
  const host = hostNameOf(env, cfg);
  const db = await connectOvs(cfg);
  try {
    // the sandbox's ports of this interface only (ports of older versions carry no ifname: eth0's)
    const ofSandbox: string[] = [];
    for (const n of await db.interfacesWith('sandbox', env.containerId)) {
      const ifname = (await db.iface(n))?.externalIds[IFNAME_KEY];
      if (ifname === env.ifname || (ifname === undefined && !cfg.netAttachDefName)) ofSandbox.push(n);
    }
    const names = new Set([host, ...ofSandbox]);
    for (const n of names) await db.deletePort(n);
    for (const n of names) await new IpTool().linkDel(n);
    // the pod end vanishes with its peer; if only the pod end is left (half-made ADD), remove it
    if (env.netns) await new IpTool(env.netns).linkDel(env.ifname).catch(() => false);
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(CniCode.TryAgainLater, `DEL of ${env.containerId} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

interface PrevResultShape {
  interfaces?: Array<{ name?: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address?: string }>;
}

async function check(env: CniEnv, cfg: PluginConfig): Promise<void> {
  if (cfg.cniVersion === '0.3.0' || cfg.cniVersion === '0.3.1')
    throw new CniError(
      CniCode.IncompatibleVersion,
      `CHECK needs cniVersion 0.4.0 or later (got ${cfg.cniVersion})`,
    );
  const ref = podRef(env);
  const prev = cfg.prevResult as PrevResultShape | undefined;
  if (!prev || typeof prev !== 'object')
    throw new CniError(CniCode.InvalidNetworkConfig, 'CHECK needs prevResult in the network configuration');
  const host = hostNameOf(env, cfg);
  const podIp = new IpTool(env.netns);
  const link = await podIp.link(env.ifname).catch(() => undefined);
  const fail = (msg: string) =>
    new CniError(CniCode.CheckFailed, `CHECK ${ref.namespace}/${ref.name}: ${msg}`);
  if (!link) throw fail(`${env.ifname} does not exist in ${env.netns}`);
  const want = prev.interfaces?.find((i) => i.name === env.ifname);
  if (want?.mac && link.address?.toLowerCase() !== want.mac.toLowerCase())
    throw fail(`${env.ifname} has MAC ${link.address}, expected ${want.mac}`);
  const have = (await podIp.addrs(env.ifname)).map((a) => `${a.local}/${a.prefixlen}`);
  for (const ip of prev.ips ?? []) {
    if (ip.address && !have.includes(ip.address)) throw fail(`${env.ifname} lacks address ${ip.address}`);
  }
  const db = await connectOvs(cfg);
  try {
    const iface = await db.iface(host);
    if (!iface) throw fail(`OVS port ${host} is missing from ${cfg.bridge}`);
    const id = ifaceIdOf(ref, cfg);
    if (iface.externalIds['iface-id'] !== id)
      throw fail(`OVS port ${host} has iface-id ${iface.externalIds['iface-id']}, expected ${id}`);
  } finally {
    db.close();
  }
}

/** Runs one invocation: `env` is the process environment, `stdin` the network configuration. */
export async function runCni(env: NodeJS.ProcessEnv, stdin: string): Promise<CniOutcome> {
  let version: string = LATEST_VERSION;
  try {
    const command = parseCommand(env);
    if (command === 'VERSION') {
      // VERSION must answer even for a configuration it cannot use
      try {
        const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
        if (typeof v === 'string' && v !== '') version = v;
      } catch {
        /* no config: answer with our latest */
      }
      return {
        stdout: `${JSON.stringify({ cniVersion: version, supportedVersions: SUPPORTED_VERSIONS })}\n`,
        exitCode: 0,
      };
    }
    try {
      const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
      if (typeof v === 'string') version = v;
    } catch {
      /* parseConfig reports it */
    }
    const cniEnv = parseEnv(env);
    const cfg = parseConfig(stdin);
    version = cfg.cniVersion;
    switch (cniEnv.command) {
      case 'ADD': {
        const r = await add(cniEnv, cfg);
        return { stdout: `${JSON.stringify(formatResult(cfg.cniVersion, r))}\n`, exitCode: 0 };
      }
      case 'DEL':
        await del(cniEnv, cfg);
        return { stdout: '', exitCode: 0 };
      case 'CHECK':
        await check(cniEnv, cfg);
        return { stdout: '', exitCode: 0 };
      default:
        throw new CniError(CniCode.InvalidEnvironment, `unhandled command ${cniEnv.command}`);
    }
  } catch (err) {
    const e =
      err instanceof CniError
        ? err
        : err instanceof NodeTimeoutError
          ? new CniError(CniCode.TryAgainLater, err.message)
          : err instanceof NodeError
            ? new CniError(CniCode.IoFailure, err.message)
            : new CniError(CniCode.IoFailure, `unexpected failure: ${(err as Error).message ?? String(err)}`);
    return { stdout: `${JSON.stringify(e.toJson(version))}\n`, exitCode: 1 };
  }
}
