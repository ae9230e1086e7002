/**
 * The replica of the monitored part of one database: applies `update` (v1), `update2` and
 * `update3` table-updates and full re-dumps, and emits insert/update/delete events.
 *
 * A notification is applied completely before any event is emitted, so a listener always sees
 * a cache where every row of that notification is in place (references between new rows
 * resolve, and no half-applied state is visible).
 */
import { EventEmitter } from 'node:events';
import type { DatabaseSchema } from '../schema.js';
import type { Row } from '../value.js';
import type { ApplyResult, CacheEvent, CacheProblem } from './events.js';
import { CacheLookupError, TableCache } from './table-cache.js';

/** Which columns of a table to replicate (all when omitted) and which client indexes to keep. */
export interface TableSelection {
  columns?: readonly string[];
  indexes?: readonly string[];
}

/** 1: `monitor` replies and `update` notifications; 2: `monitor_cond`/`_since` replies, `update2`, `update3`. */
export type UpdatesVersion = 1 | 2;

export interface DatabaseCacheEvents {
  insert: [Extract<CacheEvent, { type: 'insert' }>];
  update: [Extract<CacheEvent, { type: 'update' }>];
  delete: [Extract<CacheEvent, { type: 'delete' }>];
  /** every event of one notification or resync, in order, after the per-row events */
  change: [CacheEvent[]];
}

/** Table name → row type. */
export type TableRowTypes = Record<string, Row>;

export class CacheUpdateError extends Error {
  override name = 'CacheUpdateError';
}

type Json = Record<string, unknown>;

/** True when a dump holds a row (not a null/absent row-update) for `uuid`. */
function hasRow(dump: Json, uuid: string, version: UpdatesVersion): boolean {
  if (!Object.prototype.hasOwnProperty.call(dump, uuid)) return false;
  const ru = dump[uuid];
  if (!isObject(ru)) return false;
  const json = version === 1 ? ru.new : (ru.initial ?? ru.insert);
  return json !== undefined && json !== null;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `T` maps table names to row types (e.g. the generated `NbTables`); it only types what the
 * accessors return.
 */
export class DatabaseCache<
  T extends TableRowTypes = TableRowTypes,
> extends EventEmitter<DatabaseCacheEvents> {
  readonly schema: DatabaseSchema;
  private readonly tablesByName = new Map<string, TableCache>();
  /** receives exceptions thrown by event listeners (they must not break the replica) */
  onListenerError: (err: unknown, event: CacheEvent) => void = (err) => {
    process.emitWarning(`OVSDB cache event listener threw: ${String(err)}`);
  };

  constructor(schema: DatabaseSchema, tables: Record<string, TableSelection>) {
    super();
    this.schema = schema;
    for (const [name, sel] of Object.entries(tables)) {
      const ts = schema.tables.get(name);
      if (!ts) throw new CacheLookupError(`database ${schema.name} has no table ${name}`);
      const t = new TableCache(ts, sel.columns);
      for (const idx of sel.indexes ?? []) t.addIndex(idx);
      this.tablesByName.set(name, t);
    }
  }

  /** The cached table; throws when it is not monitored. */
  table<N extends keyof T & string>(name: N): TableCache<T[N]> {
    const t = this.tablesByName.get(name);
    if (!t) throw new CacheLookupError(`table ${name} is not monitored`);
    return t as TableCache<T[N]>;
  }

  hasTable(name: string): boolean {
    return this.tablesByName.has(name);
  }

  tableNames(): string[] {
    return [...this.tablesByName.keys()];
  }

  /** Shortcut for `table(t).get(uuid)`. */
  get<N extends keyof T & string>(table: N, uuid: string): T[N] | undefined {
    return this.table(table).get(uuid);
  }

  /** Applies one notification or monitor reply and emits its events. */
  applyUpdates(updates: unknown, version: UpdatesVersion): ApplyResult {
    const result: ApplyResult = { events: [], problems: [] };
    if (updates === null || updates === undefined) return result;
    if (!isObject(updates)) throw new CacheUpdateError('table-updates must be a JSON object');
    for (const [tableName, rows] of Object.entries(updates)) {
      const table = this.tablesByName.get(tableName);
      if (!table) {
        result.problems.push({ table: tableName, message: `update for unmonitored table ${tableName}` });
        continue;
      }
      if (!isObject(rows)) throw new CacheUpdateError(`table-update of ${tableName} must be a JSON object`);
      for (const uuid in rows) {
        const ru = rows[uuid];
        if (!isObject(ru))
          throw new CacheUpdateError(`row-update ${tableName}/${uuid} must be a JSON object`);
        if (version === 1) this.applyRowUpdate1(table, uuid, ru, result);
        else this.applyRowUpdate2(table, uuid, ru, result);
      }
    }
    this.collectClashes(result.problems);
    this.emitAll(result.events);
    return result;
  }

  /**
   * Replaces the contents with a full dump (the initial reply of a fresh monitor after a
   * reconnect) and emits only the real differences: rows that appeared, disappeared or whose
   * monitored columns changed. Unchanged rows keep their object identity.
   */
  resync(snapshot: unknown, version: UpdatesVersion): ApplyResult {
    const result: ApplyResult = { events: [], problems: [] };
    if (snapshot !== null && snapshot !== undefined && !isObject(snapshot)) {
      throw new CacheUpdateError('table-updates must be a JSON object');
    }
    const snap = (snapshot ?? {}) as Json;
    for (const name of Object.keys(snap)) {
      if (!this.tablesByName.has(name))
        result.problems.push({ table: name, message: `dump of unmonitored table ${name}` });
    }
    for (const [name, table] of this.tablesByName) {
      const rows = snap[name];
      if (rows !== undefined && !isObject(rows))
        throw new CacheUpdateError(`table-update of ${name} must be an object`);
      const dump: Json = rows ?? {};
      // rows gone from the dump first, so that events read "delete, then insert/update"
      if (table.size > 0) {
        const gone: Row[] = [];
        for (const old of table.rows()) if (!hasRow(dump, old._uuid, version)) gone.push(old);
        for (const old of gone) {
          table.remove(old._uuid);
          result.events.push({ type: 'delete', table: name, old });
        }
      }
      // for..in instead of Object.entries: no [key, value] array per row of a 100k-row dump
      for (const uuid in dump) {
        const ru = dump[uuid];
        if (!isObject(ru)) throw new CacheUpdateError(`row-update ${name}/${uuid} must be a JSON object`);
        const json = version === 1 ? ru.new : (ru.initial ?? ru.insert);
        if (json === undefined || json === null) continue;
        if (!isObject(json)) throw new CacheUpdateError(`row ${name}/${uuid} must be a JSON object`);
        const row = table.buildRow(uuid, json);
        const old = table.get(uuid);
        if (!old) {
          table.put(row);
          result.events.push({ type: 'insert', table: name, new: row });
          continue;
        }
        const changed = table.changedColumns(old, row);
        if (changed.length > 0) {
          table.put(row);
          result.events.push({ type: 'update', table: name, old, new: row, changed });
        }
      }
    }
    this.collectClashes(result.problems);
    this.emitAll(result.events);
    return result;
  }

  /** Drops every row without events (used when the cache is abandoned, not when it resyncs). */
  clear(): void {
    for (const t of this.tablesByName.values()) t.clear();
  }

  private applyRowUpdate1(table: TableCache, uuid: string, ru: Json, result: ApplyResult): void {
    const name = table.name;
    const neu = ru.new;
    const old = table.get(uuid);
    if (neu === undefined || neu === null) {
      if (ru.old === undefined) return;
      if (!old) {
        result.problems.push({ table: name, uuid, message: `delete of unknown row ${name}/${uuid}` });
        return;
      }
      table.remove(uuid);
      result.events.push({ type: 'delete', table: name, old });
      return;
    }
    if (!isObject(neu)) throw new CacheUpdateError(`row ${name}/${uuid} must be a JSON object`);
    if (ru.old !== undefined && !old) {
      result.problems.push({ table: name, uuid, message: `modify of unknown row ${name}/${uuid}` });
    }
    // "new" of a v1 modify holds every monitored column, but keep the old values for any it omits
    const row = table.buildRow(uuid, neu, old);
    this.store(table, old, row, result);
  }

  private applyRowUpdate2(table: TableCache, uuid: string, ru: Json, result: ApplyResult): void {
    const name = table.name;
    const old = table.get(uuid);
    const rowJson = ru.initial ?? ru.insert;
    if (rowJson !== undefined) {
      if (!isObject(rowJson)) throw new CacheUpdateError(`row ${name}/${uuid} must be a JSON object`);
      // an insert of a row we hold already (e.g. replayed after a resume) replaces it
      this.store(table, old, table.buildRow(uuid, rowJson), result);
      return;
    }
    if (ru.modify !== undefined) {
      if (!isObject(ru.modify)) throw new CacheUpdateError(`modify of ${name}/${uuid} must be a JSON object`);
      if (!old) {
        result.problems.push({ table: name, uuid, message: `modify of unknown row ${name}/${uuid}` });
        return;
      }
      let modified: { row: Row; changed: string[] };
      try {
        modified = table.applyModify(old, ru.modify);
      } catch (err) {
        // a diff that does not fit the cached value means we are out of sync; skip the row, report it
        result.problems.push({
          table: name,
          uuid,
          message: `cannot apply modify: ${(err as Error).message}`,
        });
        return;
      }
      const { row, changed } = modified;
      if (changed.length === 0) return;
      table.put(row);
      result.events.push({ type: 'update', table: name, old, new: row, changed });
      return;
    }
    if ('delete' in ru) {
      if (!old) {
        result.problems.push({ table: name, uuid, message: `delete of unknown row ${name}/${uuid}` });
        return;
      }
      table.remove(uuid);
      result.events.push({ type: 'delete', table: name, old });
      return;
    }
    throw new CacheUpdateError(`row-update2 ${name}/${uuid} has none of initial, insert, modify, delete`);
  }

  private store(table: TableCache, old: Row | undefined, row: Row, result: ApplyResult): void {
    if (!old) {
      table.put(row);
      result.events.push({ type: 'insert', table: table.name, new: row });
      return;
    }
    const changed = table.changedColumns(old, row);
    if (changed.length === 0) return;
    table.put(row);
    result.events.push({ type: 'update', table: table.name, old, new: row, changed });
  }

  private collectClashes(problems: CacheProblem[]): void {
    for (const t of this.tablesByName.values()) {
      for (const message of t.takeClashes()) problems.push({ table: t.name, message });
    }
  }

  private emitAll(events: CacheEvent[]): void {
    if (events.length === 0) return;
    for (const ev of events) {
      try {
        // the three emits are spelled out so that each gets its precise event type
        if (ev.type === 'insert') this.emit('insert', ev);
        else if (ev.type === 'update') this.emit('update', ev);
        else this.emit('delete', ev);
      } catch (err) {
        this.onListenerError(err, ev);
      }
    }
    try {
      this.emit('change', events);
    } catch (err) {
      this.onListenerError(err, events[0]!);
    }
  }
}
