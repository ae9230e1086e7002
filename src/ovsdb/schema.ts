/**
 * OVSDB schemas (RFC 7047 §3.2 plus the OVS extensions isRoot, indexes, ephemeral): parsing a
 * `.ovsschema` file or a `get_schema` reply into typed objects, with the validity rules that
 * ovsdb-server applies, so that a bad schema fails here with a clear message instead of
 * producing wrong data later.
 */
import type { Atom } from './value.js';
import { OvsdbSchemaError } from './data-errors.js';
import { decodeEnum, describeJson } from './datum.js';

export { OvsdbSchemaError };

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export const ATOMIC_TYPES: readonly AtomicType[] = ['integer', 'real', 'boolean', 'string', 'uuid'];

export interface BaseType {
  type: AtomicType;
  /** the allowed values, already decoded to native atoms */
  enum?: Atom[];
  /** integer bounds; bigint when beyond ±(2^53−1) */
  minInteger?: number | bigint;
  maxInteger?: number | bigint;
  minReal?: number;
  maxReal?: number;
  /** string length bounds in Unicode code points */
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  /** only set together with refTable; defaults to 'strong' */
  refType?: 'strong' | 'weak';
}

export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: 0 | 1;
  max: number | 'unlimited';
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  mutable: boolean;
  ephemeral: boolean;
}

export interface TableSchema {
  name: string;
  /** includes the implicit `_uuid` and `_version` columns */
  columns: Map<string, ColumnSchema>;
  isRoot: boolean;
  maxRows?: number;
  /** each index is a list of column names whose values together are unique */
  indexes: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Map<string, TableSchema>;
}

export type ColumnKind = 'scalar' | 'optional' | 'set' | 'map';

/** How a column's native value looks (see value.ts). */
export function columnKind(type: ColumnType): ColumnKind {
  if (type.value) return 'map';
  if (type.max === 1) return type.min === 1 ? 'scalar' : 'optional';
  return 'set';
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT_MAX = 4294967295;

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** Reads members of a JSON object and, at the end, rejects any member nobody asked for (as OVS does). */
class MemberReader {
  private readonly used = new Set<string>();
  constructor(
    private readonly obj: JsonObject,
    private readonly where: string,
  ) {}
  get(name: string): unknown {
    this.used.add(name);
    return Object.prototype.hasOwnProperty.call(this.obj, name) ? this.obj[name] : undefined;
  }
  finish(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.used.has(k))
        throw new OvsdbSchemaError(`${this.where}: member "${k}" is present but not allowed here`);
    }
  }
}

function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new OvsdbSchemaError(`${what} must be an integer`);
}

/** Normalises an int64 to the native form: number when safe, bigint beyond. */
function nativeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseLength(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT_MAX) {
    throw new OvsdbSchemaError(`${what} must be an integer between 0 and ${UINT_MAX}`);
  }
  return v;
}

function parseAtomicType(v: unknown, where: string): AtomicType {
  if (typeof v !== 'string' || !(ATOMIC_TYPES as readonly string[]).includes(v)) {
    throw new OvsdbSchemaError(`${where}: unknown atomic type ${describeJson(v)}`);
  }
  return v as AtomicType;
}

export function parseBaseType(json: unknown, where: string): BaseType {
  if (typeof json === 'string') return { type: parseAtomicType(json, where) };
  if (!isObject(json)) throw new OvsdbSchemaError(`${where}: base type must be a string or an object`);
  const r = new MemberReader(json, where);
  const base: BaseType = { type: parseAtomicType(r.get('type'), where) };
  const enumJson = r.get('enum');
  if (enumJson !== undefined) {
    const atoms = decodeEnum(enumJson, base.type, where);
    if (atoms.length === 0) throw new OvsdbSchemaError(`${where}: enum must have at least one value`);
    base.enum = atoms;
  } else if (base.type === 'integer') {
    const min = r.get('minInteger');
    const max = r.get('maxInteger');
    const lo = min === undefined ? undefined : toBigInt(min, `${where}: minInteger`);
    const hi = max === undefined ? undefined : toBigInt(max, `${where}: maxInteger`);
    for (const [n, val] of [
      ['minInteger', lo],
      ['maxInteger', hi],
    ] as const) {
      if (val !== undefined && (val < INT64_MIN || val > INT64_MAX)) {
        throw new OvsdbSchemaError(`${where}: ${n} is outside the 64-bit integer range`);
      }
    }
    if (lo !== undefined && hi !== undefined && lo > hi) {
      throw new OvsdbSchemaError(`${where}: minInteger exceeds maxInteger`);
    }
    if (lo !== undefined) base.minInteger = nativeInt(lo);
    if (hi !== undefined) base.maxInteger = nativeInt(hi);
  } else if (base.type === 'real') {
    const min = r.get('minReal');
    const max = r.get('maxReal');
    for (const [n, val] of [
      ['minReal', min],
      ['maxReal', max],
    ] as const) {
      if (val !== undefined && typeof val !== 'number' && typeof val !== 'bigint') {
        throw new OvsdbSchemaError(`${where}: ${n} must be a number`);
      }
    }
    if (min !== undefined) base.minReal = Number(min);
    if (max !== undefined) base.maxReal = Number(max);
    if (base.minReal !== undefined && base.maxReal !== undefined && base.minReal > base.maxReal) {
      throw new OvsdbSchemaError(`${where}: minReal exceeds maxReal`);
    }
  } else if (base.type === 'string') {
    const min = r.get('minLength');
    const max = r.get('maxLength');
    if (min !== undefined) base.minLength = parseLength(min, `${where}: minLength`);
    if (max !== undefined) base.maxLength = parseLength(max, `${where}: maxLength`);
    if (base.minLength !== undefined && base.maxLength !== undefined && base.minLength > base.maxLength) {
      throw new OvsdbSchemaError(`${where}: minLength exceeds maxLength`);
    }
  } else if (base.type === 'uuid') {
    const refTable = r.get('refTable');
    if (refTable !== undefined) {
      if (typeof refTable !== 'string' || !ID_RE.test(refTable)) {
        throw new OvsdbSchemaError(`${where}: refTable must be a table name`);
      }
      base.refTable = refTable;
      const refType = r.get('refType');
      if (refType === undefined || refType === 'strong') base.refType = 'strong';
      else if (refType === 'weak') base.refType = 'weak';
      else
        throw new OvsdbSchemaError(
          `${where}: refType must be "strong" or "weak" (not ${describeJson(refType)})`,
        );
    }
  }
  r.finish();
  return base;
}

export function parseColumnType(json: unknown, where: string): ColumnType {
  if (typeof json === 'string') return { key: parseBaseType(json, where), min: 1, max: 1 };
  if (!isObject(json)) throw new OvsdbSchemaError(`${where}: type must be a string or an object`);
  const r = new MemberReader(json, where);
  const key = parseBaseType(r.get('key'), `${where} key`);
  const valueJson = r.get('value');
  const value = valueJson === undefined ? undefined : parseBaseType(valueJson, `${where} value`);
  const minJson = r.get('min');
  const maxJson = r.get('max');
  r.finish();
  let min: number = 1;
  if (minJson !== undefined) {
    if (typeof minJson !== 'number' || !Number.isInteger(minJson) || minJson < 0) {
      throw new OvsdbSchemaError(`${where}: min must be a non-negative integer`);
    }
    min = minJson;
  }
  let max: number | 'unlimited' = 1;
  if (maxJson !== undefined) {
    if (maxJson === 'unlimited') max = 'unlimited';
    else if (
      typeof maxJson === 'number' &&
      Number.isInteger(maxJson) &&
      maxJson >= 0 &&
      maxJson <= UINT_MAX
    ) {
      max = maxJson;
    } else throw new OvsdbSchemaError(`${where}: max must be a positive integer or "unlimited"`);
  }
  if (max !== 'unlimited' && max < 1) throw new OvsdbSchemaError(`${where}: max must be at least 1`);
  if (max !== 'unlimited' && max < min) throw new OvsdbSchemaError(`${where}: max cannot be less than min`);
  if (min > 1) throw new OvsdbSchemaError(`${where}: min must be 0 or 1`);
  const type: ColumnType = { key, min: min as 0 | 1, max };
  if (value) type.value = value;
  return type;
}

function implicitColumn(name: string): ColumnSchema {
  return { name, type: { key: { type: 'uuid' }, min: 1, max: 1 }, mutable: false, ephemeral: false };
}

export function parseTableSchema(name: string, json: unknown): TableSchema & { isRootSet: boolean } {
  const where = `table ${name}`;
  if (!ID_RE.test(name)) throw new OvsdbSchemaError(`${where}: table name must be an identifier`);
  if (name.startsWith('_')) throw new OvsdbSchemaError(`${where}: names beginning with "_" are reserved`);
  if (!isObject(json)) throw new OvsdbSchemaError(`${where}: table schema must be an object`);
  const r = new MemberReader(json, where);
  const columnsJson = r.get('columns');
  const maxRowsJson = r.get('maxRows');
  const isRootJson = r.get('isRoot');
  const indexesJson = r.get('indexes');
  r.finish();
  if (!isObject(columnsJson)) throw new OvsdbSchemaError(`${where}: "columns" must be an object`);
  const columns = new Map<string, ColumnSchema>();
  columns.set('_uuid', implicitColumn('_uuid'));
  columns.set('_version', implicitColumn('_version'));
  const names = Object.keys(columnsJson);
  if (names.length === 0) throw new OvsdbSchemaError(`${where}: table must have at least one column`);
  for (const col of names) {
    const cw = `column ${name}.${col}`;
    if (!ID_RE.test(col)) throw new OvsdbSchemaError(`${cw}: column name must be an identifier`);
    if (col.startsWith('_')) throw new OvsdbSchemaError(`${cw}: names beginning with "_" are reserved`);
    const cj = columnsJson[col];
    if (!isObject(cj)) throw new OvsdbSchemaError(`${cw}: column schema must be an object`);
    const cr = new MemberReader(cj, cw);
    const typeJson = cr.get('type');
    const mutableJson = cr.get('mutable');
    const ephemeralJson = cr.get('ephemeral');
    cr.finish();
    if (typeJson === undefined) throw new OvsdbSchemaError(`${cw}: "type" is required`);
    if (mutableJson !== undefined && typeof mutableJson !== 'boolean') {
      throw new OvsdbSchemaError(`${cw}: "mutable" must be a boolean`);
    }
    if (ephemeralJson !== undefined && typeof ephemeralJson !== 'boolean') {
      throw new OvsdbSchemaError(`${cw}: "ephemeral" must be a boolean`);
    }
    const type = parseColumnType(typeJson, cw);
    // ovsdb-server treats weak-reference columns as always mutable (it must delete dangling
    // references from them), whatever the schema says
    const weak = type.key.refType === 'weak' || type.value?.refType === 'weak';
    columns.set(col, {
      name: col,
      type,
      mutable: weak || (mutableJson ?? true),
      ephemeral: ephemeralJson ?? false,
    });
  }
  let maxRows: number | undefined;
  if (maxRowsJson !== undefined) {
    if (typeof maxRowsJson !== 'number' || !Number.isInteger(maxRowsJson) || maxRowsJson < 1) {
      throw new OvsdbSchemaError(`${where}: maxRows must be at least 1`);
    }
    maxRows = maxRowsJson;
  }
  if (isRootJson !== undefined && typeof isRootJson !== 'boolean') {
    throw new OvsdbSchemaError(`${where}: isRoot must be a boolean`);
  }
  const indexes: string[][] = [];
  if (indexesJson !== undefined) {
    if (!Array.isArray(indexesJson)) throw new OvsdbSchemaError(`${where}: indexes must be an array`);
    for (const idx of indexesJson) {
      if (!Array.isArray(idx) || idx.length === 0) {
        throw new OvsdbSchemaError(`${where}: index must be a non-empty array of column names`);
      }
      for (const c of idx) {
        if (typeof c !== 'string' || !columns.has(c)) {
          throw new OvsdbSchemaError(`${where}: index refers to unknown column ${describeJson(c)}`);
        }
        if (columns.get(c)!.ephemeral) {
          throw new OvsdbSchemaError(`${where}: ephemeral columns (such as ${c}) may not be indexed`);
        }
      }
      indexes.push([...(idx as string[])]);
    }
  }
  const table: TableSchema & { isRootSet: boolean } = {
    name,
    columns,
    isRoot: isRootJson === true,
    indexes,
    isRootSet: isRootJson === true,
  };
  if (maxRows !== undefined) table.maxRows = maxRows;
  return table;
}

/**
 * Parses a whole database schema. `json` is the parsed JSON of a `.ovsschema` file or of a
 * `get_schema` reply (integers may be bigint).
 */
export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw new OvsdbSchemaError('database schema must be a JSON object');
  const r = new MemberReader(json, 'database schema');
  const name = r.get('name');
  const version = r.get('version');
  const cksum = r.get('cksum');
  const tablesJson = r.get('tables');
  r.finish();
  if (typeof name !== 'string' || !ID_RE.test(name)) {
    throw new OvsdbSchemaError('database schema: "name" must be an identifier');
  }
  if (version !== undefined && (typeof version !== 'string' || !VERSION_RE.test(version))) {
    throw new OvsdbSchemaError(`database schema: version must be x.y.z (not ${describeJson(version)})`);
  }
  if (cksum !== undefined && typeof cksum !== 'string') {
    throw new OvsdbSchemaError('database schema: cksum must be a string');
  }
  if (!isObject(tablesJson)) throw new OvsdbSchemaError('database schema: "tables" must be an object');
  const tables = new Map<string, TableSchema>();
  let anyRoot = false;
  for (const tname of Object.keys(tablesJson)) {
    const { isRootSet, ...table } = parseTableSchema(tname, tablesJson[tname]);
    anyRoot ||= isRootSet;
    tables.set(tname, table);
  }
  // "isRoot" came after the original schema format, which had no garbage collection: a schema
  // where no table is marked root is treated as all-root, as ovsdb-server does (e.g. _Server).
  if (!anyRoot) for (const t of tables.values()) t.isRoot = true;
  for (const t of tables.values()) {
    for (const c of t.columns.values()) {
      for (const base of [c.type.key, c.type.value]) {
        if (base?.refTable !== undefined && !tables.has(base.refTable)) {
          throw new OvsdbSchemaError(
            `column ${t.name}.${c.name}: refers to undefined table ${base.refTable}`,
          );
        }
      }
    }
  }
  const schema: DatabaseSchema = { name, version: version ?? '', tables };
  if (cksum !== undefined) schema.cksum = cksum;
  return schema;
}

/** Looks up a table or throws a clear error. */
export function tableSchema(schema: DatabaseSchema, table: string): TableSchema {
  const t = schema.tables.get(table);
  if (!t) throw new OvsdbSchemaError(`database ${schema.name} has no table ${table}`);
  return t;
}

/** Looks up a column (including `_uuid` and `_version`) or throws a clear error. */
export function columnSchema(table: TableSchema, column: string): ColumnSchema {
  const c = table.columns.get(column);
  if (!c) throw new OvsdbSchemaError(`table ${table.name} has no column ${column}`);
  return c;
}

/** True when the column holds references of the given strength (in key or value). */
export function refersWith(type: ColumnType, refType: 'strong' | 'weak'): boolean {
  return type.key.refType === refType || type.value?.refType === refType;
}
