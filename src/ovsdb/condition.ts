/**
 * Typed `where` clauses (RFC 7047 §5.1 <condition>): [column, function, value] triples whose
 * value is encoded with the column's type, plus the literal `true` / `false` conditions of OVS.
 */
import { columnKind, columnSchema, type ColumnType, type TableSchema } from './schema.js';
import { encodeDatum, validateAtom } from './datum.js';
import { OvsdbDataError, OvsdbTxnBuildError } from './data-errors.js';
import type { Value } from './value.js';

export type ConditionOp = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export const CONDITION_OPS: readonly ConditionOp[] = [
  '<',
  '<=',
  '==',
  '!=',
  '>=',
  '>',
  'includes',
  'excludes',
];

export interface ColumnCondition<C extends string = string> {
  column: C;
  op: ConditionOp;
  value: Value;
}
/** `true` matches every row and `false` none (an empty where also matches every row). */
export type Condition<C extends string = string> = ColumnCondition<C> | boolean;

export function cond<C extends string>(column: C, op: ConditionOp, value: Value): ColumnCondition<C> {
  return { column, op, value };
}

/** Shorthands: where.eq('name', 'sw0'), where.includes('ports', uuid) … */
export const where = {
  eq: <C extends string>(column: C, value: Value) => cond(column, '==', value),
  ne: <C extends string>(column: C, value: Value) => cond(column, '!=', value),
  lt: <C extends string>(column: C, value: Value) => cond(column, '<', value),
  le: <C extends string>(column: C, value: Value) => cond(column, '<=', value),
  gt: <C extends string>(column: C, value: Value) => cond(column, '>', value),
  ge: <C extends string>(column: C, value: Value) => cond(column, '>=', value),
  includes: <C extends string>(column: C, value: Value) => cond(column, 'includes', value),
  excludes: <C extends string>(column: C, value: Value) => cond(column, 'excludes', value),
  uuid: (uuid: string) => cond('_uuid', '==', uuid),
};

const ORDERED: ReadonlySet<ConditionOp> = new Set(['<', '<=', '>=', '>']);

/**
 * The type a condition's value is encoded with. Ordered comparisons take one atom and OVS allows
 * them only on integer or real columns holding at most one value; includes/excludes take any
 * number of elements, so the size limits of the column do not apply to their argument.
 */
function argumentType(table: TableSchema, c: ColumnCondition): ColumnType {
  const col = columnSchema(table, c.column).type;
  if (ORDERED.has(c.op)) {
    if (col.value || col.max !== 1 || (col.key.type !== 'integer' && col.key.type !== 'real')) {
      throw new OvsdbTxnBuildError(
        `${table.name}.${c.column}: ${c.op} is only allowed on integer or real columns with at most one value`,
      );
    }
    return { key: col.key, min: 1, max: 1 };
  }
  if (c.op === 'includes' || c.op === 'excludes') return { ...col, min: 0, max: 'unlimited' };
  if (c.op === '==' || c.op === '!=') return col;
  throw new OvsdbTxnBuildError(`unknown condition function ${JSON.stringify(c.op)}`);
}

/** Encodes one condition for table `table`; named uuids are allowed (they resolve within a transaction). */
export function encodeCondition(table: TableSchema, c: Condition): unknown {
  if (typeof c === 'boolean') return c;
  try {
    const type = argumentType(table, c);
    const kind = columnKind(type);
    let value = c.value;
    // a bare atom for a set column means the one-element set, as on the wire
    if (kind === 'set' && value !== null && !Array.isArray(value) && typeof value !== 'object')
      value = [value];
    if ((kind === 'scalar' || kind === 'optional') && value !== null) {
      validateAtom(value, type.key, { column: `${table.name}.${c.column}` });
    }
    return [c.column, c.op, encodeDatum(value, type)];
  } catch (err) {
    if (err instanceof OvsdbDataError && !(err instanceof OvsdbTxnBuildError)) {
      throw new OvsdbTxnBuildError(`condition on ${table.name}.${c.column}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

export function encodeWhere(table: TableSchema, conditions: readonly Condition[]): unknown[] {
  return conditions.map((c) => encodeCondition(table, c));
}
