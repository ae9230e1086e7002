import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OvsdbConstraintError, OvsdbDataError, OvsdbDatumError } from '../../src/ovsdb/data-errors.js';
import {
  applyDiff,
  codePointLength,
  decodeDatum,
  defaultValue,
  encodeDatum,
  validateValue,
  valuesEqual,
} from '../../src/ovsdb/datum.js';
import { parseColumnType, type ColumnType } from '../../src/ovsdb/schema.js';
import type { Atom, Value } from '../../src/ovsdb/value.js';
import { parseJson, stringifyJson } from '../../src/ovsdb/wire/json.js';

const T = (json: unknown): ColumnType => parseColumnType(json, 'c');
const U1 = '550e8400-e29b-41d4-a716-446655440000';
const U2 = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('datum: decoding wire JSON', () => {
  const ok: Array<[string, unknown, unknown, Value]> = [
    ['integer', 'integer', 42, 42],
    ['negative integer', 'integer', -7, -7],
    ['bigint beyond 2^53 stays bigint', 'integer', 2n ** 62n, 2n ** 62n],
    ['int64 min', 'integer', -(2n ** 63n), -(2n ** 63n)],
    ['small bigint becomes number', 'integer', 5n, 5],
    ['real', 'real', 1.5, 1.5],
    ['integer literal for a real', 'real', 3, 3],
    ['boolean', 'boolean', true, true],
    ['string', 'string', 'héllo 😀', 'héllo 😀'],
    ['uuid', 'uuid', ['uuid', U1], U1],
    ['named-uuid', 'uuid', ['named-uuid', 'row_1'], 'row_1'],
    ['scalar as a one-element set', 'integer', ['set', [9]], 9],
    ['optional empty', { key: 'string', min: 0 }, ['set', []], null],
    ['optional bare atom', { key: 'string', min: 0 }, 'x', 'x'],
    ['optional one-element set', { key: 'string', min: 0 }, ['set', ['x']], 'x'],
    ['set bare atom is a one-element set', { key: 'integer', max: 'unlimited' }, 3, [3]],
    [
      'set of uuids',
      { key: 'uuid', min: 0, max: 'unlimited' },
      [
        'set',
        [
          ['uuid', U1],
          ['uuid', U2],
        ],
      ],
      [U1, U2],
    ],
    ['empty set', { key: 'uuid', min: 0, max: 'unlimited' }, ['set', []], []],
    [
      'string map to object',
      { key: 'string', value: 'string', min: 0, max: 'unlimited' },
      ['map', [['a', 'b']]],
      { a: 'b' },
    ],
    [
      'integer-keyed map to Map',
      { key: 'integer', value: 'uuid', min: 0, max: 'unlimited' },
      ['map', [[0, ['uuid', U1]]]],
      new Map([[0, U1]]),
    ],
    // a set diff may exceed max: decode does not check constraints
    ['set above its max decodes', { key: 'integer', min: 0, max: 2 }, ['set', [1, 2, 3]], [1, 2, 3]],
  ];
  for (const [name, type, json, expected] of ok) {
    it(name, () => {
      expect(decodeDatum(json, T(type))).toEqual(expected);
    });
  }

  it('keeps "__proto__" as an own key of a string map', () => {
    const v = decodeDatum(
      [
        'map',
        [
          ['__proto__', 'x'],
          ['k', 'v'],
        ],
      ],
      T({ key: 'string', value: 'string', min: 0, max: 'unlimited' }),
    ) as Record<string, string>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'k']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')!.value).toBe('x');
  });

  const bad: Array<[string, unknown, unknown, RegExp]> = [
    ['real for an integer', 'integer', 1.5, /expected integer/],
    ['integer beyond int64', 'integer', 2n ** 63n, /64-bit/],
    ['string for integer', 'integer', '1', /expected integer/],
    ['uuid as plain string', 'uuid', U1, /expected \["uuid"/],
    ['malformed uuid', 'uuid', ['uuid', 'not-a-uuid'], /not a valid UUID/],
    ['named-uuid must be <id>', 'uuid', ['named-uuid', '1abc'], /named-uuid must be <id>/],
    ['named-uuid with a hyphen', 'uuid', ['named-uuid', 'a-b'], /named-uuid must be <id>/],
    ['scalar from an empty set', 'integer', ['set', []], /exactly one/],
    ['optional with two values', { key: 'string', min: 0 }, ['set', ['a', 'b']], /at most one/],
    ['duplicate set member', { key: 'integer', max: 'unlimited' }, ['set', [1, 1]], /duplicate/],
    ['set without list', { key: 'integer', max: 'unlimited' }, ['set', 1], /needs an array/],
    [
      'map as bare pair',
      { key: 'string', value: 'string', max: 'unlimited' },
      [['a', 'b']],
      /expected \["map"/,
    ],
    [
      'duplicate map key',
      { key: 'string', value: 'string', max: 'unlimited' },
      [
        'map',
        [
          ['a', 'b'],
          ['a', 'c'],
        ],
      ],
      /duplicate key/,
    ],
    [
      'map entry of 3',
      { key: 'string', value: 'string', max: 'unlimited' },
      ['map', [['a', 'b', 'c']]],
      /\[key, value\]/,
    ],
    ['null for a boolean', 'boolean', null, /expected boolean/],
  ];
  for (const [name, type, json, re] of bad) {
    it(`rejects: ${name}`, () => {
      expect(() => decodeDatum(json, T(type))).toThrow(OvsdbDatumError);
      expect(() => decodeDatum(json, T(type))).toThrow(re);
    });
  }

  it('rejects named uuids where the caller does not allow them', () => {
    expect(() => decodeDatum(['named-uuid', 'x'], T('uuid'), { allowNamedUuid: false })).toThrow(
      /not allowed/,
    );
  });
});

describe('datum: encoding native values', () => {
  it('encodes each column kind', () => {
    expect(encodeDatum(5, T('integer'))).toBe(5);
    expect(encodeDatum(2n ** 60n, T('integer'))).toBe(2n ** 60n);
    expect(encodeDatum(7n, T('integer'))).toBe(7);
    expect(encodeDatum(null, T({ key: 'string', min: 0 }))).toEqual(['set', []]);
    expect(encodeDatum('a', T({ key: 'string', min: 0 }))).toBe('a');
    expect(encodeDatum([1, 2], T({ key: 'integer', max: 'unlimited' }))).toEqual(['set', [1, 2]]);
    expect(encodeDatum({ b: 'c' }, T({ key: 'string', value: 'string', max: 'unlimited' }))).toEqual([
      'map',
      [['b', 'c']],
    ]);
    expect(
      encodeDatum(new Map([[3, 'x']]), T({ key: 'integer', value: 'string', max: 'unlimited' })),
    ).toEqual(['map', [[3, 'x']]]);
  });

  it('gives ["uuid", …] for a uuid and ["named-uuid", …] for an identifier', () => {
    expect(encodeDatum(U1, T('uuid'))).toEqual(['uuid', U1]);
    expect(encodeDatum('new_port', T('uuid'))).toEqual(['named-uuid', 'new_port']);
    expect(() => encodeDatum('not a name', T('uuid'))).toThrow(OvsdbDatumError);
    expect(() => encodeDatum('9abc', T('uuid'))).toThrow(OvsdbDatumError);
  });

  it('rejects values of the wrong shape or type', () => {
    expect(() => encodeDatum(1.5, T('integer'))).toThrow(/expected integer/);
    expect(() => encodeDatum(2 ** 60, T('integer'))).toThrow(/bigint/);
    expect(() => encodeDatum(Number.NaN, T('real'))).toThrow(/finite/);
    expect(() => encodeDatum('x', T({ key: 'string', max: 'unlimited' }))).toThrow(/array/);
    expect(() => encodeDatum({ 1: 'x' }, T({ key: 'integer', value: 'string', max: 'unlimited' }))).toThrow(
      /Map/,
    );
  });
});

describe('datum: validation with OVS semantics', () => {
  const ok: Array<[string, unknown, unknown]> = [
    ['enum member', { key: { type: 'string', enum: ['set', ['a', 'b']] } }, 'b'],
    ['integer at the bounds', { key: { type: 'integer', minInteger: -5, maxInteger: 5 } }, 5],
    ['bigint within bigint bounds', { key: { type: 'integer', maxInteger: 2n ** 62n } }, 2n ** 62n],
    ['real at the bound', { key: { type: 'real', minReal: 0.5 } }, 0.5],
    // 😀 is one code point but two UTF-16 units
    ['astral chars count once', { key: { type: 'string', maxLength: 3 } }, '😀😀😀'],
    ['min length in code points', { key: { type: 'string', minLength: 2 } }, 'é😀'],
    ['set at max', { key: 'integer', min: 0, max: 2 }, [1, 2]],
    [
      'map values checked',
      { key: 'string', value: { type: 'integer', maxInteger: 3 }, max: 'unlimited' },
      { a: 3 },
    ],
    ['named uuid allowed in a transaction', 'uuid', 'row'],
    ['optional null', { key: { type: 'string', enum: ['set', ['x']] }, min: 0 }, null],
  ];
  for (const [name, type, v] of ok) {
    it(name, () => {
      expect(() => validateValue(v, T(type))).not.toThrow();
    });
  }
  const bad: Array<[string, unknown, unknown, RegExp]> = [
    [
      'not in enum',
      { key: { type: 'string', enum: ['set', ['a', 'b']] } },
      'c',
      /not one of the allowed values/,
    ],
    [
      'integer above max',
      { key: { type: 'integer', minInteger: -5, maxInteger: 5 } },
      6,
      /not in the valid range -5 to 5/,
    ],
    ['integer below min', { key: { type: 'integer', minInteger: -5 } }, -6, /valid range/],
    [
      'bigint above bigint max',
      { key: { type: 'integer', maxInteger: 2n ** 62n } },
      2n ** 62n + 1n,
      /4611686018427387904/,
    ],
    ['real below min', { key: { type: 'real', minReal: 0.5 } }, 0.25, /valid range/],
    ['astral string too long', { key: { type: 'string', maxLength: 3 } }, '😀😀😀😀', /length 4 is longer/],
    ['string too short', { key: { type: 'string', minLength: 2 } }, '😀', /length 1 is shorter/],
    ['set above max', { key: 'integer', min: 0, max: 2 }, [1, 2, 3], /at most 2/],
    ['set below min', { key: 'integer', min: 1, max: 'unlimited' }, [], /at least 1/],
    ['duplicate set member', { key: 'integer', max: 'unlimited' }, [1, 1], /duplicate/],
    [
      'map value out of range',
      { key: 'string', value: { type: 'integer', maxInteger: 3 }, max: 'unlimited' },
      { a: 4 },
      /valid range/,
    ],
    ['map above max', { key: 'string', value: 'string', min: 0, max: 1 }, { a: 'x', b: 'y' }, /at most 1/],
  ];
  for (const [name, type, v, re] of bad) {
    it(`rejects: ${name}`, () => {
      expect(() => validateValue(v, T(type))).toThrow(OvsdbConstraintError);
      expect(() => validateValue(v, T(type))).toThrow(re);
    });
  }
  it('rejects values of the wrong type, lone surrogates and named uuids where not allowed', () => {
    expect(() => validateValue('1', T('integer'))).toThrow(OvsdbDatumError);
    expect(() => validateValue(null, T('integer'))).toThrow(OvsdbDatumError);
    expect(() => validateValue('a\uD800b', T('string'))).toThrow(/UTF-8/);
    expect(() => validateValue('row', T('uuid'), { allowNamedUuid: false })).toThrow(/not a valid UUID/);
    expect(() => validateValue('a', T({ key: 'string', min: 0 }), { column: 'name' })).not.toThrow();
    expect(() =>
      validateValue(7, T({ key: { type: 'integer', maxInteger: 3 } }), { column: 'prio' }),
    ).toThrow(/^prio: /);
  });
  it('counts code points', () => {
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀')).toBe(1);
    expect('😀'.length).toBe(2);
    expect(codePointLength('a😀é𝄞')).toBe(4);
  });
});

describe('datum: defaults and equality', () => {
  it('has OVS defaults per kind', () => {
    expect(defaultValue(T('integer'))).toBe(0);
    expect(defaultValue(T('real'))).toBe(0);
    expect(defaultValue(T('boolean'))).toBe(false);
    expect(defaultValue(T('string'))).toBe('');
    expect(defaultValue(T('uuid'))).toBe('00000000-0000-0000-0000-000000000000');
    expect(defaultValue(T({ key: 'string', min: 0 }))).toBe(null);
    expect(defaultValue(T({ key: 'string', max: 'unlimited' }))).toEqual([]);
    expect(defaultValue(T({ key: 'string', value: 'string', max: 'unlimited' }))).toEqual({});
    expect(defaultValue(T({ key: 'integer', value: 'string', max: 'unlimited' }))).toEqual(new Map());
  });
  it('compares sets and maps without regard to order, integers across number/bigint', () => {
    const set = T({ key: 'integer', max: 'unlimited' });
    expect(valuesEqual([1, 2, 3], [3, 1, 2], set)).toBe(true);
    expect(valuesEqual([1, 2], [1, 3], set)).toBe(false);
    expect(valuesEqual([1, 2], [1, 2, 2], set)).toBe(false);
    const map = T({ key: 'string', value: 'string', max: 'unlimited' });
    expect(valuesEqual({ a: '1', b: '2' }, { b: '2', a: '1' }, map)).toBe(true);
    expect(valuesEqual({ a: '1' }, { a: '2' }, map)).toBe(false);
    expect(valuesEqual({ a: '1' }, { b: '1' }, map)).toBe(false);
    expect(
      valuesEqual(new Map([[1, 'x']]), new Map([[1, 'x']]), T({ key: 'integer', value: 'string', max: 2 })),
    ).toBe(true);
    expect(valuesEqual(5, 5n as unknown as Atom, T('integer'))).toBe(true);
    expect(valuesEqual(null, 'a', T({ key: 'string', min: 0 }))).toBe(false);
    expect(valuesEqual(null, null, T({ key: 'string', min: 0 }))).toBe(true);
    // without a type the shape decides
    expect(valuesEqual(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(valuesEqual({ a: 'b' }, { a: 'c' })).toBe(false);
  });
});

describe('datum: update2 diffs', () => {
  it('scalar: the diff is the new value', () => {
    expect(applyDiff(1, 2, T('integer'))).toBe(2);
  });
  it('optional: the diff is the new value, an empty set clears (ovsdb-server diffs only max > 1)', () => {
    const t = T({ key: 'string', min: 0 });
    expect(applyDiff(null, 'a', t)).toBe('a');
    expect(applyDiff('a', 'b', t)).toBe('b');
    expect(applyDiff('a', ['set', []], t)).toBe(null);
    expect(applyDiff('a', ['set', ['b']], t)).toBe('b');
  });
  it('set: symmetric difference, may exceed max and does not mutate the old value', () => {
    const t = T({ key: 'integer', min: 0, max: 2 });
    const old = Object.freeze([1, 2]) as unknown as Atom[];
    const next = applyDiff(old, ['set', [2, 3, 4]], t) as Atom[];
    expect([...next].sort()).toEqual([1, 3, 4]); // not validated: the server state is the judge
    expect(old).toEqual([1, 2]);
  });
  it('map: one-side keys added/removed, changed keys take the new value', () => {
    const t = T({ key: 'string', value: 'string', min: 0, max: 'unlimited' });
    const old = Object.freeze({ keep: '1', drop: '2', change: '3' });
    const diff = [
      'map',
      [
        ['drop', '2'],
        ['change', '9'],
        ['add', '4'],
        ['__proto__', 'p'],
      ],
    ];
    const next = applyDiff(old, diff, t) as Record<string, string>;
    expect(next).toEqual({ keep: '1', change: '9', add: '4', ['__proto__']: 'p' });
    expect(Object.hasOwn(next, '__proto__')).toBe(true);
    expect(old).toEqual({ keep: '1', drop: '2', change: '3' });
    const m = T({ key: 'integer', value: 'integer', min: 0, max: 'unlimited' });
    expect(
      applyDiff(
        new Map([
          [1, 1],
          [2, 2],
        ]),
        [
          'map',
          [
            [1, 1],
            [2, 5],
            [3, 3],
          ],
        ],
        m,
      ),
    ).toEqual(
      new Map([
        [2, 5],
        [3, 3],
      ]),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// property tests

const baseTypeArb = fc.constantFrom('integer', 'real', 'boolean', 'string', 'uuid');
const columnTypeArb: fc.Arbitrary<ColumnType> = fc
  .record({
    key: baseTypeArb,
    value: fc.option(baseTypeArb, { nil: undefined }),
    min: fc.constantFrom(0, 1),
    max: fc.constantFrom<number | 'unlimited'>(1, 2, 5, 'unlimited'),
  })
  .map(({ key, value, min, max }) => T(value ? { key, value, min, max } : { key, min, max }));

function atomArb(type: string): fc.Arbitrary<Atom> {
  switch (type) {
    case 'integer':
      return fc.oneof(
        fc.integer(),
        fc
          .bigInt(-(2n ** 63n), 2n ** 63n - 1n)
          .map((b) => (b >= -(2n ** 53n) + 1n && b <= 2n ** 53n - 1n ? Number(b) : b)),
      );
    case 'real':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      return fc.string({ unit: 'grapheme' });
    default:
      return fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/));
  }
}

function valueArb(type: ColumnType): fc.Arbitrary<Value> {
  const key = atomArb(type.key.type);
  const max = type.max === 'unlimited' ? 6 : type.max;
  if (type.value) {
    const val = atomArb(type.value.type);
    const pairs = fc.uniqueArray(fc.tuple(key, val), {
      minLength: type.min,
      maxLength: max,
      selector: ([k]) => String(k),
    });
    return pairs.map((ps) => {
      if (type.key.type === 'string') {
        const o: Record<string, Atom> = {};
        for (const [k, v] of ps)
          Object.defineProperty(o, k as string, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        return o;
      }
      return new Map(ps);
    });
  }
  if (type.max === 1) return type.min === 1 ? key : fc.option(key, { nil: null });
  return fc.uniqueArray(key, { minLength: type.min, maxLength: max, selector: (a) => String(a) });
}

describe('datum: properties', () => {
  it('encode → decode round-trips random values of random column types', () => {
    fc.assert(
      fc.property(
        columnTypeArb.chain((t) => fc.tuple(fc.constant(t), valueArb(t))),
        ([type, value]) => {
          validateValue(value, type);
          const wire = encodeDatum(value, type);
          const back = decodeDatum(parseJson(stringifyJson(wire)), type);
          expect(valuesEqual(back, value, type)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never crashes except with a named error on random and malformed JSON', () => {
    const jsonish = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom<unknown>(
          null,
          true,
          'set',
          'map',
          'uuid',
          'named-uuid',
          0,
          -1,
          1.5,
          2n ** 64n,
          2n ** 60n,
          U1,
        ),
        fc.string(),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.tuple(fc.constantFrom('set', 'map', 'uuid', 'named-uuid'), tie('node')),
        fc.dictionary(fc.string(), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(columnTypeArb, jsonish, (type, json) => {
        for (const fn of [() => decodeDatum(json, type), () => applyDiff(defaultValue(type), json, type)]) {
          try {
            fn();
          } catch (err) {
            expect(err).toBeInstanceOf(OvsdbDataError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
