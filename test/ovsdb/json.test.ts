import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OvsdbProtocolError } from '../../src/ovsdb/errors.js';
import { JsonSyntaxError, parseJson, stringifyJson } from '../../src/ovsdb/wire/json.js';

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

/** What a value looks like after a round trip: bigints in the safe range come back as numbers, -0 as 0. */
function normalize(v: unknown): unknown {
  if (Object.is(v, -0)) return 0; // JSON.stringify writes -0 as 0
  if (typeof v === 'bigint') return v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

const nearBoundaries = fc.oneof(
  fc.bigInt({ min: I64_MIN, max: I64_MAX }),
  fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }),
  fc.bigInt({ min: -(2n ** 53n) - 3n, max: -(2n ** 53n) + 3n }),
  fc.bigInt({ min: I64_MAX - 3n, max: I64_MAX }),
  fc.bigInt({ min: I64_MIN, max: I64_MIN + 3n }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    nearBoundaries,
    fc.integer(),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d)),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('parseJson / stringifyJson', () => {
  it('round-trips 64-bit integers exactly, around 2^53 and 2^63 - 1, negatives included', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(parseJson(stringifyJson(v), true)).toEqual(normalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps safe integers as numbers and the rest as bigint', () => {
    expect(parseJson('[9007199254740991,-9007199254740991]')).toEqual([9007199254740991, -9007199254740991]);
    expect(parseJson('[9007199254740992,-9007199254740992]')).toEqual([
      9007199254740992n,
      -9007199254740992n,
    ]);
    expect(parseJson('{"max":9223372036854775807,"min":-9223372036854775808}')).toEqual({
      max: I64_MAX,
      min: I64_MIN,
    });
    // reals and exponents stay numbers even when long
    expect(parseJson('[12345678901234567890.5,1e300,-0,0.1234567890123456789]')).toEqual([
      Number('12345678901234567890.5'),
      1e300,
      -0,
      Number('0.1234567890123456789'),
    ]);
    expect(Object.is((parseJson('[-0]') as number[])[0], -0)).toBe(true);
  });

  it('agrees with JSON.parse on every input JSON.parse accepts, and rejects what it rejects', () => {
    const tokens = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      '\\',
      '\\u00e9',
      '\\x',
      ',',
      ':',
      '1',
      '-',
      '0',
      '.',
      'e',
      '+',
      'true',
      'nul',
      'null',
      ' ',
      'a',
      'é',
      '\n',
      '\u0001',
      '12345678901234',
      '"k"',
    );
    fc.assert(
      fc.property(fc.array(tokens, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        let expected: unknown;
        let ok = true;
        try {
          expected = JSON.parse(text);
        } catch {
          ok = false;
        }
        if (ok) {
          const got = parseJson(text, true);
          // same value unless an integer literal was too long for a double
          if (!/[0-9]{16}/.test(text)) expect(got).toEqual(expected);
        } else {
          expect(() => parseJson(text, true)).toThrow(JsonSyntaxError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the fast path reports errors as the same named error', () => {
    expect(() => parseJson('{"a":', false)).toThrow(JsonSyntaxError);
    expect(() => parseJson('{"a":', true)).toThrow(/unexpected end of input/);
    expect(new JsonSyntaxError('x')).toBeInstanceOf(OvsdbProtocolError);
  });

  it('never turns "__proto__" into a prototype', () => {
    const v = parseJson('{"__proto__":{"polluted":1},"n":12345678901234567890}', true) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'n']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stringifies bigint as a bare integer and otherwise like JSON.stringify', () => {
    expect(stringifyJson({ a: [I64_MAX, I64_MIN, 1n, 'x', undefined, null], b: undefined, c: true })).toBe(
      '{"a":[9223372036854775807,-9223372036854775808,1,"x",null,null],"c":true}',
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(stringifyJson(v)).toBe(JSON.stringify(v));
      }),
      { numRuns: 200 },
    );
    expect(() => stringifyJson({ s: Symbol('x') as unknown, n: 2n })).not.toThrow();
  });

  it('rejects absurd nesting with an error instead of overflowing the stack', () => {
    expect(() => parseJson('['.repeat(5000) + '12345678901234567890' + ']'.repeat(5000), true)).toThrow(
      /nesting deeper than/,
    );
  });
});
