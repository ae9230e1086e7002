/**
 * `ovsdb-client monitor`: the monitor request built from the command line, and the tables it
 * prints for the initial contents and for each update (RFC 7047 "monitor", table-updates v1).
 */
import type { ColumnType, TableSchema } from '../schema.js';
import { ToolUsageError } from './errors.js';
import { compareUtf8 } from './ovs-json.js';
import { shashOrder } from './ovs-hash.js';
import type { Cell, OutputTable } from './table.js';
import { datumToString } from './wire-datum.js';

export interface MonitorSelect {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

export interface MonitorColumnsRequest {
  columns: string[];
  select: MonitorSelect;
}

export interface MonitoredTable {
  table: TableSchema;
  /** the columns shown, in output order */
  columns: string[];
  /** one request per COLUMN argument (sent as an array), or one request when there was none */
  requests: MonitorColumnsRequest[];
  /** true when the requests go out as an array (the C tool does so for COLUMN arguments) */
  asArray: boolean;
}

const SELECT_KEYS: readonly (keyof MonitorSelect)[] = ['initial', 'insert', 'delete', 'modify'];

/** Every column but `_uuid`, sorted by name, then `_version` (the C tool's default). */
function defaultColumns(table: TableSchema): string[] {
  return [
    ...[...table.columns.keys()].filter((c) => c !== '_uuid' && c !== '_version').sort(compareUtf8),
    '_version',
  ];
}

/**
 * Reads `COLUMN,...` arguments as the C tool does: each argument is one monitor request of its
 * own, naming columns plus `!initial`, `!insert`, `!delete`, `!modify`; an argument that names
 * no column stands for all columns. A column may appear in only one request.
 */
export function monitoredTable(
  table: TableSchema,
  dbName: string,
  columnArgs: readonly string[],
): MonitoredTable {
  const args = columnArgs.length > 0 ? columnArgs : [''];
  const columns: string[] = [];
  const requests: MonitorColumnsRequest[] = args.map((arg) => {
    const select: MonitorSelect = { initial: true, insert: true, delete: true, modify: true };
    const named: string[] = [];
    for (const name of arg.split(',')) {
      if (name === '') continue;
      if (name.startsWith('!') && SELECT_KEYS.includes(name.slice(1) as keyof MonitorSelect)) {
        select[name.slice(1) as keyof MonitorSelect] = false;
        continue;
      }
      if (!table.columns.has(name)) {
        throw new ToolUsageError(
          `table ${JSON.stringify(table.name)} in ${dbName} does not have a column named ${JSON.stringify(name)}`,
        );
      }
      named.push(name);
    }
    const reqColumns = named.length > 0 ? named : defaultColumns(table);
    for (const c of reqColumns) {
      if (columns.includes(c))
        throw new ToolUsageError(`column ${JSON.stringify(c)} mentioned multiple times`);
      columns.push(c);
    }
    return { columns: reqColumns, select };
  });
  return { table, columns, requests, asArray: columnArgs.length > 0 };
}

/** The monitor-request(s) of RFC 7047 for one table. */
export function monitorRequest(mt: MonitoredTable): unknown {
  const reqs = mt.requests.map((r) => ({ columns: r.columns, select: { ...r.select } }));
  return mt.asArray ? reqs : reqs[0];
}

interface RowUpdate {
  old?: Record<string, unknown>;
  new?: Record<string, unknown>;
}

/** One printed line of an update: the row's uuid (or blank), the action, the values shown. */
type UpdateLine = [row: string, action: string, values: Record<string, unknown>];

/**
 * The printed table for one table's row updates, or undefined when there is nothing to print;
 * `linesOf` says what each row's update prints as. Rows come in the order OVS's hash map iterates
 * the uuids, as the C tool prints them; a column the update does not carry is an empty cell.
 */
function updatesTable(
  mt: MonitoredTable,
  rowUpdates: Record<string, unknown>,
  caption: string | undefined,
  linesOf: (uuid: string, update: Record<string, unknown>) => UpdateLine[],
): OutputTable | undefined {
  const uuids = Object.keys(rowUpdates);
  if (uuids.length === 0) return undefined;
  const types: ColumnType[] = mt.columns.map((c) => mt.table.columns.get(c)!.type);
  const rows: Cell[][] = [];
  for (const uuid of shashOrder(uuids)) {
    const u = rowUpdates[uuid];
    if (!u || typeof u !== 'object') continue;
    for (const [row, action, values] of linesOf(uuid, u as Record<string, unknown>)) {
      rows.push([
        { text: row },
        { text: action },
        ...mt.columns.map((c, x): Cell => {
          const json = values[c];
          return json === undefined ? null : { json, display: datumToString(json, types[x]!) };
        }),
      ]);
    }
  }
  const table: OutputTable = { headings: ['row', 'action', ...mt.columns], rows };
  if (caption !== undefined) table.caption = caption;
  return table;
}

/** The printed table for one table's updates (`{uuid: {old, new}}`, table-updates v1). */
export function monitorUpdateTable(
  mt: MonitoredTable,
  rowUpdates: Record<string, unknown>,
  initial: boolean,
  caption?: string,
): OutputTable | undefined {
  return updatesTable(mt, rowUpdates, caption, (uuid, update): UpdateLine[] => {
    const u = update as RowUpdate;
    if (!u.new) return u.old ? [[uuid, 'delete', u.old]] : [];
    if (!u.old) return [[uuid, initial ? 'initial' : 'insert', u.new]];
    return [
      [uuid, 'old', u.old],
      ['', 'new', u.new],
    ];
  });
}

// ---- monitor-cond (table-updates2) --------------------------------------------------------

/** The monitor-cond-request(s) for one table: the requests of `monitor` with `where` added. */
export function monitorCondRequest(mt: MonitoredTable, where: unknown[]): unknown {
  const reqs = mt.requests.map((r) => ({ columns: r.columns, where, select: { ...r.select } }));
  return mt.asArray ? reqs : reqs[0];
}

const UPDATE2_ACTIONS = ['initial', 'insert', 'modify', 'delete'] as const;

/**
 * The printed table for one table's `update2` rows (`{uuid: {initial|insert|modify|delete: row}}`):
 * one line per row with the columns the update carries (a modify carries the diff).
 */
export function monitorUpdate2Table(
  mt: MonitoredTable,
  rowUpdates: Record<string, unknown>,
  caption?: string,
): OutputTable | undefined {
  return updatesTable(mt, rowUpdates, caption, (uuid, u): UpdateLine[] => {
    const action = UPDATE2_ACTIONS.find((a) => a in u);
    return action ? [[uuid, action, (u[action] ?? {}) as Record<string, unknown>]] : [];
  });
}
