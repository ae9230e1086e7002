/**
 * Test harness for the reconciler against a real OVN_Northbound ovsdb-server: operations are sent
 * with `ovsdb-client transact` (encoded by encodeOperations), the state is read back with `select`
 * and decoded into a SnapshotNbView.
 */
import { readFileSync } from 'node:fs';
import { decodeDatum } from '../../src/ovsdb/datum.js';
import { parseSchema, tableSchema, type DatabaseSchema } from '../../src/ovsdb/schema.js';
import type { Row, Value } from '../../src/ovsdb/value.js';
import { MANAGED_TABLES } from '../../src/ovn/reconcile/reconcile.js';
import { encodeOperations, type NbOperation } from '../../src/ovn/reconcile/operations.js';
import { SnapshotNbView } from '../../src/ovn/reconcile/view.js';
import { NB_SCHEMA } from '../../src/runtime/ovsdb-server.js';
import { run } from '../../src/runtime/process.js';

export const nbSchema: DatabaseSchema = parseSchema(JSON.parse(readFileSync(NB_SCHEMA, 'utf8')));

export class TransactFailed extends Error {
  override name = 'TransactFailed';
}

/** Runs one transaction; throws with the server's error when any operation (or the commit) failed. */
export async function transact(
  remote: string,
  ops: readonly NbOperation[],
  extra: unknown[] = [],
): Promise<unknown[]> {
  const wire = [...encodeOperations(ops, nbSchema), ...extra];
  if (wire.length === 0) return [];
  const out = await run('ovsdb-client', ['transact', remote, JSON.stringify(['OVN_Northbound', ...wire])], {
    timeoutMs: 60_000,
  });
  const results = JSON.parse(out) as unknown[];
  const failed = results.find((r) => r && typeof r === 'object' && 'error' in r);
  if (failed) throw new TransactFailed(`transaction failed: ${JSON.stringify(failed)}`);
  return results;
}

/** Every row of the given tables, decoded to native values. */
export async function dumpRows(
  remote: string,
  tables: readonly string[] = MANAGED_TABLES,
): Promise<Record<string, Row[]>> {
  const selects = tables.map((table) => ({ op: 'select', table, where: [] }));
  const out = await run(
    'ovsdb-client',
    ['transact', remote, JSON.stringify(['OVN_Northbound', ...selects])],
    {
      timeoutMs: 60_000,
    },
  );
  const results = JSON.parse(out) as { rows: Record<string, unknown>[] }[];
  const snapshot: Record<string, Row[]> = {};
  tables.forEach((table, i) => {
    const t = tableSchema(nbSchema, table);
    snapshot[table] = results[i]!.rows.map((wireRow) => {
      const row: Record<string, Value> = {};
      for (const [column, json] of Object.entries(wireRow)) {
        const col = t.columns.get(column);
        if (col) row[column] = decodeDatum(json, col.type);
      }
      return row as Row;
    });
  });
  return snapshot;
}

export async function snapshotView(remote: string): Promise<SnapshotNbView> {
  return new SnapshotNbView(await dumpRows(remote));
}
