/**
 * The operations the reconciler emits: RFC 7047 operations with native values (src/ovsdb/value.ts),
 * so they can be checked in tests as plain data and go through the transaction builder to the wire.
 * Rows are always addressed by `_uuid` (or, for insert guards, by identity).
 */
import { cond } from '../../ovsdb/condition.js';
import { mutation } from '../../ovsdb/mutation.js';
import type { DatabaseSchema } from '../../ovsdb/schema.js';
import { TxnBuilder } from '../../ovsdb/txn.js';
import type { Value } from '../../ovsdb/value.js';
import type { NbTable } from '../intent/desired.js';

export type ConditionFn = '==' | '!=' | 'includes' | 'excludes';
export type Condition = [column: string, fn: ConditionFn, value: Value];
export type Mutation = [column: string, mutator: 'insert' | 'delete', value: Value];

export type NbOperation =
  | { op: 'insert'; table: NbTable; row: Record<string, Value>; uuidName: string }
  | { op: 'update'; table: NbTable; where: Condition[]; row: Record<string, Value> }
  | { op: 'mutate'; table: NbTable; where: Condition[]; mutations: Mutation[] }
  | { op: 'delete'; table: NbTable; where: Condition[] }
  | {
      op: 'wait';
      table: NbTable;
      where: Condition[];
      columns: string[];
      until: '==' | '!=';
      rows: Record<string, Value>[];
      timeout: number;
    };

export const byUuid = (uuid: string): Condition[] => [['_uuid', '==', uuid]];

/**
 * Appends the operations to a transaction builder (src/ovsdb/txn.ts), which validates every value
 * against the schema; the reconciler's named uuids are kept, so `inserted` maps onto the result.
 */
export function appendToTxn(txn: TxnBuilder, ops: readonly NbOperation[]): TxnBuilder {
  const conds = (where: Condition[]) => where.map(([column, op, value]) => cond(column, op, value));
  for (const o of ops) {
    switch (o.op) {
      case 'insert':
        txn.insert(o.table, o.row, { uuidName: o.uuidName });
        break;
      case 'update':
        txn.update(o.table, conds(o.where), o.row);
        break;
      case 'mutate':
        txn.mutate(
          o.table,
          conds(o.where),
          o.mutations.map(([column, mutator, value]) => mutation(column, mutator, value)),
        );
        break;
      case 'delete':
        txn.delete(o.table, conds(o.where));
        break;
      case 'wait':
        txn.wait(o.table, conds(o.where), o.columns, o.until, o.rows, o.timeout);
        break;
    }
  }
  return txn;
}

/** A new transaction of `schema`'s database holding the operations. */
export const toTxn = (schema: DatabaseSchema, ops: readonly NbOperation[]): TxnBuilder =>
  appendToTxn(new TxnBuilder(schema), ops);

/** The operations as RFC 7047 JSON for `transact` (named uuids become ["named-uuid", …]). */
export const encodeOperations = (ops: readonly NbOperation[], schema: DatabaseSchema): unknown[] =>
  toTxn(schema, ops).operations();
