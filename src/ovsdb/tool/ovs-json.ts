/**
 * JSON text exactly as OVS's C library writes it with JSSF_SORT (and optionally JSSF_PRETTY),
 * which is what `ovsdb-client` prints: object members sorted by name (byte order), reals in
 * `%.15g`, strings escaped like JSON.stringify, and OVS's own pretty layout (a closing bracket
 * follows the last element on the same line).
 */

export interface OvsJsonOptions {
  /** OVS `--pretty`: newline and two spaces per depth before every element */
  pretty?: boolean;
}

/** Serialises a JSON value (bigint allowed) the way OVS's `json_to_string(json, JSSF_SORT)` does. */
export function formatOvsJson(value: unknown, opts: OvsJsonOptions = {}): string {
  const out: string[] = [];
  write(value, 0, opts.pretty === true, out);
  return out.join('');
}

/** Byte-order (UTF-8) comparison, which is what C's strcmp gives; equals code point order. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

function write(v: unknown, depth: number, pretty: boolean, out: string[]): void {
  if (v === null || v === undefined) {
    out.push('null');
  } else if (typeof v === 'string') {
    out.push(JSON.stringify(v));
  } else if (typeof v === 'number') {
    out.push(formatNumber(v));
  } else if (typeof v === 'bigint') {
    out.push(formatBigint(v));
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (Array.isArray(v)) {
    out.push('[');
    if (v.length > 0) {
      indent(depth + 1, pretty, out);
      for (let i = 0; i < v.length; i++) {
        if (i) {
          out.push(',');
          indent(depth + 1, pretty, out);
        }
        write(v[i], depth + 1, pretty, out);
      }
    }
    out.push(']');
  } else if (typeof v === 'object') {
    // OVS indents even an empty object ("{\n  }"), unlike an empty array
    const obj = v as Record<string, unknown>;
    out.push('{');
    indent(depth + 1, pretty, out);
    const keys = Object.keys(obj).sort(compareUtf8);
    for (let i = 0; i < keys.length; i++) {
      if (i) {
        out.push(',');
        indent(depth + 1, pretty, out);
      }
      out.push(JSON.stringify(keys[i]), pretty ? ': ' : ':');
      write(obj[keys[i]!], depth + 1, pretty, out);
    }
    out.push('}');
  } else {
    out.push('null');
  }
}

function indent(depth: number, pretty: boolean, out: string[]): void {
  if (pretty) out.push('\n', ' '.repeat(2 * depth));
}

const INT64_LIMIT = 2 ** 63;

/**
 * An integral value within int64 is an OVS integer (printed exactly); anything else is an OVS
 * real, printed with `%.15g` (so 1e20 is `1e+20` and 0.30000000000000004 is `0.3`).
 */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < INT64_LIMIT) return BigInt(n).toString();
  return formatG15(n);
}

function formatBigint(n: bigint): string {
  const limit = 2n ** 63n;
  if (n >= -limit && n < limit) return n.toString();
  return formatG15(Number(n));
}

/** C's `printf("%.15g", x)`. */
export function formatG15(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const P = 15;
  const expText = x.toExponential(P - 1); // rounding to P significant digits decides the exponent
  const ePos = expText.indexOf('e');
  const exp = Number(expText.slice(ePos + 1));
  if (exp < -4 || exp >= P) {
    const mantissa = stripZeros(expText.slice(0, ePos));
    const sign = exp < 0 ? '-' : '+';
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return stripZeros(x.toFixed(P - 1 - exp));
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}
