/**
 * minion-init, nics-to-bridge and gateway-init against a real node: an Open_vSwitch ovsdb-server
 * and ovs-vswitchd (userspace datapath) inside a network namespace we create, the Kubernetes
 * simulator for the Node object, and our built CLIs run inside that namespace.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { OvsConfigDb } from '../../src/node/ovs-config.js';
import { nodeGateway } from '../../src/watcher/convert.js';
import {
  createNetns,
  createVeth,
  deleteNetns,
  forwardLoopbackPort,
  startOvsNode,
  type LoopbackForward,
  type OvsNode,
} from '../../src/runtime/ovs-node.js';
import { run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';
import {
  createSimNode,
  ensureBuilt,
  OVERLAY_CLI,
  runNode,
  simNodeAnnotations,
  uniq,
  UTIL_CLI,
} from './harness.js';

const id = uniq();
const NS = `ni${id}`; // the node
const OUT = `no${id}`; // "outside" peers of the node's NICs
const tmp = tempDir('h9ni-');
let node: OvsNode | undefined;
let sim: K8sSim | undefined;
let apiForward: LoopbackForward | undefined;

const ipJson = async (ns: string, ...args: string[]) =>
  JSON.parse(await run('ip', ['-n', ns, '-j', ...args])) as Array<Record<string, unknown>>;
const addrsOf = async (ns: string, dev: string): Promise<string[]> =>
  (
    (await ipJson(ns, 'addr', 'show', 'dev', dev))[0]?.addr_info as Array<{
      local: string;
      prefixlen: number;
      scope: string;
    }>
  )
    .filter((a) => a.scope === 'global')
    .map((a) => `${a.local}/${a.prefixlen}`);

beforeAll(async () => {
  await ensureBuilt();
  writeFileSync(
    join(tmp.dir, 'ca.pem'),
    '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n',
  );
  await createNetns(NS);
  await createNetns(OUT);
  node = await startOvsNode({ dir: join(tmp.dir, 'n1'), name: 'node1', netns: NS });
  sim = await startK8sSim();
  // the node's processes reach the simulator at the same URL from inside the node namespace
  apiForward = await forwardLoopbackPort(NS, sim.port, join(tmp.dir, 'api.sock'));
  createSimNode(sim, 'node1', { 'k8s.ovn.org/node-subnets': JSON.stringify({ default: '10.244.1.0/24' }) });
});

afterAll(async () => {
  await node?.stop().catch(() => undefined);
  await apiForward?.stop().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  await deleteNetns(NS);
  await deleteNetns(OUT);
  tmp.cleanup();
});

function minionArgs(): string[] {
  return [
    'minion-init',
    '--cluster-ip-subnet',
    '10.244.0.0/16/24',
    '--node-name',
    'node1',
    '--ovs-address',
    node!.ovsRemote,
    '--encap-ip',
    '192.168.50.1',
    '--sb-address',
    'unix:/run/ovn/ovnsb_db.sock',
    '--nb-address',
    'tcp:127.0.0.1:6641',
    '--datapath-type',
    'netdev',
    '--k8s-api-server',
    sim!.url,
    '--k8s-token',
    'not-a-real-token',
    '--k8s-cacert',
    join(tmp.dir, 'ca.pem'),
    '--cni-conf-dir',
    join(tmp.dir, 'net.d'),
    '--cni-bin-dir',
    join(tmp.dir, 'bin'),
    '--system-id-file',
    join(tmp.dir, 'system-id.conf'),
  ];
}

/** Counts updates to the configuration columns minion-init could write, on a separate connection. */
async function watchConfigWrites(remote: string): Promise<{ count(): number; close(): void }> {
  const client = await OvsdbClient.connect(remote);
  let n = 0;
  await client.monitor(
    'Open_vSwitch',
    'cfg',
    {
      Open_vSwitch: { columns: ['external_ids', 'bridges', 'other_config'] },
      Bridge: { columns: ['name', 'ports', 'datapath_type', 'fail_mode', 'other_config', 'external_ids'] },
      Port: { columns: ['name', 'interfaces', 'external_ids'] },
      Interface: { columns: ['name', 'type', 'external_ids', 'mac', 'mtu_request'] },
    },
    { handler: () => n++ },
  );
  return { count: () => n, close: () => client.close() };
}

describe('minion-init', () => {
  it('sets external_ids, br-int, the management port, host routes and CNI files; a second run writes nothing', async () => {
    // a foreign key and an operator-chosen value we do not own
    await node!.vsctl(
      'set',
      'Open_vSwitch',
      '.',
      'external_ids:foo=bar',
      'external_ids:ovn-cms-options=keep',
    );
    const first = await runNode(OVERLAY_CLI, minionArgs(), { netns: NS });
    expect(first.stderr).toBe('');
    expect(first.code, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout) as { systemId: string; nodeSubnets: string[]; ovsWrites: number };
    expect(r1.nodeSubnets).toEqual(['10.244.1.0/24']); // from the Node annotation
    expect(r1.ovsWrites).toBeGreaterThan(0);

    const listed = JSON.parse(
      await node!.vsctl('--format=json', '--columns=external_ids', 'list', 'Open_vSwitch'),
    ) as {
      data: [[['map', [string, string][]]]];
    };
    const map = Object.fromEntries(listed.data[0][0][1]);
    expect(map).toMatchObject({
      foo: 'bar',
      'ovn-cms-options': 'keep',
      'system-id': r1.systemId,
      hostname: 'node1',
      'ovn-remote': 'unix:/run/ovn/ovnsb_db.sock',
      'ovn-nb': 'tcp:127.0.0.1:6641',
      'ovn-encap-ip': '192.168.50.1',
      'ovn-encap-type': 'geneve',
      'ovn-bridge-datapath-type': 'netdev',
      'k8s-api-server': sim!.url,
      'k8s-api-token': 'not-a-real-token',
      // PEM newlines kept as literal \n, as the original stored them
      'k8s-ca-certificate': '-----BEGIN CERTIFICATE-----\\nMIIBfake\\n-----END CERTIFICATE-----',
    });
    expect(readFileSync(join(tmp.dir, 'system-id.conf'), 'utf8').trim()).toBe(r1.systemId);
    expect(
      (await node!.vsctl('get', 'Bridge', 'br-int', 'datapath_type', 'fail_mode')).split('\n').slice(0, 2),
    ).toEqual(['netdev', 'secure']);
    expect((await node!.vsctl('port-to-br', 'ovn-k8s-mp0')).trim()).toBe('br-int');
    expect(
      (await node!.vsctl('get', 'Interface', 'ovn-k8s-mp0', 'type', 'external_ids:iface-id'))
        .split('\n')
        .slice(0, 2),
    ).toEqual(['internal', 'k8s-node1']);
    // host side, inside the node namespace: .2/len, the MAC the watcher puts on k8s-node1, route via .1
    expect(await addrsOf(NS, 'ovn-k8s-mp0')).toEqual(['10.244.1.2/24']);
    expect((await ipJson(NS, 'link', 'show', 'dev', 'ovn-k8s-mp0'))[0]?.address).toBe('0a:58:0a:f4:01:02');
    const routes = await ipJson(NS, 'route', 'show', '10.244.0.0/16');
    expect(routes[0]).toMatchObject({ gateway: '10.244.1.1', dev: 'ovn-k8s-mp0' });
    const conf = JSON.parse(readFileSync(join(tmp.dir, 'net.d', '10-ovn-kubernetes.conf'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(conf).toMatchObject({
      cniVersion: '1.0.0',
      type: 'ovn-k8s-cni-overlay',
      ovsAddress: node!.ovsRemote,
      mtu: 1400,
    });
    expect(JSON.stringify(conf)).not.toContain('not-a-real-token');
    expect(statSync(join(tmp.dir, 'bin', 'ovn-k8s-cni-overlay')).mode & 0o111).not.toBe(0);
    // the launcher is a shell script that runs the built plugin
    const launched = await run(join(tmp.dir, 'bin', 'ovn-k8s-cni-overlay'), [], {
      env: { ...process.env, CNI_COMMAND: 'VERSION' },
      input: '{"cniVersion":"1.0.0"}',
    });
    expect(JSON.parse(launched)).toMatchObject({
      supportedVersions: expect.arrayContaining(['1.0.0', '0.4.0', '0.3.1']),
    });

    // second run: nothing to write, in OVS or on the host
    const db = await OvsConfigDb.connect(node!.ovsRemote);
    const before = await db.openVswitch();
    const watch = await watchConfigWrites(node!.ovsRemote);
    const second = await runNode(OVERLAY_CLI, minionArgs(), { netns: NS });
    expect(second.code, second.stderr).toBe(0);
    const r2 = JSON.parse(second.stdout) as {
      systemId: string;
      ovsWrites: number;
      changedExternalIds: string[];
      hostChanges: string[];
    };
    expect(r2).toMatchObject({
      systemId: r1.systemId,
      ovsWrites: 0,
      changedExternalIds: [],
      hostChanges: [],
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(watch.count()).toBe(0);
    expect((await db.openVswitch()).version).toBe(before.version);
    watch.close();
    db.close();
  });

  it('keeps a system-id that is already configured', async () => {
    await node!.vsctl('set', 'Open_vSwitch', '.', 'external_ids:system-id=operator-chose-this');
    const res = await runNode(OVERLAY_CLI, minionArgs(), { netns: NS });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ systemId: 'operator-chose-this', changedExternalIds: [] });
    expect(readFileSync(join(tmp.dir, 'system-id.conf'), 'utf8').trim()).toBe('operator-chose-this');
  });

  it('reports bad flags and an unreachable database in one line with a non-zero exit', async () => {
    const bad = await runNode(OVERLAY_CLI, [
      'minion-init',
      '--cluster-ip-subnet',
      '10.244.0.0/33',
      '--node-name',
      'x',
      '--ovs-address',
      node!.ovsRemote,
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--cluster-ip-subnet');
    const missing = await runNode(OVERLAY_CLI, ['minion-init', '--node-name', 'x']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--cluster-ip-subnet');
    const down = await runNode(OVERLAY_CLI, [
      'minion-init',
      '--cluster-ip-subnet',
      '10.244.0.0/16',
      '--node-name',
      'x',
      '--minion-switch-subnet',
      '10.244.9.0/24',
      '--ovs-address',
      `unix:${join(tmp.dir, 'nothing-here.sock')}`,
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/cannot reach the Open_vSwitch database .*nothing-here\.sock/);
  });

  it('gives up waiting for a node subnet that never comes, naming the cause', async () => {
    createSimNode(sim!, 'node-without-subnet');
    const res = await runNode(
      OVERLAY_CLI,
      [
        'minion-init',
        '--cluster-ip-subnet',
        '10.244.0.0/16',
        '--node-name',
        'node-without-subnet',
        '--ovs-address',
        node!.ovsRemote,
        '--k8s-api-server',
        sim!.url,
        '--subnet-timeout',
        '500',
      ],
      { netns: NS },
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no subnet for node node-without-subnet .*node-subnets/);
  });
});

describe('nics-to-bridge', () => {
  it('moves a NIC with its MAC, addresses and routes into br<NIC>; a second run changes nothing', async () => {
    await createVeth('eth1', NS, 'peer1', OUT);
    await run('ip', ['-n', NS, 'link', 'set', 'eth1', 'up']);
    await run('ip', ['-n', OUT, 'link', 'set', 'peer1', 'up']);
    await run('ip', ['-n', NS, 'addr', 'add', '10.99.0.2/24', 'dev', 'eth1']);
    await run('ip', ['-n', OUT, 'addr', 'add', '10.99.0.1/24', 'dev', 'peer1']);
    await run('ip', ['-n', OUT, 'addr', 'add', '10.98.0.1/32', 'dev', 'lo']);
    await run('ip', ['-n', NS, 'route', 'add', '10.98.0.0/16', 'via', '10.99.0.1', 'dev', 'eth1']);
    const mac = (await ipJson(NS, 'link', 'show', 'dev', 'eth1'))[0]?.address as string;

    const first = await runNode(UTIL_CLI, ['nics-to-bridge', 'eth1', '--ovs-address', node!.ovsRemote], {
      netns: NS,
    });
    expect(first.stderr).toBe('');
    expect(first.code, first.stderr).toBe(0);
    const [r1] = JSON.parse(first.stdout) as Array<{
      bridge: string;
      movedAddresses: string[];
      movedRoutes: string[];
      ovsWrites: number;
    }>;
    expect(r1).toMatchObject({ bridge: 'breth1', movedAddresses: ['10.99.0.2/24'] });
    expect(r1!.movedRoutes).toHaveLength(1);
    expect((await node!.vsctl('port-to-br', 'eth1')).trim()).toBe('breth1');
    expect((await node!.vsctl('get', 'Bridge', 'breth1', 'other_config:hwaddr')).trim()).toBe(`"${mac}"`);
    expect((await node!.vsctl('get', 'Bridge', 'breth1', 'datapath_type')).trim()).toBe('netdev'); // br-int's
    expect(await addrsOf(NS, 'eth1')).toEqual([]);
    expect(await addrsOf(NS, 'breth1')).toEqual(['10.99.0.2/24']);
    expect((await ipJson(NS, 'link', 'show', 'dev', 'breth1'))[0]?.address).toBe(mac);
    expect((await ipJson(NS, 'route', 'show', '10.98.0.0/16'))[0]).toMatchObject({
      gateway: '10.99.0.1',
      dev: 'breth1',
    });
    // traffic now crosses the OVS bridge (userspace datapath) and still reaches the routed peer
    await run('ip', ['netns', 'exec', NS, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '10.98.0.1']);

    const second = await runNode(UTIL_CLI, ['nics-to-bridge', 'eth1', '--ovs-address', node!.ovsRemote], {
      netns: NS,
    });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual([
      { nic: 'eth1', bridge: 'breth1', mac, movedAddresses: [], movedRoutes: [], ovsWrites: 0 },
    ]);
    expect(await addrsOf(NS, 'breth1')).toEqual(['10.99.0.2/24']);
    await run('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '2', '10.98.0.1']);
  });

  it('refuses an interface that does not exist', async () => {
    const res = await runNode(UTIL_CLI, ['nics-to-bridge', 'nosuch0', '--ovs-address', node!.ovsRemote], {
      netns: NS,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('nosuch0 does not exist');
  });
});

describe('gateway-init', () => {
  it('plumbs the NIC into a bridge, sets ovn-bridge-mappings and annotates the Node', async () => {
    await createVeth('ext0', NS, 'peer2', OUT);
    await run('ip', ['-n', NS, 'link', 'set', 'ext0', 'up']);
    await run('ip', ['-n', OUT, 'link', 'set', 'peer2', 'up']);
    await run('ip', ['-n', NS, 'addr', 'add', '172.16.0.10/24', 'dev', 'ext0']);
    await run('ip', ['-n', OUT, 'addr', 'add', '172.16.0.1/24', 'dev', 'peer2']);
    await run('ip', ['-n', NS, 'route', 'add', 'default', 'via', '172.16.0.1', 'dev', 'ext0']);
    await node!.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings=other:br-other');
    const mac = (await ipJson(NS, 'link', 'show', 'dev', 'ext0'))[0]?.address as string;
    const systemId = (await node!.vsctl('get', 'Open_vSwitch', '.', 'external_ids:system-id'))
      .trim()
      .replace(/"/g, '');

    const args = [
      'gateway-init',
      '--cluster-ip-subnet',
      '10.244.0.0/16',
      '--node-name',
      'node1',
      '--physical-interface',
      'ext0',
      '--physical-ip',
      '172.16.0.10/24',
      '--ovs-address',
      node!.ovsRemote,
      '--k8s-api-server',
      sim!.url,
    ];
    const res = await runNode(OVERLAY_CLI, args, { netns: NS });
    expect(res.stderr).toBe('');
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ bridge: 'brext0', annotation: 'patched' });
    expect((await node!.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings')).trim()).toBe(
      '"other:br-other,physnet:brext0"',
    );
    expect(await addrsOf(NS, 'brext0')).toEqual(['172.16.0.10/24']);
    const ann = simNodeAnnotations(sim!, 'node1');
    expect(JSON.parse(ann['k8s.ovn.org/l3-gateway-config']!)).toEqual({
      default: {
        mode: 'shared',
        'interface-id': 'brext0_node1',
        'mac-address': mac,
        'ip-addresses': ['172.16.0.10/24'],
        'next-hops': ['172.16.0.1'], // taken from the default route, which moved to the bridge
        'node-port-enable': 'true',
        'vlan-id': '0',
      },
    });
    expect(ann['k8s.ovn.org/node-chassis-id']).toBe(systemId);
    expect(ann['k8s.ovn.org/node-subnets']).toBeDefined(); // other annotations untouched

    const again = await runNode(OVERLAY_CLI, args, { netns: NS });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ annotation: 'unchanged', ovsWrites: 0 });
  });

  it('records --rampout-ip-subnets in l3-gateway-config, where the watcher reads them', async () => {
    // the node of the test above: brext0 exists, the default route goes through it
    const base = [
      'gateway-init',
      '--cluster-ip-subnet',
      '10.244.0.0/16',
      '--node-name',
      'node1',
      '--bridge-interface',
      'brext0',
      '--physical-ip',
      '172.16.0.10/24',
      '--ovs-address',
      node!.ovsRemote,
      '--k8s-api-server',
      sim!.url,
    ];
    const gatewayConfig = () => {
      const annotations = simNodeAnnotations(sim!, 'node1');
      return {
        recorded: (
          JSON.parse(annotations['k8s.ovn.org/l3-gateway-config']!) as { default: Record<string, unknown> }
        ).default,
        read: nodeGateway({ metadata: { name: 'node1', annotations } }),
      };
    };
    const withRampout = [...base, '--rampout-ip-subnets', '192.168.1.0/24, 192.168.2.0/24,fd00:99:0::/64'];
    const res = await runNode(OVERLAY_CLI, withRampout, { netns: NS });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ annotation: 'patched' });
    const ramped = gatewayConfig();
    // canonical CIDRs, next to the keys ovn-kubernetes writes
    expect(ramped.recorded).toMatchObject({
      mode: 'shared',
      'ip-addresses': ['172.16.0.10/24'],
      'rampout-ip-subnets': ['192.168.1.0/24', '192.168.2.0/24', 'fd00:99::/64'],
    });
    expect(ramped.read?.rampoutSubnets).toEqual(['192.168.1.0/24', '192.168.2.0/24', 'fd00:99::/64']);

    const again = await runNode(OVERLAY_CLI, withRampout, { netns: NS });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ annotation: 'unchanged', ovsWrites: 0 });

    // without the flag the key goes away: no ramp-out
    const without = await runNode(OVERLAY_CLI, base, { netns: NS });
    expect(without.code, without.stderr).toBe(0);
    expect(JSON.parse(without.stdout)).toMatchObject({ annotation: 'patched' });
    const plain = gatewayConfig();
    expect(plain.recorded).not.toHaveProperty('rampout-ip-subnets');
    expect(plain.read).toBeDefined();
    expect(plain.read).not.toHaveProperty('rampoutSubnets');
  });

  it('refuses a malformed --rampout-ip-subnets before touching anything', async () => {
    const before = simNodeAnnotations(sim!, 'node1')['k8s.ovn.org/l3-gateway-config'];
    for (const [bad, why] of [
      ['192.168.1.5/24', 'host bits are set'],
      ['192.168.1.0', 'missing "/prefix-length"'],
    ] as const) {
      const res = await runNode(OVERLAY_CLI, [
        'gateway-init',
        '--cluster-ip-subnet',
        '10.244.0.0/16',
        '--node-name',
        'node1',
        '--bridge-interface',
        'brext0',
        '--physical-ip',
        '172.16.0.10/24',
        '--rampout-ip-subnets',
        `192.168.2.0/24,${bad}`,
        '--ovs-address',
        node!.ovsRemote,
        '--k8s-api-server',
        sim!.url,
      ]);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('--rampout-ip-subnets');
      expect(res.stderr).toContain(why);
    }
    expect(simNodeAnnotations(sim!, 'node1')['k8s.ovn.org/l3-gateway-config']).toBe(before);
  });

  it('rejects both or neither of --physical-interface and --bridge-interface', async () => {
    const res = await runNode(OVERLAY_CLI, [
      'gateway-init',
      '--cluster-ip-subnet',
      '10.244.0.0/16',
      '--node-name',
      'node1',
      '--physical-ip',
      '172.16.0.10/24',
      '--ovs-address',
      node!.ovsRemote,
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('exactly one of --physical-interface and --bridge-interface');
  });
});
