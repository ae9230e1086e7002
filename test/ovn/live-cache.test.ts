/**
 * The reconciler on the live OVSDB cache (src/ovsdb/database.ts + cache) instead of a dump:
 * reads answered by the cache's indexes, writes sent through the transaction builder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterIntent, podRows } from '../../src/ovn/intent/index.js';
import { podOwner } from '../../src/ovn/names.js';
import { MANAGED_TABLES, cacheNbView, reconcile, toTxn, type NbView } from '../../src/ovn/reconcile/index.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { NB_SCHEMA, startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';
import { pod, smallCluster } from './fixture.js';

const tmp = tempDir('ovnlc-');
let nb: OvsdbServer;
let db: OvsdbDatabase | undefined;

beforeAll(async () => {
  nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
  db = await OvsdbDatabase.open({
    remotes: nb.unix,
    database: 'OVN_Northbound',
    tables: Object.fromEntries(MANAGED_TABLES.map((t) => [t, {}])),
  });
});
afterAll(async () => {
  await db?.close();
  await nb?.stop();
  tmp.cleanup();
});

const owned = () => clusterIntent(smallCluster());
const pending = (view: NbView) => {
  const o = owned();
  return reconcile(
    view,
    o.flatMap((x) => x.rows),
    { owners: o.map((x) => x.owner) },
  ).operations.length;
};

describe('reconcile on the live NB cache', () => {
  it('converges in one transaction and then has nothing left to write', async () => {
    const view = cacheNbView(db!.cache);
    const o = owned();
    const result = reconcile(
      view,
      o.flatMap((x) => x.rows),
      { owners: o.map((x) => x.owner) },
    );
    const txn = await db!.transact(toTxn(db!.schema, result.operations));
    expect(txn.ok).toBe(true);
    // every named uuid of the reconciler maps to the uuid the server gave the row
    for (const [name, ref] of result.inserted) {
      const uuid = txn.uuidOf(name);
      expect(uuid, `${ref.table} ${ref.key}`).toMatch(/^[0-9a-f-]{36}$/);
    }
    await waitFor('the cache to show the transaction', async () => pending(view) === 0);
    expect(db!.cache.table('Logical_Switch').lookup('name', 'node1')).toHaveLength(1);
  });

  it('follows a change made through the cache view, then a removal', async () => {
    const view = cacheNbView(db!.cache);
    const moved = pod('default', 'a1', 'node1', '10.128.0.42/23', 'uid-a1');
    const change = reconcile(view, podRows(moved), { owners: [podOwner('default', 'a1')] });
    expect(change.operations.map((op) => op.op)).toEqual(['update']);
    await db!.transact(toTxn(db!.schema, change.operations));
    await waitFor('the update in the cache', async () =>
      db!.cache
        .table('Logical_Switch_Port')
        .lookup('name', 'default_a1')[0]
        ?.addresses?.toString()
        .includes('10.128.0.42'),
    );
    const removal = reconcile(view, [], { owners: [podOwner('default', 'a1')] });
    await db!.transact(toTxn(db!.schema, removal.operations));
    await waitFor(
      'the port to leave the cache',
      async () => view.byName('Logical_Switch_Port', 'default_a1').length === 0,
    );
  });
});
