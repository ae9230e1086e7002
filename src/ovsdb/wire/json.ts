/**
 * JSON for OVSDB: 64-bit integers survive the round trip.
 *
 * Parsing: `parseJson(text, hasLongNumber)` uses the native JSON.parse unless the framer saw a
 * digit run long enough to exceed 2^53 - 1; only then the slower parser below runs, which turns
 * integer literals outside the safe range into `bigint` (everything else is exactly what
 * JSON.parse gives). Stringifying: `stringifyJson` writes bigint as a bare integer literal.
 */
import { OvsdbProtocolError } from '../errors.js';

export class JsonSyntaxError extends OvsdbProtocolError {}

/** Parses one JSON text; integer literals beyond ±(2^53 − 1) become bigint when `mayHaveLongNumber` is set. */
export function parseJson(text: string, mayHaveLongNumber = true): unknown {
  if (!mayHaveLongNumber) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new JsonSyntaxError(`invalid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  return new BigIntJsonParser(text).parseDocument();
}

const MAX_DEPTH = 1000;

/** A recursive-descent JSON parser that keeps big integers exact. */
class BigIntJsonParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  parseDocument(): unknown {
    this.skipWs();
    const v = this.value();
    this.skipWs();
    if (this.pos !== this.s.length) this.fail('unexpected data after the JSON value');
    return v;
  }

  private fail(what: string): never {
    const near = JSON.stringify(this.s.slice(this.pos, this.pos + 20));
    throw new JsonSyntaxError(`invalid JSON at offset ${this.pos}: ${what} (near ${near})`);
  }

  private skipWs(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private value(): unknown {
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.object();
      case 0x5b /* [ */:
        return this.array();
      case 0x22 /* " */:
        return this.string();
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      case 0x6e /* n */:
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
  }

  private object(): Record<string, unknown> {
    this.enter();
    this.pos++;
    const obj: Record<string, unknown> = {};
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      if (this.s.charCodeAt(this.pos) !== 0x22) this.fail('expected a string key');
      const key = this.string();
      this.skipWs();
      if (this.s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.skipWs();
      const v = this.value();
      // like JSON.parse: "__proto__" is an own data property, never the prototype
      if (key === '__proto__') {
        Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
      } else {
        obj[key] = v;
      }
      this.skipWs();
      const c = this.s.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x2c) {
        this.skipWs();
        continue;
      }
      if (c === 0x7d) break;
      this.pos--;
      this.fail("expected ',' or '}'");
    }
    this.depth--;
    return obj;
  }

  private array(): unknown[] {
    this.enter();
    this.pos++;
    const arr: unknown[] = [];
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return arr;
    }
    for (;;) {
      arr.push(this.value());
      this.skipWs();
      const c = this.s.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x2c) {
        this.skipWs();
        continue;
      }
      if (c === 0x5d) break;
      this.pos--;
      this.fail("expected ',' or ']'");
    }
    this.depth--;
    return arr;
  }

  private string(): string {
    const s = this.s;
    const begin = this.pos;
    let p = begin + 1;
    let simple = true;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x22) break;
      if (c === 0x5c) {
        simple = false;
        p += 2;
        continue;
      }
      if (Number.isNaN(c)) {
        this.pos = begin;
        this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      p++;
    }
    this.pos = p + 1;
    if (simple) return s.slice(begin + 1, p);
    // escapes are rare in OVSDB data; the native parser decodes (and validates) them
    try {
      return JSON.parse(s.slice(begin, p + 1)) as string;
    } catch {
      this.pos = begin;
      return this.fail('invalid escape in string');
    }
  }

  private number(): number | bigint {
    const s = this.s;
    const begin = this.pos;
    let p = begin;
    if (s.charCodeAt(p) === 0x2d) p++;
    const intStart = p;
    let c = s.charCodeAt(p);
    if (c === 0x30) {
      p++;
    } else if (c >= 0x31 && c <= 0x39) {
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39) p++;
    } else {
      this.pos = p;
      this.fail('expected a digit');
    }
    const intDigits = p - intStart;
    let integer = true;
    if (s.charCodeAt(p) === 0x2e) {
      integer = false;
      p++;
      const fracStart = p;
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39) p++;
      if (p === fracStart) {
        this.pos = p;
        this.fail('expected a digit after the decimal point');
      }
    }
    c = s.charCodeAt(p);
    if (c === 0x65 || c === 0x45) {
      integer = false;
      p++;
      c = s.charCodeAt(p);
      if (c === 0x2b || c === 0x2d) p++;
      const expStart = p;
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39) p++;
      if (p === expStart) {
        this.pos = p;
        this.fail('expected a digit in the exponent');
      }
    }
    this.pos = p;
    const lit = s.slice(begin, p);
    if (!integer || intDigits < 16) return Number(lit);
    const big = BigInt(lit);
    return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return v;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * JSON.stringify that writes bigint as a bare integer literal. The common case (no bigint in
 * the value) costs one native JSON.stringify; only a value that holds a bigint takes the slower walk.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return slowStringify(value, '') ?? 'null';
    throw err;
  }
}

/** Mirrors JSON.stringify's rules for plain data (toJSON, undefined/function members dropped). */
function slowStringify(value: unknown, key: string): string | undefined {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(k: string): unknown }).toJSON(key);
  }
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    const parts = v.map((item, i) => slowStringify(item, String(i)) ?? 'null');
    return `[${parts.join(',')}]`;
  }
  if (v instanceof Number || v instanceof String || v instanceof Boolean) {
    return slowStringify(v.valueOf(), key);
  }
  const parts: string[] = [];
  for (const k of Object.keys(v as object)) {
    const s = slowStringify((v as Record<string, unknown>)[k], k);
    if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${parts.join(',')}}`;
}
