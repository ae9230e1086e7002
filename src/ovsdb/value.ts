/**
 * How OVSDB data looks on the JavaScript side ("native" values). Every layer above the wire
 * (datum codec, cache, transactions, generated models, reconcilers) uses exactly this shape;
 * the JSON wire notation of RFC 7047 (["set",…], ["map",…], ["uuid",…]) exists only inside
 * the datum codec and the raw protocol methods.
 *
 * Atoms
 * - integer: `number` when it is a safe integer, `bigint` beyond ±(2^53−1) (64-bit values never lose precision)
 * - real:    `number`
 * - boolean: `boolean`
 * - string:  `string`
 * - uuid:    `string` in canonical 8-4-4-4-12 form. In a transaction a uuid-typed value may
 *            instead be a named uuid: a string matching /^[A-Za-z_][A-Za-z0-9_]*$/ (it can never
 *            look like a real uuid, which always has hyphens), encoded as ["named-uuid", …].
 *
 * Columns, decided by the column's type in the schema
 * - min 1, max 1 (scalar):        the atom
 * - min 0, max 1, no value type:  the atom or `null` (optional)
 * - max > 1 or "unlimited" (set): `Atom[]` (order not significant)
 * - maps with string keys:        `Record<string, V>` (plain object)
 * - maps with other key types:    `Map<K, V>`
 */
export type Atom = number | bigint | boolean | string;
export type OvsMapValue = Record<string, Atom> | Map<Atom, Atom>;
export type Value = Atom | null | Atom[] | OvsMapValue;

/** A row as the cache and the models hold it: column name → native value; `_uuid` always present. */
export interface Row {
  _uuid: string;
  [column: string]: Value | undefined;
}

export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const NAMED_UUID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const isUuid = (s: string): boolean => UUID_RE.test(s);
export const isNamedUuid = (s: string): boolean => NAMED_UUID_RE.test(s);
