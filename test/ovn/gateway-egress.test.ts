/**
 * Egress for every pod, proved with the real ovn-northd and ovn-trace: pods of nodes without a
 * gateway leave by the cluster router's ECMP default route (one member per gateway), pods of a
 * gateway node by the src-ip route of their own node, and removing gateways takes exactly their
 * members away. The steps build on each other, as a cluster's life would. A second, dual-stack
 * cluster shows the IPv6 default route (::/0) doing the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterIntent,
  type ClusterState,
  type DesiredRow,
  type GatewayInfo,
  type OwnedRows,
} from '../../src/ovn/intent/index.js';
import { CLUSTER_ROUTER, nodeOwner, podOwner, type OwnerRef } from '../../src/ovn/names.js';
import { reconcileOwned } from '../../src/ovn/reconcile/index.js';
import type { NbOperation } from '../../src/ovn/reconcile/operations.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { tempDir } from '../helpers/tmp.js';
import { config, node1, node2, pod } from './fixture.js';
import {
  A1,
  B1,
  C1,
  type PodEnd,
  clusterRoutes,
  gatewayExit,
  gateway2,
  learnNeighbours,
  node3,
  tracePing,
} from './egress-harness.js';
import { snapshotView, transact } from './nb-harness.js';

const tmp = tempDir('ovnegr-');
let central: OvnCentral;

const state: ClusterState = {
  config,
  nodes: [node1, node2, node3],
  pods: [
    pod('default', 'a1', 'node1', '10.128.0.5/23', 'uid-a1'),
    pod('default', 'b1', 'node2', '10.128.2.5/23', 'uid-b1'),
    pod('default', 'c1', 'node3', '10.128.4.5/23', 'uid-c1'),
  ],
  services: [],
};

const traceOut = (p: PodEnd, dst?: string): Promise<string> =>
  tracePing(central, p, dst === undefined ? {} : { dst });
const exit = gatewayExit;

/** the cluster's intent as the code before the ECMP default routes wrote it */
const withoutDefaultRoutes = (owned: OwnedRows[]): OwnedRows[] =>
  owned.map((o) => ({ ...o, rows: o.rows.filter((r) => !isClusterDefaultRoute(r)) }));
const isClusterDefaultRoute = (r: DesiredRow): boolean =>
  r.table === 'Logical_Router_Static_Route' &&
  r.parents?.[0]?.key === CLUSTER_ROUTER &&
  (r.columns.ip_prefix === '0.0.0.0/0' || r.columns.ip_prefix === '::/0');

async function apply(
  alsoRemove: OwnerRef[] = [],
  shape: (o: OwnedRows[]) => OwnedRows[] = (o) => o,
): Promise<NbOperation[]> {
  const result = reconcileOwned(await snapshotView(central.nb.unix), shape(clusterIntent(state)), alsoRemove);
  expect(result.skipped).toEqual([]);
  await transact(central.nb.unix, result.operations);
  await central.syncSb();
  return result.operations;
}

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  // NB as the code before this change converged it: node1 the only gateway, no default routes
  await apply([], withoutDefaultRoutes);
  await learnNeighbours(central, 'node1');
}, 60_000);

afterAll(async () => {
  await central?.stop();
  tmp.cleanup();
});

describe('egress through the gateways (ovn-trace)', () => {
  it('before: a pod on a node without a gateway has no route out', async () => {
    const out = await traceOut(C1);
    expect(out).toMatch(/lr_in_ip_routing \(northd\.c:\d+\): 1, priority 0, uuid \w+\n\s+drop;/);
    expect(exit(out)).toEqual({ gr: undefined, snat: undefined });
  });

  it('a converged NB from before gets only the new default route, nothing else rewritten', async () => {
    const ops = await apply();
    const inserts = ops.filter((o) => o.op === 'insert');
    expect(inserts.map((o) => (o.op === 'insert' ? [o.table, o.row.ip_prefix, o.row.nexthop] : []))).toEqual([
      ['Logical_Router_Static_Route', '0.0.0.0/0', '100.64.0.2'],
    ]);
    expect(ops.filter((o) => o.op === 'update' || o.op === 'delete')).toEqual([]);
    // the only other operations: the link into the cluster router and the insert's guard
    expect(
      ops
        .filter((o) => o.op === 'mutate')
        .map((o) => (o.op === 'mutate' ? [o.table, o.mutations.map(([c, m]) => `${m} ${c}`)] : [])),
    ).toEqual([['Logical_Router', ['insert static_routes']]]);
    expect(ops.filter((o) => o.op === 'wait').map((o) => o.table)).toEqual(['Logical_Router_Static_Route']);
    expect(await clusterRoutes(central)).toEqual([
      'dst-ip 0.0.0.0/0 via 100.64.0.2',
      'src-ip 10.128.0.0/23 via 100.64.0.2',
    ]);
  });

  it('a pod on a node without a gateway leaves through the gateway, SNATed to its node IP', async () => {
    const out = await traceOut(C1);
    // the cluster router's default route (dst-ip /0), not a src-ip route, carries it to GR_node1
    expect(out).toMatch(
      /lr_in_ip_routing \(northd\.c:\d+\): reg7 == 0 && ip4\.dst == 0\.0\.0\.0\/0, priority 1,/,
    );
    expect(out).toContain('outport="jtor-GR_node1"');
    expect(out).toContain('ct_snat(172.18.0.11)');
    expect(out).toContain('output to "breth0_node1"');
    expect(exit(out)).toEqual({ gr: 'GR_node1', snat: '172.18.0.11' });
  });

  it('a gateway node keeps its pods on its own gateway: the src-ip route outranks the default route', async () => {
    const out = await traceOut(A1);
    expect(out).toMatch(/lr_in_ip_routing \(northd\.c:\d+\): ip4\.src == 10\.128\.0\.0\/23, priority \d+,/);
    expect(exit(out)).toEqual({ gr: 'GR_node1', snat: '172.18.0.11' });
    // pod-to-pod traffic of a gateway node stays inside: the connected route outranks its src-ip route
    const toC1 = await traceOut(A1, C1.ip);
    expect(toC1).toContain(`output to "${C1.port}"`);
    expect(exit(toC1).gr).toBeUndefined();
  });

  it('with two gateways the default routes form an ECMP group over both, and each gateway node keeps its own', async () => {
    state.nodes[1] = { ...node2, gateway: gateway2 };
    const ops = await apply();
    expect(ops.filter((o) => o.op === 'update' || o.op === 'delete')).toEqual([]);
    await learnNeighbours(central, 'node2');
    expect(await clusterRoutes(central)).toEqual([
      'dst-ip 0.0.0.0/0 via 100.64.0.2',
      'dst-ip 0.0.0.0/0 via 100.64.0.3',
      'src-ip 10.128.0.0/23 via 100.64.0.2',
      'src-ip 10.128.2.0/23 via 100.64.0.3',
    ]);
    const lflows = await central.sbctl('lflow-list', CLUSTER_ROUTER);
    expect(lflows).toMatch(/match=\(reg7 == 0 && ip4\.dst == 0\.0\.0\.0\/0\), action=\([^)]*select\(1, 2\)/);

    // the non-gateway node's pod: each member of the group is a gateway that SNATs to its own IP
    const exits = [];
    for (const id of [1, 2]) {
      const out = await tracePing(central, C1, { selectId: id });
      expect(out).toContain('lr_in_ip_routing_ecmp');
      expect(out).toMatch(/output to "breth0_node[12]"/);
      exits.push(exit(out));
    }
    expect(exits.sort((a, b) => String(a.gr).localeCompare(String(b.gr)))).toEqual([
      { gr: 'GR_node1', snat: '172.18.0.11' },
      { gr: 'GR_node2', snat: '172.18.0.12' },
    ]);

    // the gateway nodes' pods never take the group: each leaves by its own gateway
    const a1 = await traceOut(A1);
    expect(a1).not.toContain('select(');
    expect(exit(a1)).toEqual({ gr: 'GR_node1', snat: '172.18.0.11' });
    const b1 = await traceOut(B1);
    expect(exit(b1)).toEqual({ gr: 'GR_node2', snat: '172.18.0.12' });
    expect(b1).toContain('output to "breth0_node2"');
  });

  it('removing one gateway (its config) leaves the other gateway as the way out for every other pod', async () => {
    state.nodes[0] = { ...node1, gateway: undefined };
    const ops = await apply();
    // only node1's own rows change
    expect(ops.filter((o) => o.op === 'insert')).toEqual([]);
    expect(await clusterRoutes(central)).toEqual([
      'dst-ip 0.0.0.0/0 via 100.64.0.3',
      'src-ip 10.128.2.0/23 via 100.64.0.3',
    ]);
    expect(await central.nbctl('find', 'Logical_Router', 'name=GR_node1')).toBe('');

    expect(exit(await traceOut(C1))).toEqual({ gr: 'GR_node2', snat: '172.18.0.12' });
    // node1 lost its gateway, so its pods now leave by the default route too
    expect(exit(await traceOut(A1))).toEqual({ gr: 'GR_node2', snat: '172.18.0.12' });
    expect(exit(await traceOut(B1))).toEqual({ gr: 'GR_node2', snat: '172.18.0.12' });
  });

  it('deleting the last gateway node leaves no default route: nothing is forwarded out', async () => {
    state.nodes = state.nodes.filter((n) => n.name !== 'node2');
    state.pods = state.pods.filter((p) => p.node !== 'node2');
    await apply([nodeOwner('node2'), podOwner('default', 'b1')]);
    expect(await clusterRoutes(central)).toEqual([]);
    for (const p of [A1, C1]) {
      const out = await traceOut(p);
      expect(out).toMatch(/lr_in_ip_routing \(northd\.c:\d+\): 1, priority 0, uuid \w+\n\s+drop;/);
      expect(out).not.toContain('jtor-GR_');
      expect(out).not.toContain('output to "breth0_');
      expect(exit(out)).toEqual({ gr: undefined, snat: undefined });
    }
  });

  it('re-running the reconciler on the resulting NB writes nothing', async () => {
    const result = reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state));
    expect(result.operations).toEqual([]);
    expect(result.skipped).toEqual([]);
  });
});

describe('dual stack: each family has its own ECMP default route (ovn-trace)', () => {
  const dsTmp = tempDir('ovnegr6-');
  let ds: OvnCentral;
  const dsConfig = {
    clusterSubnets: ['10.128.0.0/14', 'fd00:10:244::/48'],
    joinSubnets: ['100.64.0.0/16', 'fd98::/64'],
  };
  const dsGateway = (n: number): GatewayInfo => ({
    chassisId: `chassis-gw${n}`,
    joinIps: [`100.64.0.${n + 1}/16`, `fd98::${n + 1}/64`],
    ips: [`172.18.0.1${n}/24`, `fc00:f853:ccd:e793::1${n}/64`],
    mac: `02:42:ac:12:00:1${n}`,
    nextHops: ['172.18.0.1', 'fc00:f853:ccd:e793::1'],
  });
  const dsState: ClusterState = {
    config: dsConfig,
    nodes: [
      { name: 'gw1', subnets: ['10.128.0.0/23', 'fd00:10:244:1::/64'], gateway: dsGateway(1) },
      { name: 'gw2', subnets: ['10.128.2.0/23', 'fd00:10:244:2::/64'], gateway: dsGateway(2) },
      { name: 'plain', subnets: ['10.128.4.0/23', 'fd00:10:244:3::/64'] },
    ],
    pods: [{ namespace: 'default', name: 'p', node: 'plain', ips: ['10.128.4.5/23', 'fd00:10:244:3::5/64'] }],
    services: [],
  };
  const traceV6 = (selectId: number) =>
    ds.trace(
      ...Array<string>(4).fill('--ct=new'),
      `--select-id=${selectId}`,
      '--detailed',
      'plain',
      'inport=="default_p" && eth.src==0a:58:0a:80:04:05 && eth.dst==0a:58:0a:80:04:01 && ' +
        'ip6.src==fd00:10:244:3::5 && ip6.dst==2001:db8::1 && ip.ttl==64 && icmp6.type==128 && icmp6.code==0',
    );

  beforeAll(async () => {
    ds = await startOvnCentral({ dir: `${dsTmp.dir}/c` });
    const result = reconcileOwned(await snapshotView(ds.nb.unix), clusterIntent(dsState));
    expect(result.skipped).toEqual([]);
    await transact(ds.nb.unix, result.operations);
    await ds.syncSb();
    for (const gw of ['gw1', 'gw2']) {
      const dp = (
        await ds.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', `external_ids:name=GR_${gw}`)
      ).trim();
      const binding = (port: string, ip: string, mac: string) =>
        ds.sbctl(
          'create',
          'MAC_Binding',
          `logical_port=${port}`,
          `ip="${ip}"`,
          `mac="${mac}"`,
          `datapath=${dp}`,
        );
      await binding(`rtoj-GR_${gw}`, 'fd98::1', '0a:58:64:40:00:01');
      await binding(`rtoe-GR_${gw}`, 'fc00:f853:ccd:e793::1', '02:00:00:00:00:01');
    }
  }, 60_000);

  afterAll(async () => {
    await ds?.stop();
    dsTmp.cleanup();
  });

  it('an IPv6 packet of a pod on a node without a gateway leaves by either gateway, SNATed to its IPv6 node IP', async () => {
    const lflows = await ds.sbctl('lflow-list', CLUSTER_ROUTER);
    expect(lflows).toMatch(/match=\(reg7 == 0 && ip6\.dst == ::\/0\), action=\([^)]*select\(1, 2\)/);
    expect(lflows).toMatch(/match=\(reg7 == 0 && ip4\.dst == 0\.0\.0\.0\/0\), action=\([^)]*select\(1, 2\)/);
    const exits = [];
    for (const id of [1, 2]) {
      const out = await traceV6(id);
      exits.push({
        gr: /outport="jtor-(GR_\w+)"/.exec(out)?.[1],
        snat: /ct_snat\(ip6\.src=([\da-f:]+)\)/.exec(out)?.[1],
        out: /output to "(breth0_\w+)"/.exec(out)?.[1],
      });
    }
    expect(exits.sort((a, b) => String(a.gr).localeCompare(String(b.gr)))).toEqual([
      { gr: 'GR_gw1', snat: 'fc00:f853:ccd:e793::11', out: 'breth0_gw1' },
      { gr: 'GR_gw2', snat: 'fc00:f853:ccd:e793::12', out: 'breth0_gw2' },
    ]);
  });
});
