/**
 * The read-only view of the NB database the reconciler needs, kept minimal so it can sit on the
 * live OVSDB cache (src/ovsdb/cache) or on a plain snapshot (tests, dumps).
 */
import type { DatabaseCache } from '../../ovsdb/cache/database-cache.js';
import type { Atom, Row } from '../../ovsdb/value.js';
import { ID_KEY, OWNER_KEY } from '../names.js';

export interface NbView {
  /** every row of a table (empty when the table is not known) */
  rows(table: string): Iterable<Row>;
  get(table: string, uuid: string): Row | undefined;
  /** rows whose `name` column equals `name` */
  byName(table: string, name: string): Row[];
  /** rows whose external_ids[key] equals value; key is OWNER_KEY or ID_KEY */
  byExternalId(table: string, key: string, value: string): Row[];
  /**
   * uuids of the rows of `table` whose set column `column` contains `uuid`. Optional: without it
   * the reconciler builds a reverse index per call by scanning `table`.
   */
  referrers?(table: string, column: string, uuid: string): string[];
}

const externalIdOf = (row: Row, key: string): Atom | undefined => {
  const ids = row.external_ids;
  if (!ids || typeof ids !== 'object' || Array.isArray(ids) || ids instanceof Map) return undefined;
  return ids[key];
};

/**
 * An NbView over a snapshot of rows (table -> rows), with hash indexes built on first use.
 * Used by tests and for checking a dump of a real database.
 */
export class SnapshotNbView implements NbView {
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly indexes = new Map<string, Map<string, Row[]>>();

  constructor(snapshot: Record<string, Iterable<Row>>) {
    for (const [table, rows] of Object.entries(snapshot)) {
      const byUuid = new Map<string, Row>();
      for (const r of rows) byUuid.set(r._uuid, r);
      this.tables.set(table, byUuid);
    }
  }

  rows(table: string): Iterable<Row> {
    return this.tables.get(table)?.values() ?? [];
  }

  get(table: string, uuid: string): Row | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  byName(table: string, name: string): Row[] {
    return (
      this.index(table, 'name', (r) => (typeof r.name === 'string' ? r.name : undefined)).get(name) ?? []
    );
  }

  byExternalId(table: string, key: string, value: string): Row[] {
    return (
      this.index(table, `external_ids:${key}`, (r) => {
        const v = externalIdOf(r, key);
        return typeof v === 'string' ? v : undefined;
      }).get(value) ?? []
    );
  }

  private index(table: string, name: string, keyOf: (r: Row) => string | undefined): Map<string, Row[]> {
    const id = `${table}\u0000${name}`;
    let idx = this.indexes.get(id);
    if (!idx) {
      idx = new Map();
      for (const r of this.rows(table)) {
        const k = keyOf(r);
        if (k === undefined) continue;
        const bucket = idx.get(k);
        if (bucket) bucket.push(r);
        else idx.set(k, [r]);
      }
      this.indexes.set(id, idx);
    }
    return idx;
  }
}

/** The NB indexes the reconciler looks rows up by; add them when the cache is created. */
export const RECONCILE_INDEXES = ['name', `external_ids:${OWNER_KEY}`, `external_ids:${ID_KEY}`] as const;

/**
 * An NbView on the live OVSDB cache (src/ovsdb/cache). Indexes are added on first use of a table
 * (the cache builds them from its current rows and keeps them up to date afterwards).
 */
export function cacheNbView(cache: DatabaseCache): NbView {
  // every lookup passes here: once an index is known to exist, skip the checks
  const ready = new Set<string>();
  const ensure = (table: string, index: string): boolean => {
    const id = `${table}\u0000${index}`;
    if (ready.has(id)) return true;
    if (!cache.hasTable(table)) return false;
    const t = cache.table(table);
    if (!t.hasIndex(index)) {
      if (!t.column(index.split(':')[0]!)) return false;
      t.addIndex(index);
    }
    ready.add(id);
    return true;
  };
  return {
    rows: (table) => (cache.hasTable(table) ? cache.table(table).rows() : []),
    get: (table, uuid) => (cache.hasTable(table) ? cache.get(table, uuid) : undefined),
    byName: (table, name) => (ensure(table, 'name') ? cache.table(table).lookup('name', name) : []),
    byExternalId: (table, key, value) =>
      ensure(table, `external_ids:${key}`) ? cache.table(table).lookup(`external_ids:${key}`, value) : [],
  };
}
