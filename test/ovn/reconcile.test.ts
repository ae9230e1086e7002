import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterIntent,
  nodeRows,
  podRows,
  serviceRows,
  type ClusterState,
  type DesiredRow,
} from '../../src/ovn/intent/index.js';
import {
  CLUSTER_OWNER,
  nodeOwner,
  ownerKeyString,
  podOwner,
  serviceOwner,
  type OwnerRef,
} from '../../src/ovn/names.js';
import { reconcile, sweep, type NbOperation, type NbView } from '../../src/ovn/reconcile/index.js';
import { startOvsdbServer, NB_SCHEMA, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshotView, transact, TransactFailed } from './nb-harness.js';
import { pod, smallCluster } from './fixture.js';

const tmp = tempDir('ovnrc-');
let nb: OvsdbServer;

beforeAll(async () => {
  nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
});
afterAll(async () => {
  await nb?.stop();
  tmp.cleanup();
});

const flatten = (state: ClusterState) => {
  const owned = clusterIntent(state);
  return { rows: owned.flatMap((o) => o.rows), owners: owned.map((o) => o.owner) };
};
const opsOf = (ops: NbOperation[], kind: NbOperation['op']) => ops.filter((o) => o.op === kind);
const rowByName = (view: NbView, table: string, name: string) => view.byName(table, name)[0];

async function apply(rows: DesiredRow[], owners: OwnerRef[]) {
  const view = await snapshotView(nb.unix);
  const result = reconcile(view, rows, { owners });
  await transact(nb.unix, result.operations);
  return result;
}

describe('reconcile against a real OVN_Northbound server', () => {
  it('first run inserts everything with guards, in one transaction that the server accepts', async () => {
    const { rows, owners } = flatten(smallCluster());
    const result = await apply(rows, owners);
    expect(result.skipped).toEqual([]);
    expect(opsOf(result.operations, 'insert')).toHaveLength(rows.length);
    expect(opsOf(result.operations, 'update')).toHaveLength(0);
    expect(opsOf(result.operations, 'delete')).toHaveLength(0);
    // every insert of a table without a unique name index is guarded
    const guarded = opsOf(result.operations, 'wait').length;
    expect(guarded).toBe(
      rows.filter(
        (r) => !['Logical_Switch_Port', 'Logical_Router_Port', 'Load_Balancer_Group'].includes(r.table),
      ).length,
    );

    const view = await snapshotView(nb.unix);
    const sw = rowByName(view, 'Logical_Switch', 'node1')!;
    const portNames = (sw.ports as string[]).map((u) => view.get('Logical_Switch_Port', u)!.name).sort();
    expect(portNames).toEqual(['default_a1', 'default_a2', 'k8s-node1', 'stor-node1']);
    const group = rowByName(view, 'Load_Balancer_Group', 'clusterLBGroup')!;
    expect((group.load_balancer as string[]).map((u) => view.get('Load_Balancer', u)!.name)).toEqual([
      'Service_web/echo_TCP_cluster',
    ]);
    const cr = rowByName(view, 'Logical_Router', 'ovn_cluster_router')!;
    expect(
      (cr.static_routes as string[]).map((u) => view.get('Logical_Router_Static_Route', u)!.ip_prefix).sort(),
    ).toEqual(['0.0.0.0/0', '10.128.0.0/23']);
  });

  it('a second run against the resulting state emits nothing', async () => {
    const { rows, owners } = flatten(smallCluster());
    const result = reconcile(await snapshotView(nb.unix), rows, { owners });
    expect(result.operations).toEqual([]);
    expect(result.skipped).toEqual([]);
  });

  it('a change emits only an update of the changed columns', async () => {
    const state = smallCluster();
    state.pods[0] = pod('default', 'a1', 'node1', '10.128.0.9/23', 'uid-a1');
    const { rows, owners } = flatten(state);
    const result = await apply(rows, owners);
    expect(result.operations).toHaveLength(1);
    const op = result.operations[0]!;
    expect(op.op).toBe('update');
    if (op.op !== 'update') return;
    expect(op.table).toBe('Logical_Switch_Port');
    expect(Object.keys(op.row).sort()).toEqual(['addresses', 'port_security']);
    expect(op.row.addresses).toEqual(['0a:58:0a:80:00:09 10.128.0.9']);
    expect(reconcile(await snapshotView(nb.unix), rows, { owners }).operations).toEqual([]);
  });

  it('a new endpoint updates only the VIP map of the service LB', async () => {
    const state = smallCluster();
    state.services[0]!.slices[0]!.endpoints.push({ addresses: ['10.128.2.6'] });
    const svc = state.services[0]!;
    const result = await apply(serviceRows(svc.service, svc.slices, ['172.18.0.11']), [
      serviceOwner('web', 'echo'),
    ]);
    expect(result.operations.map((o) => o.op)).toEqual(['update', 'update']);
    for (const op of result.operations) if (op.op === 'update') expect(Object.keys(op.row)).toEqual(['vips']);
  });

  it('removing a pod unlinks its port from whatever switch holds it (one mutate) and OVSDB collects it', async () => {
    const before = await snapshotView(nb.unix);
    const lsp = rowByName(before, 'Logical_Switch_Port', 'default_a2')!;
    const result = await apply([], [podOwner('default', 'a2')]);
    expect(result.operations).toEqual([
      {
        op: 'mutate',
        table: 'Logical_Switch',
        where: [['ports', 'includes', [lsp._uuid]]],
        mutations: [['ports', 'delete', [lsp._uuid]]],
      },
    ]);
    const after = await snapshotView(nb.unix);
    expect(after.byName('Logical_Switch_Port', 'default_a2')).toEqual([]);
    expect(after.byName('Logical_Switch_Port', 'default_a1')).toHaveLength(1);
  });

  it('many removals unlink with one mutate per parent, found through a reverse index', async () => {
    const many = Array.from({ length: 20 }, (_, i) => pod('bulk', `p${i}`, 'node2', `10.128.3.${i + 10}/23`));
    await apply(
      many.flatMap(podRows),
      many.map((p) => podOwner(p.namespace, p.name)),
    );
    const view = await snapshotView(nb.unix);
    const node2 = rowByName(view, 'Logical_Switch', 'node2')!;
    const result = await apply(
      [],
      many.map((p) => podOwner(p.namespace, p.name)),
    );
    expect(result.operations).toHaveLength(1);
    const op = result.operations[0]!;
    expect(op.op === 'mutate' && op.where).toEqual([['_uuid', '==', node2._uuid]]);
    expect(op.op === 'mutate' && (op.mutations[0]![2] as string[]).length).toBe(20);
    const after = await snapshotView(nb.unix);
    expect([...after.rows('Logical_Switch_Port')].filter((r) => String(r.name).startsWith('bulk_'))).toEqual(
      [],
    );
  });

  it('a pod re-created on another node under the same name moves its port, keeping its uuid', async () => {
    const before = await snapshotView(nb.unix);
    const uuid = rowByName(before, 'Logical_Switch_Port', 'web_b2')!._uuid;
    const moved = pod('web', 'b2', 'node1', '10.128.0.7/23', 'uid-b2-new');
    await apply(podRows(moved), [podOwner('web', 'b2')]);
    const after = await snapshotView(nb.unix);
    expect(rowByName(after, 'Logical_Switch_Port', 'web_b2')!._uuid).toBe(uuid);
    expect(rowByName(after, 'Logical_Switch', 'node1')!.ports).toContain(uuid);
    expect(rowByName(after, 'Logical_Switch', 'node2')!.ports).not.toContain(uuid);
  });

  it('a pod moving to a node created in the same batch leaves its old switch (found by a property test)', async () => {
    const before = await snapshotView(nb.unix);
    const uuid = rowByName(before, 'Logical_Switch_Port', 'web_b2')!._uuid;
    const node4 = { name: 'node4', subnets: ['10.128.6.0/23'] };
    const rows = [...nodeRows(node4), ...podRows(pod('web', 'b2', 'node4', '10.128.6.5/23'))];
    await apply(rows, [nodeOwner('node4'), podOwner('web', 'b2')]);
    const after = await snapshotView(nb.unix);
    const holders = [...after.rows('Logical_Switch')].filter((s) => (s.ports as string[]).includes(uuid));
    expect(holders.map((s) => s.name)).toEqual(['node4']);
    await apply([], [nodeOwner('node4')]);
  });

  it('never touches rows without our owner, and skips a desired row whose name a foreign row holds', async () => {
    const view = await snapshotView(nb.unix);
    const node1 = rowByName(view, 'Logical_Switch', 'node1')!;
    // an operator's own port on our switch, and an operator's switch with a name we want
    await transact(nb.unix, [
      { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'operator-port' }, uuidName: 'p' },
      {
        op: 'mutate',
        table: 'Logical_Switch',
        where: [['_uuid', '==', node1._uuid]],
        mutations: [['ports', 'insert', ['p']]],
      },
      {
        op: 'insert',
        table: 'Logical_Switch',
        row: { name: 'node3', external_ids: { team: 'ops' } },
        uuidName: 's',
      },
    ]);
    const withForeign = await snapshotView(nb.unix);
    const node3 = { name: 'node3', subnets: ['10.128.4.0/23'] };
    const state = smallCluster();
    const result = reconcile(
      withForeign,
      clusterIntent({ ...state, nodes: [node3] }).find((o) => o.owner.id === 'node3')!.rows,
      {
        owners: [nodeOwner('node3')],
      },
    );
    expect(result.skipped.map((s) => s.key).sort()).toEqual(['k8s-node3', 'node3', 'stor-node3']);
    // what does not depend on the foreign switch is still written; the foreign switch is not touched
    const foreignUuid = rowByName(withForeign, 'Logical_Switch', 'node3')!._uuid;
    expect(JSON.stringify(result.operations)).not.toContain(foreignUuid);
    expect(result.operations.filter((o) => o.table === 'Logical_Switch')).toEqual([]);
    // a sweep with nothing live removes our rows only
    const swept = sweep(withForeign, () => false, ['Pod']);
    await transact(nb.unix, swept.operations);
    const after = await snapshotView(nb.unix);
    expect(after.byName('Logical_Switch_Port', 'operator-port')).toHaveLength(1);
    expect(after.byName('Logical_Switch', 'node3')).toHaveLength(1);
    expect(
      [...after.rows('Logical_Switch_Port')].filter((r) => (r.external_ids as Record<string, string>).pod),
    ).toEqual([]);
  });

  it('sweep removes the rows of owners that are gone and nothing else', async () => {
    const { rows, owners } = flatten(smallCluster());
    await apply(rows, owners);
    const live = new Set(owners.map(ownerKeyString));
    live.delete(ownerKeyString(podOwner('web', 'b1')));
    live.delete(ownerKeyString(serviceOwner('web', 'echo')));
    const view = await snapshotView(nb.unix);
    const swept = sweep(view, (o) => live.has(ownerKeyString(o)), ['Pod', 'Service', 'Node']);
    expect(swept.owners.map(ownerKeyString).sort()).toEqual(['Pod:web/b1', 'Service:web/echo']);
    expect(swept.operations.map((o) => o.op).sort()).toEqual(['delete', 'delete', 'mutate']);
    await transact(nb.unix, swept.operations);
    const after = await snapshotView(nb.unix);
    expect(after.byName('Logical_Switch_Port', 'web_b1')).toEqual([]);
    expect([...after.rows('Load_Balancer')]).toEqual([]);
    expect(after.byName('Logical_Switch_Port', 'web_b2')).toHaveLength(1);
  });

  it('removing a node deletes its switch and routers and unlinks its ports from shared rows', async () => {
    const { rows, owners } = flatten(smallCluster());
    await apply(rows, owners);
    const result = await apply([], [nodeOwner('node1')]);
    const deleted = opsOf(result.operations, 'delete')
      .map((o) => o.table)
      .sort();
    expect(deleted).toEqual(['Logical_Router', 'Logical_Switch', 'Logical_Switch']);
    const after = await snapshotView(nb.unix);
    for (const name of ['node1', 'ext_node1']) expect(after.byName('Logical_Switch', name)).toEqual([]);
    expect(after.byName('Logical_Router', 'GR_node1')).toEqual([]);
    for (const name of ['rtos-node1', 'rtoj-GR_node1'])
      expect(after.byName('Logical_Router_Port', name)).toEqual([]);
    expect(after.byName('Logical_Switch_Port', 'jtor-GR_node1')).toEqual([]);
    expect(rowByName(after, 'Logical_Router', 'ovn_cluster_router')!.static_routes).toEqual([]);
    // the pods' ports went with the switch (garbage-collected), their owners are untouched otherwise
    expect(after.byName('Logical_Switch_Port', 'default_a1')).toEqual([]);
    // the cluster's rows are all still there and unchanged
    expect(
      reconcile(after, clusterIntent(smallCluster())[0]!.rows, { owners: [CLUSTER_OWNER] }).operations,
    ).toEqual([]);
  });

  it('a create guarded by wait fails when the same name appeared since the view was taken', async () => {
    const stale = await snapshotView(nb.unix);
    const { rows } = flatten({ ...smallCluster(), pods: [], services: [] });
    const node1Rows = rows.filter(
      (r) =>
        r.columns.external_ids &&
        (r.columns.external_ids as Record<string, string>)['k8s.ovn.org/owner'] === 'node1',
    );
    const ops = reconcile(stale, node1Rows, { owners: [nodeOwner('node1')] }).operations;
    // another writer creates node1 first
    await transact(nb.unix, reconcile(stale, node1Rows, { owners: [nodeOwner('node1')] }).operations);
    await expect(transact(nb.unix, ops)).rejects.toThrow(TransactFailed);
    await expect(transact(nb.unix, ops)).rejects.toThrow(/timed out/);
  });
});
