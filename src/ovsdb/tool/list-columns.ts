/**
 * `list-columns`: every column of one table (or of all tables) with its type, in the order and the
 * normal form OVS's `ovsdb-client` prints: a type is written back as `ovsdb_type_to_json` does
 * (a bare atomic type name when nothing constrains it, defaults such as `min: 1` or a strong
 * reference left out), and tables and columns come in OVS's hash-map order.
 */
import type { Atom } from '../value.js';
import type { BaseType, ColumnType, DatabaseSchema } from '../schema.js';
import { ToolUsageError } from './errors.js';
import { shashOrder } from './ovs-hash.js';
import { formatOvsJson } from './ovs-json.js';
import type { OutputTable } from './table.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT_MAX = 4294967295;

function hasConstraints(b: BaseType): boolean {
  return (
    b.enum !== undefined ||
    (b.minInteger !== undefined && BigInt(b.minInteger) !== INT64_MIN) ||
    (b.maxInteger !== undefined && BigInt(b.maxInteger) !== INT64_MAX) ||
    (b.minReal !== undefined && b.minReal !== -Number.MAX_VALUE) ||
    (b.maxReal !== undefined && b.maxReal !== Number.MAX_VALUE) ||
    (b.minLength !== undefined && b.minLength !== 0) ||
    (b.maxLength !== undefined && b.maxLength !== UINT_MAX) ||
    b.refTable !== undefined
  );
}

/** An atom as OVS JSON: uuids as ["uuid", ...], everything else as itself. */
const atomJson = (a: Atom, type: BaseType['type']): unknown => (type === 'uuid' ? ['uuid', a] : a);

function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = typeof a === 'bigint' ? a : BigInt(Math.trunc(Number(a)));
  const y = typeof b === 'bigint' ? b : BigInt(Math.trunc(Number(b)));
  if (typeof a === 'number' && typeof b === 'number' && !(Number.isInteger(a) && Number.isInteger(b)))
    return a - b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** OVS `ovsdb_base_type_to_json`. */
export function baseTypeJson(b: BaseType): unknown {
  if (!hasConstraints(b)) return b.type;
  const out: Record<string, unknown> = { type: b.type };
  if (b.enum !== undefined) {
    const sorted = [...b.enum].sort(compareAtoms).map((a) => atomJson(a, b.type));
    out.enum = sorted.length === 1 ? sorted[0] : ['set', sorted];
  }
  if (b.type === 'integer') {
    if (b.minInteger !== undefined && BigInt(b.minInteger) !== INT64_MIN) out.minInteger = b.minInteger;
    if (b.maxInteger !== undefined && BigInt(b.maxInteger) !== INT64_MAX) out.maxInteger = b.maxInteger;
  } else if (b.type === 'real') {
    if (b.minReal !== undefined && b.minReal !== -Number.MAX_VALUE) out.minReal = b.minReal;
    if (b.maxReal !== undefined && b.maxReal !== Number.MAX_VALUE) out.maxReal = b.maxReal;
  } else if (b.type === 'string') {
    if (b.minLength !== undefined && b.minLength !== 0) out.minLength = b.minLength;
    if (b.maxLength !== undefined && b.maxLength !== UINT_MAX) out.maxLength = b.maxLength;
  } else if (b.type === 'uuid' && b.refTable !== undefined) {
    out.refTable = b.refTable;
    if (b.refType === 'weak') out.refType = 'weak';
  }
  return out;
}

/** OVS `ovsdb_type_to_json`. */
export function columnTypeJson(t: ColumnType): unknown {
  const scalar = t.value === undefined && t.min === 1 && t.max === 1;
  if (scalar && !hasConstraints(t.key)) return baseTypeJson(t.key);
  const out: Record<string, unknown> = { key: baseTypeJson(t.key) };
  if (t.value !== undefined) out.value = baseTypeJson(t.value);
  if (t.min !== 1) out.min = t.min;
  if (t.max === 'unlimited') out.max = 'unlimited';
  else if (t.max !== 1) out.max = t.max;
  return out;
}

/**
 * The rows of `list-columns` for `table` (or every table), from the schema and the key order of
 * its JSON text (`rawSchema` as the server sent it): the C tool fills one hash map per JSON object
 * while parsing, then copies the tables and columns into the schema's own hash maps, where each
 * table starts with `_uuid` and `_version`.
 */
export function listColumnsTable(
  schema: DatabaseSchema,
  rawSchema: unknown,
  table: string | undefined,
): OutputTable {
  const rawTables =
    (rawSchema as { tables?: Record<string, { columns?: Record<string, unknown> }> }).tables ?? {};
  if (table !== undefined && !schema.tables.has(table))
    throw new ToolUsageError(`no table ${JSON.stringify(table)} in database ${schema.name}`);
  const rows: OutputTable['rows'] = [];
  for (const name of shashOrder(shashOrder(Object.keys(rawTables)))) {
    if (table !== undefined && name !== table) continue;
    const ts = schema.tables.get(name)!;
    const parsed = shashOrder(Object.keys(rawTables[name]?.columns ?? {}));
    for (const col of shashOrder(['_uuid', '_version', ...parsed])) {
      const type = columnTypeJson(ts.columns.get(col)!.type);
      const cells: OutputTable['rows'][number] = [
        { text: col },
        { json: type, display: formatOvsJson(type) },
      ];
      rows.push(table === undefined ? [{ text: name }, ...cells] : cells);
    }
  }
  return { headings: table === undefined ? ['Table', 'Column', 'Type'] : ['Column', 'Type'], rows };
}
