/**
 * The whole path of a secondary OVN network with packets: the watcher (not hand-written rows)
 * builds the default network and seed 003's second overlay from a NAD, allocates and annotates
 * both interfaces of each pod; two chassis joined by Geneve run ovn-controller; the built CNI
 * plugin is called twice per pod, as Multus does (eth0 with the cluster config, net1 with the
 * NAD's), and the pods ping each other over net1 and over eth0.
 */
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { attachmentPort } from '../../src/ovn/intent/secondary.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import {
  createNetns,
  createVeth,
  deleteNetns,
  forwardLoopbackPort,
  startOvsNode,
  waitPortUp,
  type LoopbackForward,
  type OvsNode,
} from '../../src/runtime/ovs-node.js';
import { run, waitFor } from '../../src/runtime/process.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../helpers/tmp.js';
import {
  CNI_CLI,
  createSimNode,
  ensureBuilt,
  OVERLAY_CLI,
  ping,
  runNode,
  uniq,
  UTIL_CLI,
} from './harness.js';

const id = uniq();
const tmp = tempDir('h9sw-');
let central: OvnCentral | undefined;
let sim: K8sSim | undefined;
let watcher: Watcher | undefined;
let api: CoreV1Api;
const nodeNs = [`w1${id}`, `w2${id}`];
const podNs = [`xa${id}`, `xb${id}`];
const started: Array<{ ovs: OvsNode; forward?: LoopbackForward }> = [];
const cniConfs: Record<string, unknown>[] = [];

const NAD = 'default/ovn-again-conf';
const NAD_CONFIG = {
  cniVersion: '0.3.1',
  name: 'ovn-again',
  type: 'ovn-k8s-cni-overlay',
  topology: 'layer3',
  subnets: '10.245.0.0/16/24',
  netAttachDefName: NAD,
};

/** A node without hand-written NB rows: its daemons, minion-init, ovn-controller; the watcher does NB. */
async function bringUpBareNode(n: number): Promise<void> {
  const name = `node${n}`;
  const netns = nodeNs[n - 1]!;
  const ovs = await startOvsNode({ dir: join(tmp.dir, name), name, netns });
  const entry: { ovs: OvsNode; forward?: LoopbackForward } = { ovs };
  started.push(entry);
  entry.forward = await forwardLoopbackPort(netns, sim!.port, join(tmp.dir, `${name}-api.sock`));
  createSimNode(sim!, name, { 'k8s.ovn.org/node-subnets': JSON.stringify({ default: `10.244.${n}.0/24` }) });
  const confDir = join(tmp.dir, name, 'net.d');
  const res = await runNode(
    OVERLAY_CLI,
    [
      'minion-init',
      '--cluster-ip-subnet',
      '10.244.0.0/16',
      '--node-name',
      name,
      '--ovs-address',
      ovs.ovsRemote,
      '--sb-address',
      central!.sb.unix,
      '--nb-address',
      central!.nb.unix,
      '--encap-ip',
      `192.168.102.${n}`,
      '--datapath-type',
      'netdev',
      '--k8s-api-server',
      sim!.url,
      '--cni-conf-dir',
      confDir,
      '--cni-bin-dir',
      join(tmp.dir, name, 'bin'),
    ],
    { netns },
  );
  if (res.code !== 0) throw new Error(`minion-init on ${name} failed: ${res.stderr}`);
  const r = await runNode(UTIL_CLI, ['nics-to-bridge', `phy${n}`, '--ovs-address', ovs.ovsRemote], { netns });
  if (r.code !== 0) throw new Error(`nics-to-bridge phy${n}: ${r.stderr}`);
  await ovs.startController();
  cniConfs.push(
    JSON.parse(await readFile(join(confDir, '10-ovn-kubernetes.conf'), 'utf8')) as Record<string, unknown>,
  );
}

function callCni(command: 'ADD' | 'DEL', n: number, ifname: string, conf: Record<string, unknown>) {
  const pod = `pod${n}`;
  return runNode(CNI_CLI, [], {
    netns: nodeNs[n - 1],
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: `${id}${pod}0123456789abcdef`,
      CNI_NETNS: `/var/run/netns/${podNs[n - 1]}`,
      CNI_IFNAME: ifname,
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
    },
    input: JSON.stringify(conf),
  });
}

type Entry = { ip_addresses: string[]; mac_address: string };
async function podNetworks(name: string): Promise<Record<string, Entry> | undefined> {
  const pod = await api.readNamespacedPod({ namespace: 'default', name });
  const v = pod.metadata?.annotations?.['k8s.ovn.org/pod-networks'];
  return v ? (JSON.parse(v) as Record<string, Entry>) : undefined;
}

beforeAll(async () => {
  await ensureBuilt();
  central = await startOvnCentral({ dir: join(tmp.dir, 'c') });
  sim = await startK8sSim();
  const kc = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  api = kc.makeApiClient(CoreV1Api);
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    namespace: 'default',
    plural: 'network-attachment-definitions',
    body: {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'ovn-again-conf', namespace: 'default' },
      spec: { config: JSON.stringify(NAD_CONFIG) },
    },
  });
  watcher = await Watcher.start({
    nbRemotes: central.nb.unix,
    kubeConfig: kc,
    clusterSubnets: ['10.244.0.0/16/24'],
  });
  for (const ns of [...nodeNs, ...podNs]) await createNetns(ns);
  await createVeth('phy1', nodeNs[0], 'phy2', nodeNs[1]);
  for (const n of [1, 2]) {
    const ns = nodeNs[n - 1]!;
    await run('ip', ['-n', ns, 'addr', 'add', `192.168.102.${n}/24`, 'dev', `phy${n}`]);
    await run('ip', ['-n', ns, 'link', 'set', `phy${n}`, 'up']);
  }
  for (const n of [1, 2]) await bringUpBareNode(n);
  for (const s of started)
    await waitFor(
      'tunnel port',
      async () => /^ovn-/m.test(await s.ovs.vsctl('list-ports', 'br-int')),
      20_000,
      100,
    );
  for (const n of [1, 2]) {
    const body: V1Pod = {
      metadata: {
        name: `pod${n}`,
        namespace: 'default',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'ovn-again-conf' },
      },
      spec: { nodeName: `node${n}`, containers: [{ name: 'c', image: 'pause' }] },
    };
    await api.createNamespacedPod({ namespace: 'default', body });
  }
}, 90_000);

afterAll(async () => {
  await watcher?.stop().catch(() => undefined);
  for (const s of started) {
    await s.forward?.stop().catch(() => undefined);
    await s.ovs.stop().catch(() => undefined);
  }
  await central?.stop().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  for (const ns of [...podNs, ...nodeNs]) await deleteNetns(ns);
  tmp.cleanup();
});

describe('secondary OVN network: watcher, CNI plugin and packets', () => {
  it('the watcher annotates both interfaces; the plugin plugs eth0 and net1; pods ping over both', async () => {
    await waitFor(
      'both pods annotated with both networks',
      async () => {
        const a = await podNetworks('pod1');
        const b = await podNetworks('pod2');
        return !!(a?.default && a[NAD] && b?.default && b[NAD]);
      },
      30_000,
    );
    for (const n of [1, 2]) {
      const conf = cniConfs[n - 1]!;
      const eth0 = await callCni('ADD', n, 'eth0', { ...conf, waitForOvnInstalled: true });
      expect(eth0.code, eth0.stdout + eth0.stderr).toBe(0);
      // Multus hands over the NAD's config; the node's plumbing (OVS address) comes with it here
      const net1 = await callCni('ADD', n, 'net1', { ...conf, ...NAD_CONFIG, waitForOvnInstalled: true });
      expect(net1.code, net1.stdout + net1.stderr).toBe(0);
      const result = JSON.parse(net1.stdout) as { ips: { address: string }[] };
      expect(result.ips.map((i) => i.address)).toEqual((await podNetworks(`pod${n}`))![NAD]!.ip_addresses);
    }
    const nbctl = (...a: string[]) => central!.nbctl(...a);
    for (const n of [1, 2]) await waitPortUp(nbctl, attachmentPort(NAD, 'default', `pod${n}`));
    await central!.nbctl('--wait=hv', 'sync');
    const a = (await podNetworks('pod1'))!;
    const b = (await podNetworks('pod2'))!;
    expect(a[NAD]!.ip_addresses[0]).toMatch(/^10\.245\./);
    await ping(podNs[0]!, b[NAD]!.ip_addresses[0]!.split('/')[0]!);
    await ping(podNs[1]!, a[NAD]!.ip_addresses[0]!.split('/')[0]!);
    await ping(podNs[0]!, b.default!.ip_addresses[0]!.split('/')[0]!);
  }, 90_000);
});
