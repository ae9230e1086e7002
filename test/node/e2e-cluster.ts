/**
 * Helpers of the watcher-driven end-to-end test (e2e-watcher.test.ts): a node "machine" is a
 * network namespace with its own ovs-vswitchd (netdev) and ovn-controller, prepared only by our
 * CLIs (minion-init, nics-to-bridge, gateway-init) exactly as an operator would run them. Unlike
 * cluster.ts nothing here writes NB: the logical topology is the watcher's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import type { OvnCentral } from '../../src/runtime/ovn-central.js';
import { forwardLoopbackPort, startOvsNode, type LoopbackForward } from '../../src/runtime/ovs-node.js';
import { run } from '../../src/runtime/process.js';
import { minionInitArgs, type TestNode } from './cluster.js';
import { OVERLAY_CLI, runNode, UTIL_CLI, type Spawned } from './harness.js';

type SimType = Parameters<K8sSim['api']['create']>[0];

export function simType(sim: K8sSim, plural: string, group = ''): SimType {
  const t = sim.api.registry.get(group, plural);
  if (!t) throw new Error(`simulator has no ${plural}`);
  return t;
}

/** Creates an object through the simulator's semantics layer (same rules and events as HTTP). */
export function simCreate(
  sim: K8sSim,
  plural: string,
  namespace: string | undefined,
  obj: Record<string, unknown>,
): Record<string, unknown> {
  return sim.api.create(simType(sim, plural), namespace, obj).obj as unknown as Record<string, unknown>;
}

export function simGet(
  sim: K8sSim,
  plural: string,
  namespace: string | undefined,
  name: string,
): Record<string, unknown> | undefined {
  return sim.api.tryGet(simType(sim, plural), namespace, name)?.obj as unknown as
    Record<string, unknown> | undefined;
}

export const annotationsOf = (obj: Record<string, unknown> | undefined): Record<string, string> =>
  ((obj?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {}) as Record<
    string,
    string
  >;

/** Fails with the command's output when a spawned CLI did not exit 0. */
export function mustSucceed(what: string, r: Spawned): Spawned {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

export interface MachineOptions {
  dir: string;
  central: OvnCentral;
  sim: K8sSim;
  name: string;
  netns: string;
  clusterSubnet: string;
  encapIp: string;
  /** the underlay NIC in the node's namespace (moved into br<NIC> by nics-to-bridge) */
  underlayNic: string;
  /** --minion-switch-subnet; without it minion-init waits for the watcher's annotation */
  explicitSubnet?: string;
}

/**
 * Starts the node's Open_vSwitch database and ovs-vswitchd in its namespace, then as the node's
 * operator would: minion-init, nics-to-bridge for the underlay NIC (the userspace datapath pushes
 * and pops tunnels only through one of its own bridges holding the underlay address), and
 * ovn-controller.
 */
export async function bringUpMachine(opts: MachineOptions): Promise<TestNode & { minionInit: Spawned }> {
  const ovs = await startOvsNode({ dir: join(opts.dir, opts.name), name: opts.name, netns: opts.netns });
  let forward: LoopbackForward | undefined;
  try {
    forward = await forwardLoopbackPort(opts.netns, opts.sim.port, join(opts.dir, `${opts.name}.sock`));
    const confDir = join(opts.dir, opts.name, 'net.d');
    const minionInit = mustSucceed(
      `minion-init on ${opts.name}`,
      await runNode(
        OVERLAY_CLI,
        [
          ...minionInitArgs({ ...opts, ovsRemote: ovs.ovsRemote }),
          ...(opts.explicitSubnet ? ['--minion-switch-subnet', opts.explicitSubnet] : []),
          '--verbose',
        ],
        { netns: opts.netns },
      ),
    );
    mustSucceed(
      `nics-to-bridge ${opts.underlayNic}`,
      await runNode(UTIL_CLI, ['nics-to-bridge', opts.underlayNic, '--ovs-address', ovs.ovsRemote], {
        netns: opts.netns,
      }),
    );
    await ovs.startController();
    const cniConf = JSON.parse(await readFile(join(confDir, '10-ovn-kubernetes.conf'), 'utf8')) as Record<
      string,
      unknown
    >;
    const subnet = await mgmtSubnet(opts.netns);
    const f = forward;
    return {
      name: opts.name,
      netns: opts.netns,
      subnet,
      ovs,
      forward: f,
      cniConf,
      minionInit,
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

/** The node subnet as minion-init configured it on the host: the management port's .2/len. */
async function mgmtSubnet(netns: string): Promise<string> {
  const out = JSON.parse(
    await run('ip', ['-n', netns, '-j', '-4', 'addr', 'show', 'dev', 'ovn-k8s-mp0']),
  ) as Array<{
    addr_info: Array<{ local: string; prefixlen: number }>;
  }>;
  const a = out[0]?.addr_info[0];
  if (!a) throw new Error(`ovn-k8s-mp0 in ${netns} has no IPv4 address`);
  // the test's host subnets are /24
  const [x, y, z] = a.local.split('.');
  return `${x}.${y}.${z}.0/${a.prefixlen}`;
}

/** gateway-init on a node: its NIC `nic` towards the outside network becomes br<nic>. */
export async function gatewayInitCli(
  node: TestNode,
  opts: {
    sim: K8sSim;
    clusterSubnet: string;
    nic: string;
    physicalIp: string;
    nextHop: string;
    physnet: string;
    /** --rampout-ip-subnets, when given */
    rampoutSubnets?: string[];
  },
): Promise<Spawned> {
  return runNode(
    OVERLAY_CLI,
    [
      'gateway-init',
      '--cluster-ip-subnet',
      opts.clusterSubnet,
      '--node-name',
      node.name,
      '--ovs-address',
      node.ovs.ovsRemote,
      '--k8s-api-server',
      opts.sim.url,
      '--physical-interface',
      opts.nic,
      '--physical-ip',
      opts.physicalIp,
      '--default-gw',
      opts.nextHop,
      '--physnet',
      opts.physnet,
      ...(opts.rampoutSubnets ? ['--rampout-ip-subnets', opts.rampoutSubnets.join(',')] : []),
      '--verbose',
    ],
    { netns: node.netns },
  );
}
