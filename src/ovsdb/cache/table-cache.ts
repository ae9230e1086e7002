/**
 * The replica of one monitored table: rows by uuid plus secondary indexes.
 *
 * Rows are native values (value.ts), frozen, and built with the monitored columns always in the
 * same order so that every row of a table shares one V8 hidden class; default values (empty
 * sets and maps) are one shared frozen instance per column. Nothing of the wire JSON is kept.
 * These two choices keep a cached Logical_Switch_Port well under 1 KiB of heap.
 */
import type { ColumnSchema, ColumnType, TableSchema } from '../schema.js';
import type { Row, Value } from '../value.js';
import { TableIndex, indexedColumns, parseIndexSpec, type IndexKey, type IndexSpec } from './indexes.js';
import { decodeColumn, defaultColumnValue, diffColumn, sameValue } from './values.js';

export class CacheLookupError extends Error {
  override name = 'CacheLookupError';
}

/** How the cache decodes one monitored column (precomputed once per table). */
export interface CachedColumn {
  name: string;
  type: ColumnType;
  /** the shared frozen default (empty set/map, 0, "", false, null) */
  defaultValue: Value;
}

/**
 * `R` is the row type (e.g. a generated model such as `nb.LogicalSwitchPort`); rows are built
 * from the schema, so the type is a promise the caller makes by choosing the table.
 */
export class TableCache<R extends Row = Row> {
  readonly name: string;
  readonly schema: TableSchema;
  /** monitored columns, in schema order (the order every row object is built in) */
  readonly columns: readonly CachedColumn[];
  private readonly columnsByName: Map<string, CachedColumn>;
  private rowsByUuid = new Map<string, R>();
  private readonly indexes = new Map<string, TableIndex>();
  private readonly makeRow: RowFactory;

  constructor(schema: TableSchema, columns?: readonly string[]) {
    this.name = schema.name;
    this.schema = schema;
    const wanted = columns ? new Set(columns) : undefined;
    const cols: CachedColumn[] = [];
    for (const c of schema.columns.values()) {
      if (c.name.startsWith('_')) continue;
      if (wanted && !wanted.has(c.name)) continue;
      cols.push(cachedColumn(c));
    }
    if (wanted) {
      for (const w of wanted) {
        if (!cols.some((c) => c.name === w))
          throw new CacheLookupError(`table ${this.name} has no column ${w}`);
      }
    }
    this.columns = cols;
    this.columnsByName = new Map(cols.map((c) => [c.name, c]));
    this.makeRow = compileRowFactory(cols.map((c) => c.name));
    // the schema's unique indexes, when every one of their columns is monitored
    for (const idx of schema.indexes) {
      if (idx.every((c) => this.columnsByName.has(c))) {
        this.addIndex({ kind: 'columns', name: idx.join(','), columns: idx, unique: true });
      }
    }
  }

  /** Monitored column names (what the monitor request asks for). */
  columnNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  get size(): number {
    return this.rowsByUuid.size;
  }

  get(uuid: string): R | undefined {
    return this.rowsByUuid.get(uuid);
  }

  has(uuid: string): boolean {
    return this.rowsByUuid.has(uuid);
  }

  /** Every row (no copy of the rows themselves). */
  rows(): IterableIterator<R> {
    return this.rowsByUuid.values();
  }

  [Symbol.iterator](): IterableIterator<R> {
    return this.rowsByUuid.values();
  }

  /** A scan with a predicate; prefer `lookup` on an index for anything large. */
  filter(predicate: (row: R) => boolean): R[] {
    const out: R[] = [];
    for (const r of this.rowsByUuid.values()) if (predicate(r)) out.push(r);
    return out;
  }

  /**
   * Defines an index (idempotent): `name`, `a,b` (composite) or `column:mapKey` (map key, e.g.
   * `external_ids:k8s.ovn.org/owner`). Client indexes are not unique. Built from the current rows.
   */
  addIndex(spec: string | IndexSpec): TableIndex {
    const s = typeof spec === 'string' ? parseIndexSpec(spec) : spec;
    const existing = this.indexes.get(s.name);
    if (existing) return existing;
    for (const c of indexedColumns(s)) {
      if (!this.columnsByName.has(c)) {
        throw new CacheLookupError(`cannot index ${this.name}.${c}: the column is not monitored`);
      }
    }
    const index = new TableIndex(s);
    for (const r of this.rowsByUuid.values()) index.add(r);
    this.indexes.set(s.name, index);
    return index;
  }

  hasIndex(name: string): boolean {
    return this.indexes.has(normalizeIndexName(name));
  }

  indexNames(): string[] {
    return [...this.indexes.keys()];
  }

  /** Rows whose indexed value equals `key` (an atom, or an array of values for a composite index). */
  lookup(indexName: string, key: IndexKey): R[] {
    const index = this.indexes.get(normalizeIndexName(indexName));
    if (!index) throw new CacheLookupError(`table ${this.name} has no index ${indexName}`);
    const out: R[] = [];
    for (const u of index.uuids(key)) {
      const r = this.rowsByUuid.get(u);
      if (r) out.push(r);
    }
    return out;
  }

  /** The single row under `key`, or undefined; throws when the key is ambiguous. */
  lookupOne(indexName: string, key: IndexKey): R | undefined {
    const rows = this.lookup(indexName, key);
    if (rows.length > 1) {
      throw new CacheLookupError(`${rows.length} rows of ${this.name} match ${indexName}=${String(key)}`);
    }
    return rows[0];
  }

  // ---- building rows (used by DatabaseCache) ----

  column(name: string): CachedColumn | undefined {
    return this.columnsByName.get(name);
  }

  /**
   * A full row from wire columns; columns absent from `json` take their default value
   * (update2 `initial`/`insert` omit defaults) or, with `base`, keep the base row's value
   * (update v1 `modify`, where "new" may be partial).
   */
  buildRow(uuid: string, json: Record<string, unknown> | undefined, base?: R): R {
    const cols = this.columns;
    const values: Value[] = new Array<Value>(cols.length);
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      const j = json === undefined ? undefined : json[c.name];
      values[i] = j === undefined ? (base ? (base[c.name] as Value) : c.defaultValue) : decodeColumn(j, c);
    }
    return Object.freeze(this.makeRow(uuid, values)) as R;
  }

  /** The row after an update2 `modify`: each column in `diff` is applied to the old value. */
  applyModify(old: R, diff: Record<string, unknown>): { row: R; changed: string[] } {
    const cols = this.columns;
    const values: Value[] = new Array<Value>(cols.length);
    const changed: string[] = [];
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      const d = diff[c.name];
      const before = old[c.name] as Value;
      if (d === undefined) {
        values[i] = before;
        continue;
      }
      const after = diffColumn(before, d, c);
      values[i] = after;
      if (!sameValue(before, after, c.type)) changed.push(c.name);
    }
    return { row: Object.freeze(this.makeRow(old._uuid, values)) as R, changed };
  }

  /** Names of the columns whose values differ between two versions of a row. */
  changedColumns(a: R, b: R): string[] {
    const out: string[] = [];
    for (const c of this.columns)
      if (!sameValue(a[c.name] as Value, b[c.name] as Value, c.type)) out.push(c.name);
    return out;
  }

  // ---- mutation (used by DatabaseCache; indexes follow every change) ----

  put(row: R): R | undefined {
    const old = this.rowsByUuid.get(row._uuid);
    this.rowsByUuid.set(row._uuid, row);
    if (old) for (const idx of this.indexes.values()) idx.replace(old, row);
    else for (const idx of this.indexes.values()) idx.add(row);
    return old;
  }

  remove(uuid: string): R | undefined {
    const old = this.rowsByUuid.get(uuid);
    if (!old) return undefined;
    this.rowsByUuid.delete(uuid);
    for (const idx of this.indexes.values()) idx.remove(old);
    return old;
  }

  clear(): void {
    this.rowsByUuid = new Map();
    for (const idx of this.indexes.values()) idx.clear();
  }

  /** Unique-index keys holding several rows after a batch (see indexes.ts for why not earlier). */
  takeClashes(): string[] {
    const out: string[] = [];
    for (const idx of this.indexes.values()) {
      for (const c of idx.takeClashes()) {
        out.push(`unique index ${this.name}(${idx.name}) holds ${c.uuids.length} rows for ${String(c.key)}`);
      }
    }
    return out;
  }
}

type RowFactory = (uuid: string, values: readonly Value[]) => Row;

/**
 * A function that builds a row as one object literal with every column. V8 gives such objects
 * in-object fast properties and one shared hidden class; adding 17 properties one by one
 * instead turns each row into a dictionary-mode object of about twice the size. Column names
 * are schema identifiers ([A-Za-z_][A-Za-z0-9_]*) and are quoted anyway.
 */
function compileRowFactory(columns: readonly string[]): RowFactory {
  const fields = columns.map((c, i) => `${JSON.stringify(c)}: v[${i}]`);
  return new Function('u', 'v', `return { _uuid: u${fields.map((f) => `, ${f}`).join('')} };`) as RowFactory;
}

// Index names come from a handful of call sites and are looked up on every read: remember them.
const normalizedNames = new Map<string, string>();
function normalizeIndexName(name: string): string {
  let n = normalizedNames.get(name);
  if (n === undefined) {
    n = name.includes(':')
      ? name
      : name
          .split(',')
          .map((c) => c.trim())
          .join(',');
    if (normalizedNames.size < 10_000) normalizedNames.set(name, n);
  }
  return n;
}

function cachedColumn(c: ColumnSchema): CachedColumn {
  return { name: c.name, type: c.type, defaultValue: defaultColumnValue(c.type) };
}
