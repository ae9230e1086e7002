/**
 * The cache's use of the datum codec: decode, apply update2 diffs, compare; plus interning of
 * empty values. Most columns of most rows are empty sets or maps; sharing one frozen empty array
 * and one frozen empty object for all of them saves ~50-100 bytes per column per row.
 */
import { applyDiff, decodeDatum, defaultValue, valuesEqual } from '../datum.js';
import type { ColumnType } from '../schema.js';
import type { Value } from '../value.js';

const EMPTY_ARRAY: readonly never[] = Object.freeze([]);
const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});

/** Shares empty containers and freezes the others, so rows handed out cannot be mutated. */
export function internValue(v: Value): Value {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v))
    return v.length === 0 ? (EMPTY_ARRAY as unknown as Value) : (Object.freeze(v) as Value);
  if (v instanceof Map) return v; // maps with non-string keys are rare; a frozen Map would still be mutable
  for (const _k in v) return Object.freeze(v);
  return EMPTY_OBJECT as unknown as Value;
}

export function defaultColumnValue(type: ColumnType): Value {
  return internValue(defaultValue(type));
}

export function decodeColumn(json: unknown, col: { type: ColumnType }): Value {
  return internValue(decodeDatum(json, col.type));
}

/** update2 `modify`: the new value from the old one and the wire diff (never validated against max). */
export function diffColumn(old: Value, diffJson: unknown, col: { type: ColumnType }): Value {
  return internValue(applyDiff(old, diffJson, col.type));
}

/** Equality of two native values of the same column (order of sets and maps not significant). */
export function sameValue(a: Value, b: Value, type: ColumnType): boolean {
  return a === b || valuesEqual(a, b, type);
}
