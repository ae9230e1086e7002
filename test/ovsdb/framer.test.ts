import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OvsdbProtocolError } from '../../src/ovsdb/errors.js';
import { JsonFramer } from '../../src/ovsdb/wire/framer.js';
import { parseJson } from '../../src/ovsdb/wire/json.js';

const enc = new TextEncoder();

/** Splits `bytes` at the given (sorted, deduplicated) cut points. */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

function frameAll(chunks: Uint8Array[], framer = new JsonFramer()): unknown[] {
  const got: unknown[] = [];
  for (const c of chunks) framer.push(c, (text, long) => got.push(parseJson(text, long)));
  return got;
}

// strings full of what breaks naive framers: multibyte and astral characters, quotes, backslashes, brackets
const trickyString = fc.string({
  unit: fc.constantFrom(
    'a',
    'é',
    '€',
    '𝄞',
    '"',
    '\\',
    '{',
    '}',
    '[',
    ']',
    '\n',
    '\u0001',
    '0',
    '9',
    ' ',
    'ü',
  ),
  maxLength: 12,
});
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    // integral doubles beyond 2^53 would (rightly) come back as bigint; json.test.ts covers those
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d)),
    trickyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const topLevel = fc.oneof(
  fc.array(jsonValue, { maxLength: 5 }),
  fc.dictionary(trickyString, jsonValue, { maxKeys: 5 }),
);
const whitespace = fc.constantFrom('', ' ', '\n', '\r\n', '\t  ');

describe('JsonFramer', () => {
  it('yields exactly the values written back to back, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(topLevel, whitespace), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (values, points) => {
          const text = values.map(([v, ws]) => JSON.stringify(v) + ws).join('');
          const bytes = enc.encode(text);
          const got = frameAll(cut(bytes, points));
          // JSON.parse(JSON.stringify(v)) normalises -0 and the like exactly as the framer's output does
          expect(got).toEqual(values.map(([v]) => JSON.parse(JSON.stringify(v))));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('delivers a value split inside a multibyte character and inside an escape', () => {
    const bytes = enc.encode('{"a":"x€𝄞\\"\\\\y"}[1]');
    const euro = bytes.indexOf(0xe2);
    const clef = bytes.indexOf(0xf0);
    const esc = bytes.indexOf(0x5c);
    const got = frameAll(cut(bytes, [euro + 1, euro + 2, clef + 1, clef + 3, esc + 1]));
    expect(got).toEqual([{ a: 'x€𝄞"\\y' }, [1]]);
  });

  it('one byte at a time is still exact', () => {
    const v = { method: 'update2', params: ['m', { T: { u: { modify: { s: 'ä"}]' } } } }], id: null };
    const bytes = enc.encode(JSON.stringify(v) + JSON.stringify(v));
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(frameAll(chunks)).toEqual([v, v]);
  });

  it('waits for more input on a truncated value and finishes it later', () => {
    const framer = new JsonFramer();
    const bytes = enc.encode('{"a":[1,2,"}');
    expect(frameAll([bytes], framer)).toEqual([]);
    expect(framer.inValue).toBe(true);
    expect(framer.bufferedBytes).toBe(bytes.length);
    expect(frameAll([enc.encode('"]}')], framer)).toEqual([{ a: [1, 2, '}'] }]);
    expect(framer.inValue).toBe(false);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('flags long digit runs (possible 64-bit integers) but not digits inside strings', () => {
    const seen: boolean[] = [];
    const framer = new JsonFramer();
    framer.push(enc.encode('[9007199254740993]["12345678901234567890"][123]'), (_t, long) => seen.push(long));
    expect(seen).toEqual([true, false, false]);
  });

  it('rejects garbage between values with a clear error, and stays failed', () => {
    const framer = new JsonFramer();
    const got: string[] = [];
    expect(() => framer.push(enc.encode('{"a":1} x{"b":2}'), (t) => got.push(t))).toThrow(
      /expected '\{' or '\[' to start a JSON value, got 'x'/,
    );
    expect(got).toEqual(['{"a":1}']);
    expect(() => framer.push(enc.encode('{}'), () => undefined)).toThrow(OvsdbProtocolError);
  });

  it('rejects invalid UTF-8 inside a value', () => {
    const bytes = Uint8Array.from([...enc.encode('{"a":"'), 0xff, 0xfe, ...enc.encode('"}')]);
    expect(() => frameAll([bytes])).toThrow(/not valid UTF-8/);
  });

  it('rejects values beyond the size and depth limits', () => {
    expect(() =>
      frameAll([enc.encode('[' + '1,'.repeat(100))], new JsonFramer({ maxValueBytes: 64 })),
    ).toThrow(/larger than 64 bytes/);
    expect(() => frameAll([enc.encode('['.repeat(50))], new JsonFramer({ maxDepth: 10 }))).toThrow(
      /deeper than 10/,
    );
  });

  it('never crashes or hangs on arbitrary bytes: it yields values, waits, or throws OvsdbProtocolError', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            '{',
            '}',
            '[',
            ']',
            '"',
            '\\',
            ',',
            ':',
            '1',
            'a',
            ' ',
            'é',
            'null',
            '99999999999999999',
          ),
          {
            maxLength: 80,
          },
        )
        .map((parts) => enc.encode(parts.join(''))),
    );
    fc.assert(
      fc.property(noise, fc.array(fc.nat(), { maxLength: 10 }), (bytes, points) => {
        const framer = new JsonFramer({ maxDepth: 64 });
        try {
          for (const c of cut(bytes, points)) {
            framer.push(c, (text, long) => {
              // a framed value either parses or fails with our named error
              try {
                parseJson(text, long);
              } catch (err) {
                expect(err).toBeInstanceOf(OvsdbProtocolError);
              }
            });
          }
        } catch (err) {
          expect(err).toBeInstanceOf(OvsdbProtocolError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('truncating a valid stream anywhere only ever leaves a value pending, never an error', () => {
    fc.assert(
      fc.property(fc.array(topLevel, { minLength: 1, maxLength: 3 }), fc.nat(), (values, at) => {
        const bytes = enc.encode(values.map((v) => JSON.stringify(v)).join(''));
        const framer = new JsonFramer();
        const got = frameAll([bytes.subarray(0, at % (bytes.length + 1))], framer);
        expect(values.slice(0, got.length).map((v) => JSON.parse(JSON.stringify(v)))).toEqual(got);
        if (got.length < values.length) expect(framer.inValue || framer.bufferedBytes === 0).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('frames a large value arriving in many chunks without keeping per-chunk copies around', () => {
    const row = { name: 'port-ü-'.padEnd(40, 'x'), addresses: ['0a:58:0a:80:00:05 10.128.0.5'], n: 12345 };
    const rows: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) rows[`uuid-${i}`] = { initial: row };
    const bytes = enc.encode(JSON.stringify({ id: 1, error: null, result: { Logical_Switch_Port: rows } }));
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
    const got = frameAll(chunks) as { result: { Logical_Switch_Port: Record<string, unknown> } }[];
    expect(got).toHaveLength(1);
    expect(Object.keys(got[0]!.result.Logical_Switch_Port)).toHaveLength(20_000);
  });
});
