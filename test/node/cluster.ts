/**
 * A small simulated cluster for the data-path tests: the OVN central (NB, SB, northd), the
 * Kubernetes simulator, and nodes that each are a network namespace with their own ovs-vswitchd
 * (netdev) and ovn-controller, prepared by our minion-init. The logical topology the watcher
 * would build is written with ovn-nbctl here (the watcher is tested on its own).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import type { OvnCentral } from '../../src/runtime/ovn-central.js';
import {
  createNetns,
  createVeth,
  forwardLoopbackPort,
  startOvsNode,
  waitPortUp,
  type LoopbackForward,
  type OvsNode,
} from '../../src/runtime/ovs-node.js';
import { macFromIp } from '../../src/ipam/mac.js';
import { run, waitFor } from '../../src/runtime/process.js';
import {
  annotateSimPod,
  CNI_CLI,
  createSimNode,
  createSimPod,
  OVERLAY_CLI,
  runNode,
  UTIL_CLI,
  type Spawned,
} from './harness.js';

export const CLUSTER_SUBNET = '10.244.0.0/16';
export const CLUSTER_ROUTER = 'ovn_cluster_router';

/** `minion-init` flags for a test node: userspace datapath, CNI files under DIR/NAME. */
export function minionInitArgs(o: {
  name: string;
  dir: string;
  clusterSubnet: string;
  ovsRemote: string;
  central: OvnCentral;
  encapIp: string;
  sim: K8sSim;
}): string[] {
  return [
    'minion-init',
    '--cluster-ip-subnet',
    o.clusterSubnet,
    '--node-name',
    o.name,
    '--ovs-address',
    o.ovsRemote,
    '--sb-address',
    o.central.sb.unix,
    '--nb-address',
    o.central.nb.unix,
    '--encap-ip',
    o.encapIp,
    '--datapath-type',
    'netdev',
    '--k8s-api-server',
    o.sim.url,
    '--cni-conf-dir',
    join(o.dir, o.name, 'net.d'),
    '--cni-bin-dir',
    join(o.dir, o.name, 'bin'),
  ];
}

export interface TestNode {
  name: string;
  netns: string;
  subnet: string;
  ovs: OvsNode;
  forward: LoopbackForward;
  /** the CNI network configuration minion-init wrote */
  cniConf: Record<string, unknown>;
  stop(): Promise<void>;
}

const octets = (subnet: string): string => subnet.split('/')[0]!.split('.').slice(0, 3).join('.');

/** Starts the node's daemons in `netns` (created by the caller) and runs minion-init in it. */
export async function bringUpNode(opts: {
  dir: string;
  central: OvnCentral;
  sim: K8sSim;
  name: string;
  netns: string;
  subnet: string;
  encapIp: string;
  /** runs between minion-init and ovn-controller's start (e.g. nics-to-bridge for the underlay) */
  beforeController?: (node: OvsNode) => Promise<void>;
}): Promise<TestNode> {
  const ovs = await startOvsNode({ dir: join(opts.dir, opts.name), name: opts.name, netns: opts.netns });
  let forward: LoopbackForward | undefined;
  try {
    forward = await forwardLoopbackPort(opts.netns, opts.sim.port, join(opts.dir, `${opts.name}-api.sock`));
    createSimNode(opts.sim, opts.name, {
      'k8s.ovn.org/node-subnets': JSON.stringify({ default: opts.subnet }),
    });
    const confDir = join(opts.dir, opts.name, 'net.d');
    const res = await runNode(
      OVERLAY_CLI,
      minionInitArgs({ ...opts, clusterSubnet: CLUSTER_SUBNET, ovsRemote: ovs.ovsRemote }),
      { netns: opts.netns },
    );
    if (res.code !== 0) throw new Error(`minion-init on ${opts.name} failed: ${res.stderr}`);
    if (opts.beforeController) await opts.beforeController(ovs);
    await ovs.startController();
    await addNodeToNb(opts.central, opts.name, opts.subnet);
    const cniConf = JSON.parse(await readFile(join(confDir, '10-ovn-kubernetes.conf'), 'utf8')) as Record<
      string,
      unknown
    >;
    const f = forward;
    return {
      name: opts.name,
      netns: opts.netns,
      subnet: opts.subnet,
      ovs,
      forward: f,
      cniConf,
      async stop() {
        await f.stop().catch(() => undefined);
        await ovs.stop();
      },
    };
  } catch (err) {
    await forward?.stop().catch(() => undefined);
    await ovs.stop().catch(() => undefined);
    throw err;
  }
}

/** What the watcher builds for a node: its switch, the router port to it, the management LSP. */
async function addNodeToNb(central: OvnCentral, node: string, subnet: string): Promise<void> {
  const p = octets(subnet);
  const len = subnet.split('/')[1]!;
  await central.nbctl(
    '--may-exist',
    'lr-add',
    CLUSTER_ROUTER,
    '--',
    'ls-add',
    node,
    '--',
    'lrp-add',
    CLUSTER_ROUTER,
    `rtos-${node}`,
    macFromIp(`${p}.1`),
    `${p}.1/${len}`,
    '--',
    'lsp-add',
    node,
    `stor-${node}`,
    '--',
    'lsp-set-type',
    `stor-${node}`,
    'router',
    '--',
    'lsp-set-addresses',
    `stor-${node}`,
    'router',
    '--',
    'lsp-set-options',
    `stor-${node}`,
    `router-port=rtos-${node}`,
    '--',
    'lsp-add',
    node,
    `k8s-${node}`,
    '--',
    'lsp-set-addresses',
    `k8s-${node}`,
    `${macFromIp(`${p}.2`)} ${p}.2`,
  );
}

export interface TestPod {
  namespace: string;
  name: string;
  /** the pod's network namespace (created by the caller) */
  netns: string;
  containerId: string;
  ip: string;
  node: TestNode;
}

/** The pod's LSP in NB and the Pod in the simulator; `annotate` false leaves the annotation for later. */
export async function declarePod(
  central: OvnCentral,
  sim: K8sSim,
  pod: TestPod,
  annotate = true,
): Promise<void> {
  const mac = macFromIp(pod.ip);
  const lsp = `${pod.namespace}_${pod.name}`;
  await central.nbctl('lsp-add', pod.node.name, lsp, '--', 'lsp-set-addresses', lsp, `${mac} ${pod.ip}`);
  createSimPod(sim, pod.namespace, pod.name, pod.node.name);
  if (annotate) annotatePod(sim, pod);
}

export function annotatePod(sim: K8sSim, pod: TestPod): void {
  const p = octets(pod.node.subnet);
  const len = pod.node.subnet.split('/')[1]!;
  annotateSimPod(sim, pod.namespace, pod.name, {
    'k8s.ovn.org/pod-networks': JSON.stringify({
      default: {
        ip_addresses: [`${pod.ip}/${len}`],
        mac_address: macFromIp(pod.ip),
        gateway_ips: [`${p}.1`],
        routes: [],
      },
    }),
  });
}

/** Calls the plugin exactly as a container runtime does: env + config on stdin, in the node's namespace. */
export function cni(
  command: 'ADD' | 'DEL' | 'CHECK',
  pod: TestPod,
  confExtra: Record<string, unknown> = {},
): Promise<Spawned> {
  return runNode(CNI_CLI, [], {
    netns: pod.node.netns,
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod.containerId,
      CNI_NETNS: `/var/run/netns/${pod.netns}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`,
    },
    input: JSON.stringify({ ...pod.node.cniConf, ...confExtra }),
  });
}

export const waitLspUp = (central: OvnCentral, pod: TestPod) =>
  waitPortUp((...a) => central.nbctl(...a), `${pod.namespace}_${pod.name}`);

/**
 * Two machines: namespaces `netns[0]`, `netns[1]` joined by a veth wire (`phy1`/`phy2`, addresses
 * `<wire>.1/24`, `<wire>.2/24`), each brought up as node1/node2 (subnets 10.244.1.0/24 and
 * 10.244.2.0/24) with nics-to-bridge putting its wire NIC into a bridge, then waited for until each
 * ovn-controller has its Geneve port towards the other. Nodes are pushed onto `nodes` as they come
 * up, so the caller's afterAll stops whatever started, even when a later step fails.
 */
export async function bringUpTwoChassis(opts: {
  dir: string;
  central: OvnCentral;
  sim: K8sSim;
  netns: readonly [string, string];
  /** the wire's /24 without its last octet, e.g. "192.168.100" */
  wire: string;
  nodes: TestNode[];
}): Promise<void> {
  for (const ns of opts.netns) await createNetns(ns);
  await createVeth('phy1', opts.netns[0], 'phy2', opts.netns[1]);
  for (const n of [1, 2]) {
    const ns = opts.netns[n - 1]!;
    await run('ip', ['-n', ns, 'addr', 'add', `${opts.wire}.${n}/24`, 'dev', `phy${n}`]);
    await run('ip', ['-n', ns, 'link', 'set', `phy${n}`, 'up']);
  }
  for (const n of [1, 2]) {
    opts.nodes.push(
      await bringUpNode({
        dir: opts.dir,
        central: opts.central,
        sim: opts.sim,
        name: `node${n}`,
        netns: opts.netns[n - 1]!,
        subnet: `10.244.${n}.0/24`,
        encapIp: `${opts.wire}.${n}`,
        beforeController: async (ovs) => {
          const r = await runNode(UTIL_CLI, ['nics-to-bridge', `phy${n}`, '--ovs-address', ovs.ovsRemote], {
            netns: opts.netns[n - 1],
          });
          if (r.code !== 0) throw new Error(`nics-to-bridge phy${n}: ${r.stderr}`);
        },
      }),
    );
  }
  for (const node of opts.nodes)
    await waitFor(
      `${node.name} tunnel port`,
      async () => /^ovn-/m.test(await node.ovs.vsctl('list-ports', 'br-int')),
      20_000,
      100,
    );
}
