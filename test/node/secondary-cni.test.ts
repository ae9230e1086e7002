/**
 * A secondary OVN layer3 network with packets: two chassis joined by Geneve (as in
 * cni-two-chassis), the network's rows written from our intent, and two pods each plugged twice by
 * the built CNI plugin as Multus does it: eth0 with the cluster's config, net1 with the NAD's
 * config (`type: ovn-k8s-cni-overlay`, `netAttachDefName`). The pods ping each other over net1,
 * and the network-status Multus would record from our results matches the pods' allocations.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { networkStatusFromResult, type CniResultLike } from '../../src/multinet/index.js';
import {
  attachmentPort,
  podAttachmentAnnotation,
  secondaryNetworkIntent,
  type PodAttachmentInfo,
  type SecondaryNetworkInfo,
  type SecondaryNodeInfo,
} from '../../src/ovn/intent/secondary.js';
import { macFromIp } from '../../src/ovn/intent/addr.js';
import { reconcileOwned } from '../../src/ovn/reconcile/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { createNetns, deleteNetns, waitPortUp } from '../../src/runtime/ovs-node.js';
import { run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshotView, transact } from '../ovn/nb-harness.js';
import { bringUpTwoChassis, cni, declarePod, type TestNode, type TestPod } from './cluster.js';
import { annotateSimPod, CNI_CLI, ensureBuilt, ping, runNode, uniq, type Spawned } from './harness.js';

const id = uniq();
const tmp = tempDir('h9sc-');
let central: OvnCentral | undefined;
let sim: K8sSim | undefined;
const nodes: TestNode[] = [];
const nodeNs = [`s1${id}`, `s2${id}`];
const pods: TestPod[] = [];

const NAD = 'default/ovn-again-conf';
const L3: SecondaryNetworkInfo = { name: 'ovn-again', topology: 'layer3', subnets: ['10.245.0.0/16/24'] };
const l3Nodes: SecondaryNodeInfo[] = [
  { name: 'node1', subnets: ['10.245.1.0/24'] },
  { name: 'node2', subnets: ['10.245.2.0/24'] },
];
const atts = new Map<string, PodAttachmentInfo>();
const results = new Map<string, { eth0: CniResultLike; net1: CniResultLike }>();

/** The NAD's config as Multus hands it to the plugin, plus the node's plumbing (OVS address, API server). */
const nadConf = (node: TestNode): Record<string, unknown> => ({
  ...node.cniConf,
  name: L3.name,
  type: 'ovn-k8s-cni-overlay',
  topology: 'layer3',
  subnets: '10.245.0.0/16/24',
  netAttachDefName: NAD,
  waitForOvnInstalled: true,
});

/** The plugin called for one attachment: CNI_IFNAME net1 and the NAD's config. */
function cniAttachment(
  command: 'ADD' | 'DEL' | 'CHECK',
  pod: TestPod,
  extra: Record<string, unknown> = {},
): Promise<Spawned> {
  return runNode(CNI_CLI, [], {
    netns: pod.node.netns,
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod.containerId,
      CNI_NETNS: `/var/run/netns/${pod.netns}`,
      CNI_IFNAME: 'net1',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name}`,
    },
    input: JSON.stringify({ ...nadConf(pod.node), ...extra }),
  });
}

beforeAll(async () => {
  await ensureBuilt();
  central = await startOvnCentral({ dir: join(tmp.dir, 'c') });
  sim = await startK8sSim();
  await bringUpTwoChassis({
    dir: tmp.dir,
    central,
    sim,
    netns: [nodeNs[0]!, nodeNs[1]!],
    wire: '192.168.101',
    nodes,
  });
  const defs: Array<[string, number, string, string]> = [
    ['pa', 0, '10.244.1.5', '10.245.1.5/24'],
    ['pb', 1, '10.244.2.5', '10.245.2.5/24'],
  ];
  for (const [name, n, ip, secIp] of defs) {
    const p: TestPod = {
      namespace: 'default',
      name,
      netns: `q${name}${id}`,
      containerId: `${id}${name}0123456789abcdef`,
      ip,
      node: nodes[n]!,
    };
    await createNetns(p.netns);
    pods.push(p);
    atts.set(name, { namespace: 'default', name, node: `node${n + 1}`, nad: NAD, ips: [secIp] });
  }
  // the secondary network's rows, as the watcher's intent makes them
  const owned = secondaryNetworkIntent(L3, l3Nodes, [...atts.values()]);
  const result = reconcileOwned(await snapshotView(central.nb.unix), owned);
  expect(result.skipped).toEqual([]);
  await transact(central.nb.unix, result.operations);
}, 90_000);

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  await central?.stop().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  for (const p of pods) await deleteNetns(p.netns);
  for (const ns of nodeNs) await deleteNetns(ns);
  tmp.cleanup();
});

const pod = (name: string) => pods.find((p) => p.name === name)!;

describe('CNI plugin: a secondary OVN layer3 network', () => {
  it('plugs eth0 (default) and net1 (secondary) into each pod, each bound to its own logical port', async () => {
    for (const p of pods) {
      await declarePod(central!, sim!, p, false);
      const node = l3Nodes.find((n) => n.name === p.node.name)!;
      const sec = podAttachmentAnnotation(L3, atts.get(p.name)!, node.subnets);
      const len = p.node.subnet.split('/')[1]!;
      annotateSimPod(sim!, p.namespace, p.name, {
        'k8s.ovn.org/pod-networks': JSON.stringify({
          default: {
            ip_addresses: [`${p.ip}/${len}`],
            mac_address: macFromIp(p.ip),
            gateway_ips: [p.ip.replace(/\.\d+$/, '.1')],
            routes: [],
          },
          [sec.key]: sec.entry,
        }),
      });
      const eth0 = await cni('ADD', p, { waitForOvnInstalled: true });
      expect(eth0.code, eth0.stdout + eth0.stderr).toBe(0);
      const net1 = await cniAttachment('ADD', p);
      expect(net1.code, net1.stdout + net1.stderr).toBe(0);
      results.set(p.name, { eth0: JSON.parse(eth0.stdout), net1: JSON.parse(net1.stdout) });
    }
    for (const p of pods) {
      await waitPortUp((...a) => central!.nbctl(...a), `${p.namespace}_${p.name}`);
      await waitPortUp((...a) => central!.nbctl(...a), attachmentPort(NAD, p.namespace, p.name));
    }
    // two OVS ports per pod, each with its own iface-id
    const ids = (await pod('pa').node.ovs.vsctl('--bare', '--columns=external_ids', 'list', 'Interface'))
      .split('\n')
      .join(' ');
    expect(ids).toContain('iface-id=default_pa');
    expect(ids).toContain(`iface-id=${attachmentPort(NAD, 'default', 'pa')}`);
  });

  it('net1 has the attachment address and the network route, and no default route', async () => {
    const p = pod('pa');
    const addrs = await run('ip', ['-n', p.netns, '-4', '-o', 'addr', 'show', 'dev', 'net1']);
    expect(addrs).toContain('10.245.1.5/24');
    const routes = await run('ip', ['-n', p.netns, '-4', 'route']);
    expect(routes).toMatch(/10\.245\.0\.0\/16 via 10\.245\.1\.1 dev net1/);
    expect(routes).toMatch(/default via 10\.244\.1\.1 dev eth0/);
    expect(routes).not.toMatch(/default via .* dev net1/);
  });

  it('the pods ping each other over net1 across nodes (Geneve), and over eth0', async () => {
    await central!.nbctl('--wait=hv', 'sync');
    await ping(pod('pa').netns, '10.245.2.5');
    await ping(pod('pb').netns, '10.245.1.5');
    await ping(pod('pa').netns, '10.244.2.5');
  });

  it('the network-status Multus builds from our results matches the allocations', () => {
    for (const p of pods) {
      const r = results.get(p.name)!;
      const status = [
        networkStatusFromResult('ovn-kubernetes', 'eth0', r.eth0, true),
        networkStatusFromResult(NAD, 'net1', r.net1),
      ];
      const att = atts.get(p.name)!;
      expect(status[0]).toMatchObject({
        name: 'ovn-kubernetes',
        interface: 'eth0',
        ips: [p.ip],
        default: true,
      });
      expect(status[0]!.gateway).toEqual([p.ip.replace(/\.\d+$/, '.1')]);
      expect(status[1]).toMatchObject({
        name: NAD,
        interface: 'net1',
        ips: [att.ips[0]!.split('/')[0]],
        mac: macFromIp(att.ips[0]!),
      });
      // no default route through the secondary network: no gateway in its status
      expect(status[1]!.gateway).toBeUndefined();
    }
  });

  it('DEL of net1 removes only net1; eth0 keeps working', async () => {
    const p = pod('pa');
    const r = await cniAttachment('DEL', p);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const links = await run('ip', ['-n', p.netns, '-o', 'link']);
    expect(links).not.toContain('net1');
    expect(links).toContain('eth0');
    await ping(p.netns, '10.244.2.5');
    const again = await cniAttachment('DEL', p);
    expect(again.code).toBe(0);
  });
});
