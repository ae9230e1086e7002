/**
 * Property: from any cluster state, reconciling towards any other state (plus a sweep of owners
 * that disappeared) leaves a real NB where a second reconcile has nothing to do, every port sits in
 * exactly one switch, no row of a vanished owner remains, and an operator's rows are untouched.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterIntent, type ClusterState, type NodeInfo, type PodInfo } from '../../src/ovn/intent/index.js';
import { ownerKeyString, type OwnerRef } from '../../src/ovn/names.js';
import { reconcile, staleOwners, type NbView } from '../../src/ovn/reconcile/index.js';
import { NB_SCHEMA, startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { tempDir } from '../helpers/tmp.js';
import { config, node1 } from './fixture.js';
import { snapshotView, transact } from './nb-harness.js';

const tmp = tempDir('ovncv-');
let nb: OvsdbServer;

beforeAll(async () => {
  nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
  // an operator's switch and router that share names with nothing of ours
  await transact(nb.unix, [
    {
      op: 'insert',
      table: 'Logical_Switch_Port',
      row: { name: 'ops-port', addresses: ['unknown'] },
      uuidName: 'p',
    },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'ops-sw', ports: ['p'] }, uuidName: 's' },
    {
      op: 'insert',
      table: 'Logical_Router',
      row: { name: 'ops-rtr', external_ids: { team: 'ops' } },
      uuidName: 'r',
    },
  ]);
});
afterAll(async () => {
  await nb?.stop();
  tmp.cleanup();
});

const NODE_NAMES = ['node1', 'node2', 'node3'];
const subnetOf = (i: number) => `10.128.${i * 2}.0/23`;

const stateArb: fc.Arbitrary<ClusterState> = fc
  .record({
    nodes: fc.subarray([0, 1, 2], { minLength: 1 }),
    gateway: fc.boolean(),
    pods: fc.uniqueArray(
      fc.record({ id: fc.integer({ min: 0, max: 7 }), node: fc.nat(), host: fc.integer({ min: 5, max: 9 }) }),
      { selector: (p) => p.id, maxLength: 6 },
    ),
    services: fc.uniqueArray(
      fc.record({
        id: fc.integer({ min: 0, max: 2 }),
        nodePort: fc.boolean(),
        affinity: fc.boolean(),
        endpoints: fc.nat(),
      }),
      { selector: (s) => s.id, maxLength: 3 },
    ),
  })
  .map(({ nodes, gateway, pods, services }) => {
    const nodeInfos: NodeInfo[] = nodes.map((i) =>
      i === 0 && gateway
        ? { ...node1, subnets: [subnetOf(0)] }
        : { name: NODE_NAMES[i]!, subnets: [subnetOf(i)] },
    );
    const podInfos: PodInfo[] = pods.map((p) => {
      const nodeIndex = nodes[p.node % nodes.length]!;
      const base = subnetOf(nodeIndex).split('.');
      return {
        namespace: 'ns',
        name: `p${p.id}`,
        node: NODE_NAMES[nodeIndex]!,
        ips: [`10.128.${Number(base[2])}.${p.host + p.id * 10}/23`],
      };
    });
    return {
      config,
      nodes: nodeInfos,
      pods: podInfos,
      services: services.map((s) => ({
        service: {
          namespace: 'ns',
          name: `s${s.id}`,
          type: s.nodePort ? ('NodePort' as const) : ('ClusterIP' as const),
          clusterIPs: [`10.96.0.${10 + s.id}`],
          ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 + s.id }],
          ...(s.affinity ? { affinityTimeoutSeconds: 600 } : {}),
        },
        slices: [
          {
            ports: [{ name: 'http', port: 8080 }],
            endpoints: podInfos
              .filter((_, i) => (s.endpoints >> i) & 1)
              .map((p) => ({ addresses: [p.ips[0]!.split('/')[0]!] })),
          },
        ],
      })),
    };
  });

async function converge(state: ClusterState): Promise<void> {
  const owned = clusterIntent(state);
  const live = new Set(owned.map((o) => ownerKeyString(o.owner)));
  const view = await snapshotView(nb.unix);
  const stale = staleOwners(view, (o) => live.has(ownerKeyString(o)), ['Cluster', 'Node', 'Pod', 'Service']);
  const owners: OwnerRef[] = [...owned.map((o) => o.owner), ...stale];
  const result = reconcile(
    view,
    owned.flatMap((o) => o.rows),
    { owners },
  );
  expect(result.skipped).toEqual([]);
  await transact(nb.unix, result.operations);
}

function checkInvariants(view: NbView, state: ClusterState): void {
  const owned = clusterIntent(state);
  const again = reconcile(
    view,
    owned.flatMap((o) => o.rows),
    { owners: owned.map((o) => o.owner) },
  );
  expect(again.operations).toEqual([]);
  const live = new Set(owned.map((o) => ownerKeyString(o.owner)));
  expect(
    staleOwners(view, (o) => live.has(ownerKeyString(o)), ['Cluster', 'Node', 'Pod', 'Service']),
  ).toEqual([]);
  const holders = new Map<string, string[]>();
  for (const sw of view.rows('Logical_Switch'))
    for (const u of sw.ports as string[]) holders.set(u, [...(holders.get(u) ?? []), String(sw.name)]);
  for (const [u, switches] of holders)
    expect(switches, `${String(view.get('Logical_Switch_Port', u)?.name)}`).toHaveLength(1);
  expect(view.byName('Logical_Switch_Port', 'ops-port')).toHaveLength(1);
  expect(view.byName('Logical_Switch', 'ops-sw')[0]!.ports).toHaveLength(1);
  expect(view.byName('Logical_Router', 'ops-rtr')[0]!.external_ids).toEqual({ team: 'ops' });
}

describe('reconcile convergence on a real NB (property)', () => {
  it('any state to any state converges to exactly the desired rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stateArb, { minLength: 1, maxLength: 3 }), async (states) => {
        for (const state of states) {
          await converge(state);
          checkInvariants(await snapshotView(nb.unix), state);
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
