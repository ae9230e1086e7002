/**
 * Datums in wire notation (RFC 7047: an atom, ["uuid",u], ["set",[...]], ["map",[[k,v],...]])
 * as `ovsdb-client` shows them: the text form of `--data=string` (OVS ovsdb_datum_to_string)
 * and the order in which `dump` sorts rows (OVS ovsdb_datum_compare_3way).
 */
import type { ColumnType } from '../schema.js';
import { compareUtf8, formatNumber } from './ovs-json.js';

/** A wire atom: number, bigint, boolean, string, or ["uuid"|"named-uuid", string]. */
type WireAtom = unknown;

interface Elements {
  keys: WireAtom[];
  values: WireAtom[] | undefined;
}

function isTagged(json: unknown, tag: string): json is [string, unknown] {
  return Array.isArray(json) && json.length === 2 && json[0] === tag;
}

/** Splits a wire datum into its keys (and values for a map). */
function elements(json: unknown): Elements {
  if (isTagged(json, 'set')) return { keys: Array.isArray(json[1]) ? json[1] : [], values: undefined };
  if (isTagged(json, 'map')) {
    const pairs = Array.isArray(json[1]) ? (json[1] as unknown[]) : [];
    const keys: WireAtom[] = [];
    const values: WireAtom[] = [];
    for (const p of pairs) {
      if (Array.isArray(p) && p.length === 2) {
        keys.push(p[0]);
        values.push(p[1]);
      }
    }
    return { keys, values };
  }
  return { keys: [json], values: undefined };
}

const UUID_TEXT_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BARE_STRING_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** OVS prints a string bare only when it reads back as that string and nothing else. */
function stringNeedsQuotes(s: string): boolean {
  return !BARE_STRING_RE.test(s) || s === 'true' || s === 'false' || UUID_TEXT_RE.test(s);
}

/** One atom in OVS's string notation. */
export function atomToString(atom: WireAtom): string {
  if (Array.isArray(atom) && atom.length === 2 && typeof atom[1] === 'string') return atom[1];
  if (typeof atom === 'string') return stringNeedsQuotes(atom) ? JSON.stringify(atom) : atom;
  if (typeof atom === 'number') return formatNumber(atom);
  if (typeof atom === 'bigint') return atom.toString();
  if (typeof atom === 'boolean') return atom ? 'true' : 'false';
  return JSON.stringify(atom) ?? '';
}

/**
 * A datum in OVS's string notation: `[a, b]` for sets, `{k=v}` for maps, a bare atom for a
 * column that holds at most one value and has one.
 */
export function datumToString(json: unknown, type: ColumnType): string {
  const { keys, values } = elements(json);
  const isMap = type.value !== undefined;
  const brackets = type.max !== 1 || keys.length === 0;
  const parts = keys.map((k, i) =>
    isMap ? `${atomToString(k)}=${atomToString(values?.[i])}` : atomToString(k),
  );
  const body = parts.join(', ');
  if (!brackets) return body;
  return isMap ? `{${body}}` : `[${body}]`;
}

function compareAtoms(a: WireAtom, b: WireAtom): number {
  if (Array.isArray(a) && Array.isArray(b)) return compareUtf8(String(a[1]), String(b[1]));
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return 0;
}

function compareAtomArrays(a: WireAtom[], b: WireAtom[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareAtoms(a[i], b[i]);
    if (c) return c;
  }
  return 0;
}

/** OVS ovsdb_datum_compare_3way: fewer elements first, then keys, then values, element by element. */
export function compareDatums(a: unknown, b: unknown): number {
  const ea = elements(a);
  const eb = elements(b);
  if (ea.keys.length !== eb.keys.length) return ea.keys.length < eb.keys.length ? -1 : 1;
  const c = compareAtomArrays(ea.keys, eb.keys);
  if (c || !ea.values || !eb.values) return c;
  return compareAtomArrays(ea.values, eb.values);
}
