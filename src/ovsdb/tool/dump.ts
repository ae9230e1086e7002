/**
 * `ovsdb-client dump`: which columns are shown and how the rows of one table are laid out
 * (columns sorted by name, `_version` left out, rows sorted by their values column by column so
 * the output is reproducible).
 */
import type { ColumnType, TableSchema } from '../schema.js';
import { ToolUsageError } from './errors.js';
import { compareUtf8 } from './ovs-json.js';
import type { Cell, OutputTable } from './table.js';
import { compareDatums, datumToString } from './wire-datum.js';

/** The columns `dump` shows: the requested ones (or all but `_version`), sorted by name. */
export function dumpColumns(table: TableSchema, requested: readonly string[] = []): string[] {
  for (const c of requested) {
    if (!table.columns.has(c))
      throw new ToolUsageError(`table ${table.name} has no column ${JSON.stringify(c)}`);
  }
  const names =
    requested.length > 0
      ? [...new Set(requested)]
      : [...table.columns.keys()].filter((c) => c !== '_version');
  return names.sort(compareUtf8);
}

/** Builds the "TABLE table" output of `dump` from the rows a `select` returned (wire notation). */
export function dumpTable(
  table: TableSchema,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): OutputTable {
  const types: ColumnType[] = columns.map((c) => table.columns.get(c)!.type);
  const data = rows.map((row) => columns.map((c) => row[c]));
  // like OVS: uuid-keyed columns (random values) only break ties between the other columns
  const isUuid = types.map((t) => t.key.type === 'uuid');
  const sortOrder = [...columns.keys()]
    .filter((x) => !isUuid[x])
    .concat([...columns.keys()].filter((x) => isUuid[x]));
  data.sort((a, b) => {
    for (const x of sortOrder) {
      const c = compareDatums(a[x], b[x]);
      if (c) return c;
    }
    return 0;
  });
  return {
    caption: `${table.name} table`,
    headings: [...columns],
    rows: data.map((values) =>
      values.map((json, x): Cell =>
        json === undefined ? null : { json, display: datumToString(json, types[x]!) },
      ),
    ),
  };
}
