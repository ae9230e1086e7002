/**
 * The transaction batcher against a real NB ovsdb-server: submissions that arrive together share
 * one transaction, each submitter gets its own outcome, and a failing key fails alone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NbOperation } from '../../src/ovn/reconcile/operations.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { NB_SCHEMA, startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { TxnBatcher } from '../../src/watcher/batcher.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('wkb-');
let nb: OvsdbServer;
let db: OvsdbDatabase;

beforeAll(async () => {
  nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
  db = await OvsdbDatabase.open({
    remotes: nb.unix,
    database: 'OVN_Northbound',
    tables: { Logical_Switch: {} },
  });
});
afterAll(async () => {
  await db?.close();
  await nb?.stop();
  tmp.cleanup();
});

const insertSwitch = (name: string, uuidName: string): NbOperation => ({
  op: 'insert',
  table: 'Logical_Switch',
  row: { name },
  uuidName,
});
/** a guard that fails when a switch of that name exists: makes a key's transaction fail on purpose */
const absent = (name: string): NbOperation => ({
  op: 'wait',
  table: 'Logical_Switch',
  where: [['name', '==', name]],
  columns: ['name'],
  until: '==',
  rows: [],
  timeout: 0,
});
const names = () => [...db.cache.table('Logical_Switch').rows()].map((r) => r.name).sort();

describe('TxnBatcher', () => {
  it('sends submissions that arrive within the linger time as one transaction', async () => {
    const b = new TxnBatcher(db, { lingerMs: 20 });
    const results = await Promise.all(
      ['a', 'b', 'c'].map((n) => {
        const p = b.uuidPrefix();
        return b.submit(n, [insertSwitch(`sw-${n}`, `${p}s`)]);
      }),
    );
    expect(b.stats()).toMatchObject({ transactions: 1, committed: 1, operations: 3 });
    // every submitter's named uuid maps to its own row
    const uuids = results.map((r, i) => r!.uuidOf(`k${i.toString(36)}_s`));
    expect(new Set(uuids).size).toBe(3);
    expect(names()).toEqual(['sw-a', 'sw-b', 'sw-c']);
  });

  it('sends nothing for a key without operations', async () => {
    const b = new TxnBatcher(db);
    expect(await b.submit('idle', [])).toBeUndefined();
    expect(b.stats().transactions).toBe(0);
  });

  it('flushes at once when maxOps operations are pending', async () => {
    const b = new TxnBatcher(db, { lingerMs: 60_000, maxOps: 2 });
    await Promise.all([
      b.submit('x', [insertSwitch('sw-x', 'x')]),
      b.submit('y', [insertSwitch('sw-y', 'y')]),
    ]);
    expect(b.stats().transactions).toBe(1);
  });

  it('retries the keys of a failed batch one by one: only the bad key fails', async () => {
    const b = new TxnBatcher(db, { lingerMs: 20 });
    const good = b.submit('good', [insertSwitch('sw-good', 'g')]);
    const bad = b.submit('bad', [absent('sw-a'), insertSwitch('sw-bad', 'b')]);
    await expect(good).resolves.toBeDefined();
    await expect(bad).rejects.toThrow(/timed out|wait/);
    expect(b.stats()).toMatchObject({ split: 1, committed: 1, failed: 2 });
    expect(names()).toContain('sw-good');
    expect(names()).not.toContain('sw-bad');
  });

  it('gathers what arrives while the in-flight limit is reached into the next transaction', async () => {
    // a transport that holds each answer until released: the first transaction stays in flight
    const held: Array<() => void> = [];
    const slow = {
      schema: db.schema,
      transact: async <R>(txn: { operations(): unknown[]; parseResults(raw: unknown[]): R }) => {
        await new Promise<void>((release) => held.push(release));
        return db.transact(txn);
      },
    };
    const sent: number[] = [];
    const b = new TxnBatcher(slow, {
      lingerMs: 1,
      maxInFlight: 1,
      onCommit: ({ keys }) => sent.push(keys),
    });
    const first = b.submit('f', [insertSwitch('sw-f', 'f')]);
    await vi.waitFor(() => expect(held).toHaveLength(1));
    // five keys arrive one by one, each well past the linger time, while the first is unanswered
    const later: Array<Promise<unknown>> = [];
    for (const n of ['g1', 'g2', 'g3', 'g4', 'g5']) {
      const p = b.uuidPrefix();
      later.push(b.submit(n, [insertSwitch(`sw-${n}`, `${p}s`)]));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(held).toHaveLength(1); // nothing else was sent meanwhile
    held.shift()!();
    await first;
    await vi.waitFor(() => expect(held).toHaveLength(1));
    held.shift()!();
    await Promise.all(later);
    expect(sent).toEqual([1, 5]);
    expect(names()).toEqual(expect.arrayContaining(['sw-g1', 'sw-g5']));
  });

  it('refuses work after close', async () => {
    const b = new TxnBatcher(db);
    await b.close();
    await expect(b.submit('late', [insertSwitch('sw-late', 'l')])).rejects.toThrow(/closed/);
  });
});
