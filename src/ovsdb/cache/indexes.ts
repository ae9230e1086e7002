/**
 * Secondary indexes of one cached table: column indexes (single or multi-column, unique as the
 * schema declares them or non-unique as a client defines them) and map-key indexes such as
 * `external_ids:k8s.ovn.org/owner`. Lookups are hash lookups; nothing here scans the table.
 *
 * Uniqueness is never enforced while rows are being added or removed: the order of rows inside
 * one notification is undefined (libovsdb PR #186), so a row may transiently share a key with a
 * row that the same notification deletes later. Instead every bucket may hold several uuids and
 * `clashes()` reports unique keys that still hold more than one row once a batch is complete.
 */
import type { Atom, OvsMapValue, Row, Value } from '../value.js';

/** What an index is keyed on. */
export type IndexSpec =
  | { kind: 'columns'; name: string; columns: readonly string[]; unique: boolean }
  | { kind: 'map-key'; name: string; column: string; mapKey: string; unique: false };

/** An index key as callers pass it: an atom for one column or a map key, an array of values for several columns. */
export type IndexKey = Atom | readonly Value[];

export class IndexSpecError extends Error {
  override name = 'IndexSpecError';
}

/**
 * Parses the textual form used in options and lookups:
 * - `name`                             one column
 * - `datapath,tunnel_key`              several columns (a composite key)
 * - `external_ids:k8s.ovn.org/owner`   one key of a map column (split at the first ':' only,
 *                                      since map keys themselves may contain ':')
 */
export function parseIndexSpec(text: string, unique = false): IndexSpec {
  const colon = text.indexOf(':');
  if (colon > 0) {
    const column = text.slice(0, colon);
    const mapKey = text.slice(colon + 1);
    if (!mapKey) throw new IndexSpecError(`index "${text}": empty map key`);
    if (unique) throw new IndexSpecError(`index "${text}": map-key indexes cannot be unique`);
    return { kind: 'map-key', name: text, column, mapKey, unique: false };
  }
  const columns = text.split(',').map((c) => c.trim());
  if (columns.some((c) => !c)) throw new IndexSpecError(`index "${text}": empty column name`);
  return { kind: 'columns', name: columns.join(','), columns, unique };
}

/** The columns whose values an index reads; used to skip index maintenance for unrelated changes. */
export function indexedColumns(spec: IndexSpec): readonly string[] {
  return spec.kind === 'map-key' ? [spec.column] : spec.columns;
}

/**
 * A canonical string for any native value, used for composite keys and for set/map values.
 * Strings are length-prefixed so that no concatenation of parts can collide with another.
 */
export function canonicalKey(v: Value | undefined): string {
  if (v === null || v === undefined) return 'z';
  switch (typeof v) {
    case 'string':
      return `s${v.length}:${v}`;
    case 'number':
    case 'bigint':
      return `n${String(v)}`;
    case 'boolean':
      return v ? 'b1' : 'b0';
  }
  if (Array.isArray(v))
    return `[${v
      .map((a) => canonicalKey(a))
      .sort()
      .join(',')}]`;
  const entries: [string, string][] = [];
  if (v instanceof Map) {
    for (const [k, val] of v) entries.push([canonicalKey(k), canonicalKey(val)]);
  } else {
    for (const k of Object.keys(v))
      entries.push([canonicalKey(k), canonicalKey((v as Record<string, Atom>)[k])]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{${entries.map(([k, val]) => `${k}=${val}`).join(',')}}`;
}

type MapKeyOf = string | number | bigint | boolean;

function mapGet(m: OvsMapValue, key: string): Atom | undefined {
  if (m instanceof Map) return m.get(key);
  return Object.prototype.hasOwnProperty.call(m, key) ? (m as Record<string, Atom>)[key] : undefined;
}

/**
 * The keys one row contributes to an index (usually zero or one; a set column contributes one
 * key per element so that "which rows contain X" is a lookup). Empty/absent values contribute none.
 */
function keysOf(spec: IndexSpec, row: Row): MapKeyOf[] {
  if (spec.kind === 'map-key') {
    const m = row[spec.column];
    if (m === null || m === undefined || typeof m !== 'object' || Array.isArray(m)) return [];
    const v = mapGet(m as OvsMapValue, spec.mapKey);
    return v === undefined ? [] : [v];
  }
  if (spec.columns.length === 1) {
    const v = row[spec.columns[0]!];
    if (v === null || v === undefined) return [];
    if (Array.isArray(v)) {
      if (v.length === 0) return [];
      // a non-unique index on a set column answers "rows containing X"; a unique one compares whole sets
      return v.length === 1 || !spec.unique ? v.slice() : [canonicalKey(v)];
    }
    if (typeof v === 'object') return [canonicalKey(v)];
    return [v];
  }
  const parts: string[] = [];
  for (const c of spec.columns) parts.push(canonicalKey(row[c]));
  return [parts.join('|')];
}

/** Turns a caller's lookup key into the stored form. */
function lookupKeyOf(spec: IndexSpec, key: IndexKey): MapKeyOf {
  if (spec.kind === 'columns' && spec.columns.length > 1) {
    if (!Array.isArray(key) || key.length !== spec.columns.length) {
      throw new IndexSpecError(`index "${spec.name}" needs ${spec.columns.length} values`);
    }
    return (key as readonly Value[]).map((v) => canonicalKey(v)).join('|');
  }
  if (Array.isArray(key)) {
    // a whole-set value for a unique single-column index on a set column
    return key.length === 1 ? (key[0] as Atom) : canonicalKey(key as Atom[]);
  }
  return key as Atom;
}

/**
 * One index. A bucket holds a bare uuid string while it has one row (the common case: no Set
 * allocation per key, which matters at 100k+ rows) and upgrades to a Set on the second row.
 */
export class TableIndex {
  private readonly buckets = new Map<MapKeyOf, string | Set<string>>();
  /** keys of a unique index that received a second row since the last `takeClashes()` */
  private suspect: Set<MapKeyOf> | undefined;

  constructor(readonly spec: IndexSpec) {}

  get name(): string {
    return this.spec.name;
  }

  add(row: Row): void {
    for (const k of keysOf(this.spec, row)) this.addKey(k, row._uuid);
  }

  remove(row: Row): void {
    for (const k of keysOf(this.spec, row)) this.removeKey(k, row._uuid);
  }

  /** Moves a row from its old keys to its new ones, touching the buckets only when a key changed. */
  replace(oldRow: Row, newRow: Row): void {
    const before = keysOf(this.spec, oldRow);
    const after = keysOf(this.spec, newRow);
    if (before.length === 1 && after.length === 1 && before[0] === after[0]) return;
    for (const k of before) if (!after.includes(k)) this.removeKey(k, oldRow._uuid);
    for (const k of after) if (!before.includes(k)) this.addKey(k, newRow._uuid);
  }

  /** The uuids stored under `key` (no copy of the bucket beyond a small array). */
  uuids(key: IndexKey): string[] {
    const b = this.buckets.get(lookupKeyOf(this.spec, key));
    if (b === undefined) return [];
    return typeof b === 'string' ? [b] : [...b];
  }

  /** Number of distinct keys (for tests and metrics). */
  get keyCount(): number {
    return this.buckets.size;
  }

  /** Keys of a unique index that hold more than one row now, and forgets the suspects. */
  takeClashes(): { key: MapKeyOf; uuids: string[] }[] {
    const out: { key: MapKeyOf; uuids: string[] }[] = [];
    if (!this.suspect) return out;
    for (const k of this.suspect) {
      const b = this.buckets.get(k);
      if (b !== undefined && typeof b !== 'string' && b.size > 1) out.push({ key: k, uuids: [...b] });
    }
    this.suspect = undefined;
    return out;
  }

  clear(): void {
    this.buckets.clear();
    this.suspect = undefined;
  }

  private addKey(k: MapKeyOf, uuid: string): void {
    const b = this.buckets.get(k);
    if (b === undefined) {
      this.buckets.set(k, uuid);
    } else if (typeof b === 'string') {
      if (b === uuid) return;
      this.buckets.set(k, new Set([b, uuid]));
      if (this.spec.unique) (this.suspect ??= new Set()).add(k);
    } else {
      b.add(uuid);
      if (this.spec.unique) (this.suspect ??= new Set()).add(k);
    }
  }

  private removeKey(k: MapKeyOf, uuid: string): void {
    const b = this.buckets.get(k);
    if (b === undefined) return;
    if (typeof b === 'string') {
      if (b === uuid) this.buckets.delete(k);
      return;
    }
    b.delete(uuid);
    if (b.size === 1) this.buckets.set(k, b.values().next().value as string);
    else if (b.size === 0) this.buckets.delete(k);
  }
}
