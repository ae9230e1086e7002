/**
 * Two chassis joined by Geneve: two node namespaces, each with its own ovs-vswitchd (netdev) and
 * ovn-controller, linked by one veth pair. Each node's end of the link is moved into an OVS bridge
 * by our nics-to-bridge (the userspace datapath can push and pop tunnels only through a bridge of
 * the same datapath, with the underlay address on that bridge), then prepared by minion-init.
 * Pods on both nodes are plugged by the built CNI plugin; then ping and TCP across nodes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { createNetns, deleteNetns } from '../../src/runtime/ovs-node.js';
import { run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';
import { bringUpTwoChassis, cni, declarePod, waitLspUp, type TestNode, type TestPod } from './cluster.js';
import { ensureBuilt, ping, startTcpSink, tcpTransfer, uniq, type TcpSink } from './harness.js';

const id = uniq();
const tmp = tempDir('h9tc-');
let central: OvnCentral | undefined;
let sim: K8sSim | undefined;
const nodes: TestNode[] = [];
const nodeNs = [`t1${id}`, `t2${id}`];
const pods: TestPod[] = [];
const sinks: TcpSink[] = [];

beforeAll(async () => {
  await ensureBuilt();
  central = await startOvnCentral({ dir: join(tmp.dir, 'c') });
  sim = await startK8sSim();
  await bringUpTwoChassis({
    dir: tmp.dir,
    central,
    sim,
    netns: [nodeNs[0]!, nodeNs[1]!],
    wire: '192.168.100',
    nodes,
  });
  const defs: Array<[string, number, string]> = [
    ['pa', 0, '10.244.1.5'],
    ['pc', 0, '10.244.1.6'],
    ['pb', 1, '10.244.2.5'],
  ];
  for (const [name, n, ip] of defs) {
    const p: TestPod = {
      namespace: 'default',
      name,
      netns: `p${name}${id}`,
      containerId: `${id}${name}fedcba9876543210`,
      ip,
      node: nodes[n]!,
    };
    await createNetns(p.netns);
    pods.push(p);
  }
}, 60_000);

afterAll(async () => {
  for (const s of sinks) await s.stop().catch(() => undefined);
  for (const n of nodes) await n.stop().catch(() => undefined);
  await central?.stop().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  for (const p of pods) await deleteNetns(p.netns);
  for (const ns of nodeNs) await deleteNetns(ns);
  tmp.cleanup();
});

const pod = (name: string) => pods.find((p) => p.name === name)!;

describe('CNI plugin on two chassis joined by Geneve', () => {
  it('plugs pods on both nodes and each chassis binds its own', async () => {
    for (const p of pods) {
      await declarePod(central!, sim!, p);
      const r = await cni('ADD', p, { waitForOvnInstalled: true });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    for (const p of pods) await waitLspUp(central!, p);
    const chassisOf = async (lsp: string) =>
      (
        await central!.sbctl('--bare', '--columns=chassis', 'find', 'port_binding', `logical_port=${lsp}`)
      ).trim();
    expect(await chassisOf('default_pa')).not.toBe(await chassisOf('default_pb'));
    expect(await chassisOf('default_pa')).toBe(await chassisOf('default_pc'));
  });

  it('carries ping and TCP between pods across nodes, and node to remote pod', async () => {
    await central!.nbctl('--wait=hv', 'sync');
    await ping(pod('pa').netns, '10.244.1.6'); // same node
    await ping(pod('pa').netns, '10.244.2.5'); // across nodes, through the cluster router
    await ping(pod('pb').netns, '10.244.1.6');
    await ping(pod('pa').netns, '10.244.2.5', 2).then(() =>
      run('ip', [
        'netns',
        'exec',
        pod('pa').netns,
        'ping',
        '-c',
        '2',
        '-M',
        'do',
        '-s',
        '1372',
        '-W',
        '2',
        '10.244.2.5',
      ]),
    ); // full 1400-byte pod MTU through the tunnel
    sinks.push(await startTcpSink(pod('pb').netns, 8080, 'from-pb'));
    sinks.push(await startTcpSink(pod('pa').netns, 8080, 'from-pa'));
    expect(await tcpTransfer(pod('pa').netns, '10.244.2.5', 8080)).toMatch(/^ok 1048576 /);
    expect(await tcpTransfer(pod('pb').netns, '10.244.1.5', 8080)).toMatch(/^ok 1048576 /);
    // node1 reaches a pod on node2 through its management port and the tunnel
    await ping(nodes[0]!.netns, '10.244.2.5');
    // the datapath really encapsulated: node1's userspace datapath has Geneve push/pop flows
    const flows = await nodes[0]!.ovs.appctl('dpctl/dump-flows');
    expect(flows).toMatch(/tnl_push\(.*geneve/);
    expect(flows).toMatch(/tnl_pop\(/);
  });

  it('reaches a load-balancer VIP with backends on both nodes (what a ClusterIP service becomes)', async () => {
    await central!.nbctl(
      'lb-add',
      'svc',
      '172.30.0.10:80',
      '10.244.1.5:8080,10.244.2.5:8080',
      'tcp',
      '--',
      'ls-lb-add',
      'node1',
      'svc',
      '--',
      'ls-lb-add',
      'node2',
      'svc',
    );
    await central!.nbctl('--wait=hv', 'sync');
    const seen = new Set<string>();
    for (let i = 0; i < 16 && seen.size < 2; i++) {
      const out = await tcpTransfer(pod('pc').netns, '172.30.0.10', 80, 10_000);
      seen.add(out.trim().split(' ').pop()!);
    }
    expect([...seen].sort()).toEqual(['from-pa', 'from-pb']);
  });

  it('DEL on one node removes that pod only', async () => {
    const b = pod('pb');
    const d = await cni('DEL', b);
    expect(d.code, d.stdout).toBe(0);
    expect(await nodes[1]!.ovs.vsctl('list-ports', 'br-int')).not.toContain(b.containerId.slice(0, 15));
    await expect(ping(pod('pa').netns, '10.244.2.5', 1)).rejects.toThrow();
    await ping(pod('pa').netns, '10.244.1.6', 1);
  });
});
