import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/util/topology.js';
import {
  buildTopology,
  networkOf,
  readNbSnapshot,
  renderDot,
  renderMermaid,
  type Topology,
} from '../../src/ovn/topology/index.js';
import { startOvsdbServer, NB_SCHEMA, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('topo-');
let nb: OvsdbServer;
let topo: Topology;

async function nbctl(...args: string[]): Promise<string> {
  return run('ovn-nbctl', [`--db=${nb.unix}`, ...args]);
}

beforeAll(async () => {
  nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
  // a small cluster: cluster router, join, two node switches with pods, one gateway router
  await nbctl(
    'lr-add',
    'ovn_cluster_router',
    '--',
    'set',
    'logical_router',
    'ovn_cluster_router',
    'external_ids:k8s-cluster-router=yes',
  );
  await nbctl('ls-add', 'join');
  await nbctl(
    'lrp-add',
    'ovn_cluster_router',
    'rtoj-ovn_cluster_router',
    '0a:58:64:40:00:01',
    '100.64.0.1/16',
  );
  await nbctl(
    'lsp-add',
    'join',
    'jtor-ovn_cluster_router',
    '--',
    'lsp-set-type',
    'jtor-ovn_cluster_router',
    'router',
    '--',
    'lsp-set-options',
    'jtor-ovn_cluster_router',
    'router-port=rtoj-ovn_cluster_router',
    '--',
    'lsp-set-addresses',
    'jtor-ovn_cluster_router',
    'router',
  );
  for (const [node, i] of [
    ['node-a', 0],
    ['node-b', 1],
  ] as const) {
    await nbctl(
      'ls-add',
      node,
      '--',
      'set',
      'logical_switch',
      node,
      `other_config:subnet=10.128.${i * 2}.0/23`,
    );
    await nbctl(
      'lrp-add',
      'ovn_cluster_router',
      `rtos-${node}`,
      `0a:58:0a:80:0${i}:01`,
      `10.128.${i * 2}.1/23`,
    );
    await nbctl(
      'lsp-add',
      node,
      `stor-${node}`,
      '--',
      'lsp-set-type',
      `stor-${node}`,
      'router',
      '--',
      'lsp-set-options',
      `stor-${node}`,
      `router-port=rtos-${node}`,
      '--',
      'lsp-set-addresses',
      `stor-${node}`,
      'router',
    );
    await nbctl(
      'lsp-add',
      node,
      `k8s-${node}`,
      '--',
      'lsp-set-addresses',
      `k8s-${node}`,
      `0a:58:0a:80:0${i * 2}:02 10.128.${i * 2}.2`,
    );
    await nbctl(
      'lsp-add',
      node,
      `default_web-${i}`,
      '--',
      'lsp-set-addresses',
      `default_web-${i}`,
      `0a:58:0a:80:0${i * 2}:05 10.128.${i * 2}.5`,
    );
  }
  await nbctl('lr-add', 'GR_node-a', '--', 'set', 'logical_router', 'GR_node-a', 'options:chassis=chassis-a');
  await nbctl('lrp-add', 'GR_node-a', 'rtoj-GR_node-a', '0a:58:64:40:00:02', '100.64.0.2/16');
  await nbctl(
    'lsp-add',
    'join',
    'jtor-GR_node-a',
    '--',
    'lsp-set-type',
    'jtor-GR_node-a',
    'router',
    '--',
    'lsp-set-options',
    'jtor-GR_node-a',
    'router-port=rtoj-GR_node-a',
    '--',
    'lsp-set-addresses',
    'jtor-GR_node-a',
    'router',
  );
  await nbctl('lr-route-add', 'GR_node-a', '10.128.0.0/14', '100.64.0.1');
  await nbctl('lr-nat-add', 'GR_node-a', 'snat', '172.18.0.2', '10.128.0.0/14');
  await nbctl('ls-add', 'ext_node-a');
  await nbctl('lrp-add', 'GR_node-a', 'rtoe-GR_node-a', '02:42:ac:12:00:02', '172.18.0.2/16');
  await nbctl(
    'lsp-add',
    'ext_node-a',
    'etor-GR_node-a',
    '--',
    'lsp-set-type',
    'etor-GR_node-a',
    'router',
    '--',
    'lsp-set-options',
    'etor-GR_node-a',
    'router-port=rtoe-GR_node-a',
    '--',
    'lsp-set-addresses',
    'etor-GR_node-a',
    'router',
  );
  await nbctl(
    'lsp-add',
    'ext_node-a',
    'breth0_node-a',
    '--',
    'lsp-set-type',
    'breth0_node-a',
    'localnet',
    '--',
    'lsp-set-options',
    'breth0_node-a',
    'network_name=physnet',
    '--',
    'lsp-set-addresses',
    'breth0_node-a',
    'unknown',
  );
  // a service: one load balancer through the cluster group, attached to both node switches
  await nbctl(
    'lb-add',
    'Service_default/web_TCP_cluster',
    '172.30.0.10:80',
    '10.128.0.5:8080,10.128.2.5:8080',
    'tcp',
  );
  const lb = (
    await nbctl('--bare', '--columns=_uuid', 'find', 'load_balancer', 'name=Service_default/web_TCP_cluster')
  ).trim();
  const grp = (
    await nbctl('create', 'load_balancer_group', 'name=clusterLBGroup', `load_balancer=${lb}`)
  ).trim();
  for (const node of ['node-a', 'node-b'])
    await nbctl('add', 'logical_switch', node, 'load_balancer_group', grp);
  // a secondary layer3 network, named the ovn-kubernetes way and tagged
  await nbctl(
    'ls-add',
    'l3.network_node-a',
    '--',
    'set',
    'logical_switch',
    'l3.network_node-a',
    'external_ids:k8s.ovn.org/network=l3-network',
    'other_config:subnet=10.200.0.0/24',
  );
  await nbctl(
    'lsp-add',
    'l3.network_node-a',
    'l3.network_default_web-0',
    '--',
    'lsp-set-addresses',
    'l3.network_default_web-0',
    '0a:58:0a:c8:00:05 10.200.0.5',
  );
  await nbctl('lr-add', 'l3.network_ovn_cluster_router');
  topo = buildTopology(await readNbSnapshot({ remotes: nb.unix }));
});

afterAll(async () => {
  await nb?.stop();
  tmp.cleanup();
});

describe('topology model', () => {
  it('finds routers, gateway routers, switches, links, LBs and networks', () => {
    expect(topo.routers.map((r) => r.name)).toEqual([
      'GR_node-a',
      'l3.network_ovn_cluster_router',
      'ovn_cluster_router',
    ]);
    expect(topo.routers.find((r) => r.name === 'GR_node-a')).toMatchObject({
      gateway: true,
      chassis: 'chassis-a',
    });
    expect(topo.routers.find((r) => r.name === 'GR_node-a')?.nats).toEqual([
      'snat 10.128.0.0/14 -> 172.18.0.2',
    ]);
    expect(topo.switches.find((s) => s.name === 'node-a')).toMatchObject({ subnet: '10.128.0.0/23' });
    expect(topo.switches.find((s) => s.name === 'node-a')?.ports.map((p) => p.addresses)).toContain(
      '0a:58:0a:80:00:05 10.128.0.5',
    );
    const cr = topo.routers.find((r) => r.name === 'ovn_cluster_router')!;
    const linked = topo.links
      .filter((l) => l.kind === 'router-switch' && l.from === cr.id)
      .map((l) => topo.switches.find((s) => s.id === l.to)?.name);
    expect(linked.sort()).toEqual(['join', 'node-a', 'node-b']);
    expect(topo.externals.map((e) => e.name)).toEqual(['physnet']);
    expect(topo.loadBalancers[0]).toMatchObject({
      name: 'Service_default/web_TCP_cluster',
      vips: ['172.30.0.10:80 -> 10.128.0.5:8080,10.128.2.5:8080'],
    });
    expect(topo.networks).toEqual(['default', 'l3-network', 'l3.network']);
    expect(topo.switches.find((s) => s.name === 'l3.network_node-a')?.network).toBe('l3-network');
  });

  it('tells secondary networks by external id or by name prefix', () => {
    expect(networkOf('l2.network_ovn_layer2_switch')).toBe('l2.network');
    expect(networkOf('node-a')).toBe('default');
    expect(networkOf('GR_node-a')).toBe('default');
    expect(networkOf('x', { 'k8s.ovn.org/network': 'tenant-blue' })).toBe('tenant-blue');
  });
});

describe('renderings', () => {
  it('dot has a cluster per network and the switch-router edges', () => {
    const dot = renderDot(topo);
    expect(dot).toMatch(/^digraph ovn_topology \{/);
    expect(dot).toContain('label="network l3-network"');
    expect(dot).toContain('switch node-b');
    expect(dot).toContain('gateway router GR_node-a');
    expect(dot).toMatch(/lr_\w+ -> ls_\w+ \[label="10\.128\.2\.1\/23"\]/);
  });

  it('mermaid is a flowchart with subgraphs and escaped labels', () => {
    const m = renderMermaid(topo);
    expect(m.split('\n')[0]).toBe('flowchart TB');
    expect(m).toContain('subgraph net0["default network"]');
    expect(m).toContain('172.30.0.10:80 -&gt; 10.128.0.5:8080,10.128.2.5:8080');
    expect(m).not.toMatch(/"[^"\n]*<script/);
  });

  it('`ovn-k8s-util topology --format svg` writes valid SVG naming every switch', async () => {
    const out = join(tmp.dir, 'topo.svg');
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync([
      'node',
      'x',
      'topology',
      '--format',
      'svg',
      '--nb-address',
      nb.unix,
      '-o',
      out,
    ]);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('<svg');
    // a real XML parser must accept it; print the text nodes for the name check
    const texts = await run('/usr/bin/python3', [
      '-c',
      'import sys,xml.etree.ElementTree as E\nr=E.parse(sys.argv[1]).getroot()\nprint("\\n".join(t.text or "" for t in r.iter("{http://www.w3.org/2000/svg}text")))',
      out,
    ]);
    for (const name of ['join', 'node-a', 'node-b', 'ext_node-a', 'l3.network_node-a'])
      expect(texts).toContain(`switch ${name}`);
    expect(texts).toContain('gateway router GR_node-a');
  });

  it('rejects an unknown format', async () => {
    const program = new Command().exitOverride();
    register(program);
    await expect(
      program.parseAsync(['node', 'x', 'topology', '--format', 'png', '--nb-address', nb.unix]),
    ).rejects.toThrow(/dot, svg or mermaid/);
  });
});
