/**
 * The datum codec: RFC 7047 §5.1 wire JSON ⇄ native values (value.ts), plus the operations
 * every layer needs on native values: defaults, constraint validation with OVS semantics,
 * equality, and applying update2 "modify" diffs.
 *
 * Decoding checks structure and atom types only; constraints (enum, ranges, lengths, sizes) are
 * checked by validateValue, because data from the server is already valid and update2 diffs may
 * legitimately exceed a column's limits (see applyDiff).
 */
import type { AtomicType, BaseType, ColumnType } from './schema.js';
import { type Atom, type OvsMapValue, type Value, NAMED_UUID_RE, UUID_RE } from './value.js';
import { OvsdbConstraintError, OvsdbDatumError, OvsdbSchemaError } from './data-errors.js';

export { OvsdbConstraintError, OvsdbDatumError };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

type Kind = 'scalar' | 'optional' | 'set' | 'map';
// Same rule as schema.ts columnKind; repeated here so datum.ts has no runtime import of schema.ts.
function kindOf(type: ColumnType): Kind {
  if (type.value) return 'map';
  if (type.max === 1) return type.min === 1 ? 'scalar' : 'optional';
  return 'set';
}

export interface DecodeOptions {
  /** accept ["named-uuid", id] for uuid atoms (transactions); default true */
  allowNamedUuid?: boolean;
}

/** A short, never-throwing rendering of any JSON-ish value for error messages (bigint-safe). */
export function describeJson(json: unknown): string {
  try {
    const s = JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (s === undefined) return String(json);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(json);
  }
}

/** Integers to their native form: number when safe, bigint beyond ±(2^53−1). */
export function normalizeInteger(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

// ---------------------------------------------------------------------------------------------
// decoding

function decodeInteger(json: unknown): number | bigint {
  if (typeof json === 'number') {
    if (Number.isSafeInteger(json)) return json;
    // A parser without bigint support already lost precision; keep what it gave, as bigint.
    if (Number.isInteger(json)) return normalizeInteger(checkInt64(BigInt(json)));
    throw new OvsdbDatumError(`expected integer, got ${describeJson(json)}`);
  }
  if (typeof json === 'bigint') return normalizeInteger(checkInt64(json));
  throw new OvsdbDatumError(`expected integer, got ${describeJson(json)}`);
}

function checkInt64(v: bigint): bigint {
  if (v < INT64_MIN || v > INT64_MAX) throw new OvsdbDatumError(`integer ${v} is outside the 64-bit range`);
  return v;
}

/** Decodes one atom of the given atomic type. */
export function decodeAtomOfType(json: unknown, type: AtomicType, opts?: DecodeOptions): Atom {
  switch (type) {
    case 'integer':
      return decodeInteger(json);
    case 'real':
      if (typeof json === 'number') return json;
      if (typeof json === 'bigint') return Number(json);
      throw new OvsdbDatumError(`expected real, got ${describeJson(json)}`);
    case 'boolean':
      if (typeof json === 'boolean') return json;
      throw new OvsdbDatumError(`expected boolean, got ${describeJson(json)}`);
    case 'string':
      if (typeof json === 'string') return json;
      throw new OvsdbDatumError(`expected string, got ${describeJson(json)}`);
    case 'uuid': {
      if (Array.isArray(json) && json.length === 2 && typeof json[1] === 'string') {
        if (json[0] === 'uuid') {
          if (UUID_RE.test(json[1])) return json[1];
          throw new OvsdbDatumError(`${describeJson(json[1])} is not a valid UUID`);
        }
        if (json[0] === 'named-uuid') {
          if (opts?.allowNamedUuid === false) throw new OvsdbDatumError('named-uuid is not allowed here');
          if (NAMED_UUID_RE.test(json[1])) return json[1];
          throw new OvsdbDatumError(`named-uuid must be <id> (not ${describeJson(json[1])})`);
        }
      }
      throw new OvsdbDatumError(`expected ["uuid", ...] or ["named-uuid", ...], got ${describeJson(json)}`);
    }
    default:
      throw new OvsdbDatumError(`unknown atomic type ${describeJson(type)}`);
  }
}

export function decodeAtom(json: unknown, base: BaseType, opts?: DecodeOptions): Atom {
  return decodeAtomOfType(json, base.type, opts);
}

function isTagged(json: unknown, tag: string): json is [string, unknown] {
  return Array.isArray(json) && json.length === 2 && json[0] === tag;
}

/** The elements of a set datum: `["set", [...]]` or a bare atom (a one-element set). */
function decodeSetAtoms(json: unknown, base: BaseType, opts?: DecodeOptions): Atom[] {
  if (isTagged(json, 'set')) {
    const list = json[1];
    if (!Array.isArray(list))
      throw new OvsdbDatumError(`["set", ...] needs an array, got ${describeJson(list)}`);
    const out: Atom[] = new Array<Atom>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = decodeAtom(list[i], base, opts);
    if (out.length > 1) rejectDuplicates(out, 'set contains duplicate value');
    return out;
  }
  return [decodeAtom(json, base, opts)];
}

function rejectDuplicates(atoms: Atom[], what: string): void {
  const seen = new Set<Atom>();
  for (const a of atoms) {
    if (seen.has(a)) throw new OvsdbDatumError(`${what} ${describeJson(a)}`);
    seen.add(a);
  }
}

/** The pairs of a map datum `["map", [[k, v], ...]]`. */
function decodeMapPairs(json: unknown, type: ColumnType, opts?: DecodeOptions): Array<[Atom, Atom]> {
  if (!isTagged(json, 'map') || !Array.isArray(json[1])) {
    throw new OvsdbDatumError(`expected ["map", [[key, value], ...]], got ${describeJson(json)}`);
  }
  const list = json[1] as unknown[];
  const pairs: Array<[Atom, Atom]> = new Array<[Atom, Atom]>(list.length);
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (!Array.isArray(p) || p.length !== 2)
      throw new OvsdbDatumError(`map entry must be [key, value], got ${describeJson(p)}`);
    pairs[i] = [decodeAtom(p[0], type.key, opts), decodeAtom(p[1], type.value!, opts)];
  }
  return pairs;
}

/** Sets an own property even for "__proto__", which a plain assignment would turn into a prototype change. */
export function setOwn(obj: Record<string, Atom>, key: string, value: Atom): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else obj[key] = value;
}

function buildMap(pairs: Array<[Atom, Atom]>, keyType: AtomicType): OvsMapValue {
  if (keyType === 'string') {
    const obj: Record<string, Atom> = {};
    for (const [k, v] of pairs) {
      if (Object.hasOwn(obj, k as string))
        throw new OvsdbDatumError(`map contains duplicate key ${describeJson(k)}`);
      setOwn(obj, k as string, v);
    }
    return obj;
  }
  const m = new Map<Atom, Atom>();
  for (const [k, v] of pairs) {
    if (m.has(k)) throw new OvsdbDatumError(`map contains duplicate key ${describeJson(k)}`);
    m.set(k, v);
  }
  return m;
}

/** Wire JSON → native value for a column of the given type (no constraint checks, see validateValue). */
export function decodeDatum(json: unknown, type: ColumnType, opts?: DecodeOptions): Value {
  switch (kindOf(type)) {
    case 'scalar': {
      const atoms = decodeSetAtoms(json, type.key, opts);
      if (atoms.length !== 1) throw new OvsdbDatumError(`expected exactly one value, got ${atoms.length}`);
      return atoms[0]!;
    }
    case 'optional': {
      const atoms = decodeSetAtoms(json, type.key, opts);
      if (atoms.length > 1) throw new OvsdbDatumError(`expected at most one value, got ${atoms.length}`);
      return atoms.length === 0 ? null : atoms[0]!;
    }
    case 'set':
      return decodeSetAtoms(json, type.key, opts);
    case 'map':
      return buildMap(decodeMapPairs(json, type, opts), type.key.type);
  }
}

/** Decodes a schema "enum" (a set datum of the base's atomic type); errors become schema errors. */
export function decodeEnum(json: unknown, type: AtomicType, where: string): Atom[] {
  try {
    return decodeSetAtoms(json, { type }, { allowNamedUuid: false });
  } catch (err) {
    throw new OvsdbSchemaError(`${where}: invalid enum: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// encoding

/** Native atom → wire JSON atom (type checked; named uuids become ["named-uuid", id]). */
export function encodeAtom(atom: unknown, base: BaseType): unknown {
  switch (base.type) {
    case 'integer':
      if (typeof atom === 'number') {
        if (Number.isSafeInteger(atom)) return atom;
        throw new OvsdbDatumError(`expected integer, got ${describeJson(atom)} (use bigint beyond 2^53)`);
      }
      if (typeof atom === 'bigint') return normalizeInteger(checkInt64(atom));
      throw new OvsdbDatumError(`expected integer, got ${describeJson(atom)}`);
    case 'real':
      if (typeof atom === 'number' && Number.isFinite(atom)) return atom;
      if (typeof atom === 'bigint') return Number(atom);
      throw new OvsdbDatumError(`expected finite real, got ${describeJson(atom)}`);
    case 'boolean':
      if (typeof atom === 'boolean') return atom;
      throw new OvsdbDatumError(`expected boolean, got ${describeJson(atom)}`);
    case 'string':
      if (typeof atom === 'string') return atom;
      throw new OvsdbDatumError(`expected string, got ${describeJson(atom)}`);
    case 'uuid':
      if (typeof atom === 'string') {
        if (UUID_RE.test(atom)) return ['uuid', atom];
        if (NAMED_UUID_RE.test(atom)) return ['named-uuid', atom];
      }
      throw new OvsdbDatumError(`expected a UUID or a named uuid, got ${describeJson(atom)}`);
    default:
      throw new OvsdbDatumError(`unknown atomic type ${describeJson(base.type)}`);
  }
}

function mapEntries(value: unknown, keyType: AtomicType): Array<[unknown, unknown]> {
  if (value instanceof Map) return [...value.entries()];
  if (keyType === 'string' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
  }
  throw new OvsdbDatumError(
    `expected a map (${keyType === 'string' ? 'plain object or Map' : 'Map'}), got ${describeJson(value)}`,
  );
}

/** Native value → wire JSON datum. Shape and atom types are checked; constraints are not (validateValue). */
export function encodeDatum(value: Value | undefined, type: ColumnType): unknown {
  switch (kindOf(type)) {
    case 'scalar':
      return encodeAtom(value, type.key);
    case 'optional':
      if (value === null || value === undefined) return ['set', []];
      if (Array.isArray(value)) {
        if (value.length > 1) throw new OvsdbDatumError(`expected at most one value, got ${value.length}`);
        return value.length === 0 ? ['set', []] : encodeAtom(value[0], type.key);
      }
      return encodeAtom(value, type.key);
    case 'set':
      if (Array.isArray(value)) return ['set', value.map((a) => encodeAtom(a, type.key))];
      throw new OvsdbDatumError(`expected an array for a set column, got ${describeJson(value)}`);
    case 'map':
      return [
        'map',
        mapEntries(value, type.key.type).map(([k, v]) => [
          encodeAtom(k, type.key),
          encodeAtom(v, type.value!),
        ]),
      ];
  }
}

// ---------------------------------------------------------------------------------------------
// defaults, validation, equality

/** The default atom of a base type, as ovsdb-server uses it (0, 0.0, false, "", all-zero uuid). */
export function defaultAtom(type: AtomicType): Atom {
  switch (type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
  }
}

/** The value a column has when nothing was written to it (also what update2 omits). */
export function defaultValue(type: ColumnType): Value {
  switch (kindOf(type)) {
    case 'scalar':
      return defaultAtom(type.key.type);
    case 'optional':
      return null;
    case 'set':
      return [];
    case 'map':
      return type.key.type === 'string' ? {} : new Map<Atom, Atom>();
  }
}

const SURROGATE_RE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String length as OVS counts it: Unicode code points (UTF-8 characters), not UTF-16 units. */
export function codePointLength(s: string): number {
  if (!SURROGATE_RE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function fmtInt(v: number | bigint): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}

function atomInEnum(atom: Atom, values: Atom[]): boolean {
  for (const e of values) if (atomsEqual(atom, e)) return true;
  return false;
}

export interface ValidateOptions {
  /** accept named uuids for uuid atoms (transactions); default true */
  allowNamedUuid?: boolean;
  /** column name for messages */
  column?: string;
}

/** Checks one atom's type and constraints; throws OvsdbDatumError / OvsdbConstraintError. */
export function validateAtom(atom: unknown, base: BaseType, opts?: ValidateOptions): void {
  const where = opts?.column ? `${opts.column}: ` : '';
  if (base.type === 'uuid' && typeof atom === 'string' && !UUID_RE.test(atom)) {
    if (opts?.allowNamedUuid === false || !NAMED_UUID_RE.test(atom)) {
      throw new OvsdbDatumError(`${where}${describeJson(atom)} is not a valid UUID`);
    }
  } else {
    try {
      encodeAtom(atom, base);
    } catch (err) {
      throw new OvsdbDatumError(`${where}${(err as Error).message}`);
    }
  }
  const a = atom as Atom;
  if (base.enum) {
    if (!atomInEnum(a, base.enum)) {
      throw new OvsdbConstraintError(
        `${where}${describeJson(a)} is not one of the allowed values (${base.enum.map((e) => describeJson(e)).join(', ')})`,
      );
    }
    return;
  }
  switch (base.type) {
    case 'integer': {
      const v = typeof a === 'bigint' ? a : BigInt(a as number);
      const lo = base.minInteger;
      const hi = base.maxInteger;
      if ((lo !== undefined && v < BigInt(lo)) || (hi !== undefined && v > BigInt(hi))) {
        throw new OvsdbConstraintError(
          `${where}${fmtInt(a as number | bigint)} is not in the valid range ${lo === undefined ? '-inf' : fmtInt(lo)} to ${hi === undefined ? 'inf' : fmtInt(hi)} (inclusive)`,
        );
      }
      return;
    }
    case 'real': {
      const v = Number(a);
      if (
        (base.minReal !== undefined && v < base.minReal) ||
        (base.maxReal !== undefined && v > base.maxReal)
      ) {
        throw new OvsdbConstraintError(
          `${where}${v} is not in the valid range ${base.minReal ?? '-inf'} to ${base.maxReal ?? 'inf'} (inclusive)`,
        );
      }
      return;
    }
    case 'string': {
      const s = a as string;
      if (LONE_SURROGATE_RE.test(s))
        throw new OvsdbDatumError(`${where}string is not valid UTF-8 (lone surrogate)`);
      if (base.minLength === undefined && base.maxLength === undefined) return;
      const n = codePointLength(s);
      if (base.minLength !== undefined && n < base.minLength) {
        throw new OvsdbConstraintError(
          `${where}${describeJson(s)} length ${n} is shorter than the minimum ${base.minLength}`,
        );
      }
      if (base.maxLength !== undefined && n > base.maxLength) {
        throw new OvsdbConstraintError(
          `${where}${describeJson(s)} length ${n} is longer than the maximum ${base.maxLength}`,
        );
      }
      return;
    }
    default:
      return;
  }
}

function checkSize(n: number, type: ColumnType, where: string): void {
  if (n < type.min)
    throw new OvsdbConstraintError(`${where}has ${n} value(s), at least ${type.min} required`);
  if (type.max !== 'unlimited' && n > type.max) {
    throw new OvsdbConstraintError(`${where}has ${n} value(s), at most ${type.max} allowed`);
  }
}

/** Validates a native value against a column type with OVS semantics; throws on the first problem. */
export function validateValue(value: unknown, type: ColumnType, opts?: ValidateOptions): void {
  const where = opts?.column ? `${opts.column}: ` : '';
  switch (kindOf(type)) {
    case 'scalar':
      if (value === null || value === undefined || Array.isArray(value)) {
        throw new OvsdbDatumError(`${where}expected a single ${type.key.type}, got ${describeJson(value)}`);
      }
      validateAtom(value, type.key, opts);
      return;
    case 'optional':
      if (value === null || value === undefined) return;
      if (Array.isArray(value))
        throw new OvsdbDatumError(`${where}expected ${type.key.type} or null, got an array`);
      validateAtom(value, type.key, opts);
      return;
    case 'set': {
      if (!Array.isArray(value))
        throw new OvsdbDatumError(`${where}expected an array, got ${describeJson(value)}`);
      for (const a of value) validateAtom(a, type.key, opts);
      checkSize(value.length, type, where);
      const seen = new Set<string>();
      for (const a of value as Atom[]) {
        const k = atomKey(a);
        if (seen.has(k))
          throw new OvsdbConstraintError(`${where}set contains duplicate value ${describeJson(a)}`);
        seen.add(k);
      }
      return;
    }
    case 'map': {
      let entries: Array<[unknown, unknown]>;
      try {
        entries = mapEntries(value, type.key.type);
      } catch (err) {
        throw new OvsdbDatumError(`${where}${(err as Error).message}`);
      }
      for (const [k, v] of entries) {
        validateAtom(k, type.key, opts);
        validateAtom(v, type.value!, opts);
      }
      checkSize(entries.length, type, where);
      if (value instanceof Map) {
        const seen = new Set<string>();
        for (const [k] of entries) {
          const key = atomKey(k as Atom);
          if (seen.has(key))
            throw new OvsdbConstraintError(`${where}map contains duplicate key ${describeJson(k)}`);
          seen.add(key);
        }
      }
      return;
    }
  }
}

/** Atom equality across the number/bigint representations of one integer. */
export function atomsEqual(a: Atom, b: Atom): boolean {
  if (a === b) return true;
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && a === BigInt(b);
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && BigInt(a) === b;
  return false;
}

/** A string identity for an atom (stable across number/bigint for the same integer). */
export function atomKey(a: Atom): string {
  switch (typeof a) {
    case 'bigint':
      return a.toString();
    case 'number':
      return Number.isSafeInteger(a) ? String(a) : `r${a}`;
    case 'boolean':
      return a ? 'true' : 'false';
    default:
      return `s${a}`;
  }
}

function toAtomList(v: Value | undefined): Atom[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v;
  return [v as Atom];
}

function toEntries(v: Value | undefined): Array<[Atom, Atom]> {
  if (v === null || v === undefined) return [];
  if (v instanceof Map) return [...v.entries()];
  if (typeof v === 'object' && !Array.isArray(v)) return Object.keys(v).map((k) => [k, v[k]!]);
  return [];
}

/** Without a column type, the kind follows the values' shapes (arrays are sets, objects and Maps are maps). */
function shapeKind(a: Value | undefined, b: Value | undefined): Kind {
  const probe = a === null || a === undefined ? b : a;
  if (Array.isArray(probe)) return 'set';
  if (probe instanceof Map || (typeof probe === 'object' && probe !== null)) return 'map';
  return 'optional';
}

/** Equality of two native values of one column (sets and maps compare order-insensitively). */
export function valuesEqual(a: Value | undefined, b: Value | undefined, type?: ColumnType): boolean {
  switch (type ? kindOf(type) : shapeKind(a, b)) {
    case 'scalar':
    case 'optional':
      if (a === null || a === undefined || b === null || b === undefined) {
        return (a ?? null) === (b ?? null);
      }
      return atomsEqual(a as Atom, b as Atom);
    case 'set': {
      const la = toAtomList(a);
      const lb = toAtomList(b);
      if (la.length !== lb.length) return false;
      if (la.length === 1) return atomsEqual(la[0]!, lb[0]!);
      const keys = new Set(la.map(atomKey));
      for (const x of lb) if (!keys.has(atomKey(x))) return false;
      return true;
    }
    case 'map': {
      const ea = toEntries(a);
      const eb = toEntries(b);
      if (ea.length !== eb.length) return false;
      const m = new Map<string, Atom>();
      for (const [k, v] of ea) m.set(atomKey(k), v);
      for (const [k, v] of eb) {
        const key = atomKey(k);
        if (!m.has(key) || !atomsEqual(m.get(key)!, v)) return false;
      }
      return true;
    }
  }
}

/**
 * Applies an update2 "modify" diff (ovsdb-server.7 §4.1.14) to a column's old value and returns
 * the new value (the old one is not changed):
 * - scalar: the diff is the new value;
 * - optional and set: the diff is the symmetric difference of old and new;
 * - map: keys present on one side only are added or removed, changed keys carry the new value.
 * Diffs are not validated against the column's constraints: a set diff may hold more elements
 * than the column's max (an OVS relay crashed on exactly that check).
 */
export function applyDiff(oldValue: Value | undefined, diffJson: unknown, type: ColumnType): Value {
  const kind = kindOf(type);
  // ovsdb-server diffs only "composite" columns (max > 1: sets and maps); for a column that
  // holds at most one value, scalar or optional, the modify carries the new value itself,
  // with ["set",[]] for an optional column that was cleared (ovsdb_datum_diff in OVS).
  if (type.max !== 'unlimited' && type.max <= 1) return decodeDatum(diffJson, type);
  if (kind === 'map') {
    const pairs = decodeMapPairs(diffJson, type);
    if (type.key.type === 'string') {
      const out: Record<string, Atom> = {};
      for (const [k, v] of toEntries(oldValue)) setOwn(out, k as string, v);
      for (const [k, v] of pairs) {
        const key = k as string;
        if (Object.hasOwn(out, key) && atomsEqual(out[key]!, v)) delete out[key];
        else setOwn(out, key, v);
      }
      return out;
    }
    const out = new Map<Atom, Atom>(toEntries(oldValue));
    for (const [k, v] of pairs) {
      if (out.has(k) && atomsEqual(out.get(k)!, v)) out.delete(k);
      else out.set(k, v);
    }
    return out;
  }
  // One walk over the old set with a lookup in the (usually tiny) diff: a set of thousands of
  // members (a load-balancer group) changes by a few per transaction. Old members keep their
  // order, added ones come last. Strings (uuids included) are their own keys.
  const diff = decodeSetAtoms(diffJson, type.key);
  const keyOf = type.key.type === 'string' || type.key.type === 'uuid' ? undefined : atomKey;
  const pending = new Map<Atom, Atom>();
  for (const a of diff) {
    const key = keyOf ? keyOf(a) : a;
    // a diff names each atom once; twice would cancel out
    if (pending.has(key)) pending.delete(key);
    else pending.set(key, a);
  }
  const out: Atom[] = [];
  for (const a of toAtomList(oldValue)) {
    const key = keyOf ? keyOf(a) : a;
    if (pending.has(key))
      pending.delete(key); // in both: removed
    else out.push(a);
  }
  for (const a of pending.values()) out.push(a);
  return out;
}
