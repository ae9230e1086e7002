/**
 * The CNI plugin end to end on one chassis: OVN central, one node (ovs-vswitchd netdev and
 * ovn-controller in the node's namespace, prepared by minion-init), two pods as network
 * namespaces plugged by calling the built plugin exactly as a container runtime does. Then real
 * packets: ping, a 1 MiB TCP transfer, node to pod through the management port; CHECK; DEL
 * leaves nothing behind.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { createNetns, deleteNetns } from '../../src/runtime/ovs-node.js';
import { run, waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';
import {
  annotatePod,
  bringUpNode,
  cni,
  declarePod,
  waitLspUp,
  type TestNode,
  type TestPod,
} from './cluster.js';
import { ensureBuilt, ping, startTcpSink, tcpTransfer, uniq, type TcpSink } from './harness.js';

const id = uniq();
const NODE_NS = `ce${id}`;
const tmp = tempDir('h9ce-');
let central: OvnCentral | undefined;
let sim: K8sSim | undefined;
let node: TestNode | undefined;
let sink: TcpSink | undefined;
const pods: TestPod[] = [];
const extraNetns: string[] = [];
const podNs = (n: string) => `c${n}${id}`;

beforeAll(async () => {
  await ensureBuilt();
  central = await startOvnCentral({ dir: join(tmp.dir, 'c') });
  sim = await startK8sSim();
  await createNetns(NODE_NS);
  node = await bringUpNode({
    dir: tmp.dir,
    central,
    sim,
    name: 'node1',
    netns: NODE_NS,
    subnet: '10.244.1.0/24',
    encapIp: '127.0.0.1',
  });
  for (const [name, ip] of [
    ['pod-a', '10.244.1.5'],
    ['pod-b', '10.244.1.6'],
    ['pod-late', '10.244.1.7'],
    ['pod-never', '10.244.1.8'],
  ] as const) {
    const p: TestPod = {
      namespace: 'default',
      name,
      netns: podNs(name.slice(4)),
      containerId: `${id}${name.replace('-', '')}0123456789abcdef`,
      ip,
      node,
    };
    await createNetns(p.netns);
    pods.push(p);
  }
}, 60_000);

afterAll(async () => {
  await sink?.stop().catch(() => undefined);
  await node?.stop().catch(() => undefined);
  await central?.stop().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  for (const ns of [...pods.map((p) => p.netns), ...extraNetns]) await deleteNetns(ns);
  await deleteNetns(NODE_NS);
  tmp.cleanup();
});

const pod = (name: string) => pods.find((p) => p.name === name)!;
const ports = async () => (await node!.ovs.vsctl('list-ports', 'br-int')).split('\n').filter((s) => s !== '');
const hostLinks = async () =>
  (JSON.parse(await run('ip', ['-n', NODE_NS, '-j', 'link', 'show'])) as Array<{ ifname: string }>).map(
    (l) => l.ifname,
  );

describe('CNI plugin on one chassis', () => {
  it('ADD plugs two pods (1.0.0 and 0.4.0 results) and ovn-controller binds them', async () => {
    const a = pod('pod-a');
    const b = pod('pod-b');
    await declarePod(central!, sim!, a);
    await declarePod(central!, sim!, b);
    const ra = await cni('ADD', a, { waitForOvnInstalled: true });
    expect(ra.stdout.length, ra.stderr).toBeGreaterThan(0);
    expect(ra.code, ra.stdout).toBe(0);
    const resA = JSON.parse(ra.stdout) as {
      cniVersion: string;
      interfaces: Array<{ name: string; mac?: string; sandbox?: string }>;
      ips: unknown[];
      routes: unknown[];
    };
    expect(resA.cniVersion).toBe('1.0.0');
    expect(resA.interfaces[1]).toEqual({
      name: 'eth0',
      mac: '0a:58:0a:f4:01:05',
      sandbox: `/var/run/netns/${a.netns}`,
    });
    expect(resA.interfaces[0]!.name).toBe(a.containerId.slice(0, 15));
    expect(resA.ips).toEqual([{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 }]);
    expect(resA.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);

    // without k8sApiServer in the config the plugin finds the API in the OVS external_ids
    const rb = await cni('ADD', b, { cniVersion: '0.4.0', k8sApiServer: undefined });
    expect(rb.code, rb.stdout).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({
      cniVersion: '0.4.0',
      ips: [{ version: '4', address: '10.244.1.6/24' }],
    });

    // OVS: the host end on br-int with the external_ids ovn-controller binds by
    const host = a.containerId.slice(0, 15);
    expect(await ports()).toEqual(expect.arrayContaining([host, b.containerId.slice(0, 15)]));
    const ids = await node!.ovs.vsctl(
      'get',
      'Interface',
      host,
      'external_ids:iface-id',
      'external_ids:attached_mac',
      'external_ids:ip_addresses',
      'external_ids:sandbox',
      'external_ids:ovn-installed',
    );
    expect(
      ids
        .split('\n')
        .slice(0, 5)
        .map((s) => s.replace(/"/g, '')),
    ).toEqual(['default_pod-a', '0a:58:0a:f4:01:05', '10.244.1.5/24', a.containerId, 'true']);
    expect(
      (await node!.ovs.vsctl('get', 'Interface', host, 'external_ids:iface-id-ver')).replace(/"/g, '').trim(),
    ).toMatch(/^[0-9a-f-]{36}$/);
    // inside the pod: MTU 1400, the address, default route, tx checksum offload off (netdev datapath)
    const link = JSON.parse(await run('ip', ['-n', a.netns, '-j', 'addr', 'show', 'dev', 'eth0'])) as Array<{
      mtu: number;
      address: string;
      addr_info: Array<{ local: string }>;
    }>;
    expect(link[0]).toMatchObject({ mtu: 1400, address: '0a:58:0a:f4:01:05' });
    expect(link[0]!.addr_info.map((x) => x.local)).toContain('10.244.1.5');
    expect(await run('ip', ['-n', a.netns, 'route', 'show', 'default'])).toContain('via 10.244.1.1 dev eth0');
    expect(await run('ip', ['netns', 'exec', a.netns, 'ethtool', '-k', 'eth0'])).toMatch(
      /tx-checksumming: off/,
    );
    await waitLspUp(central!, a);
    await waitLspUp(central!, b);
  });

  it('carries ping and a 1 MiB TCP transfer between the pods, and node to pod through the management port', async () => {
    const a = pod('pod-a');
    const b = pod('pod-b');
    await central!.nbctl('--wait=hv', 'sync');
    await ping(a.netns, '10.244.1.6');
    await ping(a.netns, '10.244.1.1'); // the cluster router port
    sink = await startTcpSink(b.netns, 8080);
    expect(await tcpTransfer(a.netns, '10.244.1.6', 8080)).toMatch(/^ok 1048576 [0-9a-f]{64}/);
    // the node itself reaches pods through ovn-k8s-mp0 (10.244.1.2), set up by minion-init
    await ping(NODE_NS, '10.244.1.5');
    expect(await tcpTransfer(NODE_NS, '10.244.1.6', 8080, 200_000)).toMatch(/^ok 200000 /);
  });

  it('a repeated ADD re-plugs the pod; CHECK passes, and fails once the address is gone', async () => {
    const a = pod('pod-a');
    const prev = JSON.parse((await cni('ADD', a)).stdout) as unknown; // a repeated ADD re-plugs the same way
    await central!.nbctl('--wait=hv', 'sync');
    const ok = await cni('CHECK', a, { prevResult: prev });
    expect(ok.code, ok.stdout).toBe(0);
    // the re-plugged interface has a new ofport: ovn-controller re-installs its flows
    await waitFor(
      'pod-a reachable again',
      async () => ping(a.netns, '10.244.1.6', 1).then(() => true),
      10_000,
      200,
    );
    // CHECK notices a pod interface that went away
    await run('ip', ['-n', a.netns, 'link', 'set', 'eth0', 'down']);
    await run('ip', ['-n', a.netns, 'addr', 'flush', 'dev', 'eth0']);
    const bad = await cni('CHECK', a, { prevResult: prev });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      code: 103,
      msg: expect.stringContaining('lacks address 10.244.1.5/24'),
    });
  });

  it('a new sandbox of the same pod replaces the stale port of the old one', async () => {
    const b = pod('pod-b');
    const oldHost = b.containerId.slice(0, 15);
    const fresh: TestPod = { ...b, netns: podNs('b2'), containerId: `${id}podbnew0123456789abcdef` };
    await createNetns(fresh.netns);
    extraNetns.push(b.netns);
    // the runtime made a new sandbox (new namespace, new container id); DEL of the old one never came
    Object.assign(b, { netns: fresh.netns, containerId: fresh.containerId });
    const r = await cni('ADD', b, { waitForOvnInstalled: true });
    expect(r.code, r.stdout).toBe(0);
    expect(await ports()).not.toContain(oldHost);
    expect(await hostLinks()).not.toContain(oldHost);
    expect(await ports()).toContain(b.containerId.slice(0, 15));
    await waitFor(
      'new pod-b sandbox reachable',
      async () => ping(NODE_NS, '10.244.1.6', 1).then(() => true),
      10_000,
      200,
    );
  });

  it('ADD waits for an annotation written later, and times out with code 100 leaving nothing behind', async () => {
    const late = pod('pod-late');
    await declarePod(central!, sim!, late, false);
    const pending = cni('ADD', late);
    await new Promise((r) => setTimeout(r, 1_500));
    annotatePod(sim!, late);
    const r = await pending;
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ips: [{ address: '10.244.1.7/24' }] });

    const never = pod('pod-never');
    await declarePod(central!, sim!, never, false);
    const before = await ports();
    const t = await cni('ADD', never, { annotationTimeoutMs: 800 });
    expect(t.code).toBe(1);
    const err = JSON.parse(t.stdout) as { code: number; msg: string };
    expect(err.code).toBe(100);
    expect(err.msg).toMatch(/default\/pod-never has no k8s\.ovn\.org\/pod-networks annotation/);
    expect(await ports()).toEqual(before);
    expect(await hostLinks()).not.toContain(never.containerId.slice(0, 15));
  });

  it('DEL removes the OVS port, the veth and the pod interface, and is idempotent', async () => {
    const a = pod('pod-a');
    expect(await ports()).toContain(a.containerId.slice(0, 15));
    const host = a.containerId.slice(0, 15);
    const d = await cni('DEL', a);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toBe('');
    expect(await ports()).not.toContain(host);
    expect(await hostLinks()).not.toContain(host);
    expect(await run('ip', ['-n', a.netns, '-br', 'link'])).not.toContain('eth0');
    const again = await cni('DEL', a);
    expect(again.code, again.stdout).toBe(0);
    // the logical port goes down once the chassis lost the interface
    await central!.nbctl('--wait=hv', 'sync');
    expect((await central!.nbctl('get', 'logical_switch_port', 'default_pod-a', 'up')).trim()).toBe('false');
    // the other pod keeps working
    await ping(pod('pod-b').netns, '10.244.1.7', 1);
  });

  it('DEL after the pod namespace is already gone still removes the port and the veth', async () => {
    const late = pod('pod-late');
    const host = late.containerId.slice(0, 15);
    expect(await ports()).toContain(host);
    await deleteNetns(late.netns);
    const d = await cni('DEL', late);
    expect(d.code, d.stdout).toBe(0);
    expect(await ports()).not.toContain(host);
    expect(await hostLinks()).not.toContain(host);
  });
});
