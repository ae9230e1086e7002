/**
 * Typed mutations (RFC 7047 §5.1 <mutation>): [column, mutator, value] triples checked against
 * the schema the way ovsdb-server checks them, so a bad mutation fails before it is sent.
 */
import { columnKind, columnSchema, type ColumnType, type TableSchema } from './schema.js';
import { encodeDatum, validateAtom, validateValue } from './datum.js';
import { OvsdbDataError, OvsdbTxnBuildError } from './data-errors.js';
import type { Atom, OvsMapValue, Value } from './value.js';

export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export const MUTATORS: readonly Mutator[] = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'];

export interface Mutation<C extends string = string> {
  column: C;
  mutator: Mutator;
  value: Value;
}

export function mutation<C extends string>(column: C, mutator: Mutator, value: Value): Mutation<C> {
  return { column, mutator, value };
}

/** Shorthands: mutate.insert('ports', [uuid]), mutate.deleteKeys('external_ids', ['k']) … */
export const mutate = {
  add: <C extends string>(column: C, n: number | bigint) => mutation(column, '+=', n),
  sub: <C extends string>(column: C, n: number | bigint) => mutation(column, '-=', n),
  mul: <C extends string>(column: C, n: number | bigint) => mutation(column, '*=', n),
  div: <C extends string>(column: C, n: number | bigint) => mutation(column, '/=', n),
  mod: <C extends string>(column: C, n: number | bigint) => mutation(column, '%=', n),
  /** set: add elements; map: add pairs whose key is absent (an existing key is NOT overwritten) */
  insert: <C extends string>(column: C, value: Atom[] | OvsMapValue | Atom) =>
    mutation(column, 'insert', value),
  /** set: remove elements; map: remove pairs that match key AND value */
  delete: <C extends string>(column: C, value: Atom[] | OvsMapValue | Atom) =>
    mutation(column, 'delete', value),
  /** map: remove pairs by key whatever their value */
  deleteKeys: <C extends string>(column: C, keys: Atom[]) => mutation(column, 'delete', keys),
};

const ARITHMETIC: ReadonlySet<Mutator> = new Set(['+=', '-=', '*=', '/=', '%=']);

function argument(table: TableSchema, m: Mutation): { type: ColumnType; value: Value } {
  const where = `${table.name}.${m.column}`;
  const col = columnSchema(table, m.column);
  if (m.column === '_uuid' || m.column === '_version' || !col.mutable) {
    throw new OvsdbTxnBuildError(`${where}: cannot mutate immutable column`);
  }
  const type = col.type;
  const kind = columnKind(type);
  if (ARITHMETIC.has(m.mutator)) {
    // arithmetic applies to every element of a scalar or set of numbers; never to maps
    if (kind === 'map' || (type.key.type !== 'integer' && type.key.type !== 'real')) {
      throw new OvsdbTxnBuildError(`${where}: ${m.mutator} needs an integer or real column (not a map)`);
    }
    if (m.mutator === '%=' && type.key.type !== 'integer') {
      throw new OvsdbTxnBuildError(`${where}: %= needs an integer column`);
    }
    // the argument is checked for its type only: the server checks the result against the constraints
    return { type: { key: { type: type.key.type }, min: 1, max: 1 }, value: m.value };
  }
  if (m.mutator === 'insert' || m.mutator === 'delete') {
    if (kind === 'scalar') throw new OvsdbTxnBuildError(`${where}: ${m.mutator} needs a set or map column`);
    if (kind === 'map') {
      if (m.mutator === 'delete' && Array.isArray(m.value)) {
        // delete by keys: a set of the key type
        return { type: { key: type.key, min: 0, max: 'unlimited' }, value: m.value };
      }
      return { type: { ...type, min: 0, max: 'unlimited' }, value: m.value };
    }
    const value = Array.isArray(m.value) ? m.value : m.value === null ? [] : [m.value as Atom];
    return { type: { key: type.key, min: 0, max: 'unlimited' }, value };
  }
  throw new OvsdbTxnBuildError(`${where}: unknown mutator ${JSON.stringify(m.mutator)}`);
}

export function encodeMutation(table: TableSchema, m: Mutation): unknown {
  try {
    const { type, value } = argument(table, m);
    const kind = columnKind(type);
    if (kind === 'set') for (const a of value as Atom[]) validateAtom(a, type.key);
    else if (kind === 'scalar') validateAtom(value, type.key);
    else if (kind === 'map') validateValue(value, type);
    return [m.column, m.mutator, encodeDatum(value, type)];
  } catch (err) {
    if (err instanceof OvsdbDataError && !(err instanceof OvsdbTxnBuildError)) {
      throw new OvsdbTxnBuildError(`mutation of ${table.name}.${m.column}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

export function encodeMutations(table: TableSchema, mutations: readonly Mutation[]): unknown[] {
  return mutations.map((m) => encodeMutation(table, m));
}
