import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OvsdbSchemaError } from '../../src/ovsdb/data-errors.js';
import { columnKind, parseColumnType, parseSchema, type ColumnType } from '../../src/ovsdb/schema.js';
import { parseJson } from '../../src/ovsdb/wire/json.js';

const load = (f: string) => parseSchema(parseJson(readFileSync(`schemas/${f}`, 'utf8')));

function oneColumn(type: unknown, extra: Record<string, unknown> = {}): unknown {
  return { name: 'T', version: '1.0.0', tables: { A: { columns: { c: { type } }, ...extra } } };
}

describe('schema: the real schemas', () => {
  it('parses OVN_Northbound with roots, indexes, refs and implicit columns', () => {
    const nb = load('ovn-nb.ovsschema');
    expect(nb.name).toBe('OVN_Northbound');
    expect(nb.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(nb.cksum).toMatch(/^\d+ \d+$/);
    const ls = nb.tables.get('Logical_Switch')!;
    expect(ls.isRoot).toBe(true);
    expect(ls.columns.get('_uuid')!.mutable).toBe(false);
    expect(ls.columns.has('_version')).toBe(true);
    expect(ls.indexes).toEqual([]); // LS names are not unique
    const ports = ls.columns.get('ports')!.type;
    expect(ports.key).toEqual({ type: 'uuid', refTable: 'Logical_Switch_Port', refType: 'strong' });
    expect(columnKind(ports)).toBe('set');
    expect(nb.tables.get('Logical_Switch_Port')!.isRoot).toBe(false);
    expect(nb.tables.get('Logical_Switch_Port')!.indexes).toEqual([['name']]);
    expect(nb.tables.get('Connection')!.isRoot).toBe(false); // omits isRoot
    expect(nb.tables.get('Connection')!.indexes).toEqual([['target']]);
    expect(nb.tables.get('NB_Global')!.maxRows).toBe(1);
    expect(nb.tables.get('Port_Group')!.columns.get('ports')!.type.key.refType).toBe('weak');
    const acl = nb.tables.get('ACL')!.columns;
    expect(acl.get('action')!.type.key.enum).toContain('allow-related');
    expect(columnKind(acl.get('name')!.type)).toBe('optional');
    expect(acl.get('name')!.type.key.maxLength).toBe(63);
    expect(acl.get('priority')!.type.key).toMatchObject({ minInteger: 0, maxInteger: 32767 });
    expect(columnKind(acl.get('external_ids')!.type)).toBe('map');
  });

  it('parses Open_vSwitch (integer-keyed maps, ephemeral, immutable) and _Server (no isRoot: all root)', () => {
    const vs = load('vswitch.ovsschema');
    const queues = vs.tables.get('QoS')!.columns.get('queues')!.type;
    expect(queues.key.type).toBe('integer');
    expect(queues.value!.refTable).toBe('Queue');
    expect(vs.tables.get('Interface')!.columns.get('ofport')!.ephemeral).toBe(false);
    expect([...vs.tables.get('Bridge')!.columns.values()].some((c) => c.ephemeral)).toBe(true);
    const server = load('_server.ovsschema');
    expect(server.tables.get('Database')!.isRoot).toBe(true);
    expect(server.tables.get('Database')!.columns.get('model')!.type.key.enum).toEqual([
      'clustered',
      'relay',
      'standalone',
    ]);
  });
});

describe('schema: column types', () => {
  const cases: Array<[string, unknown, ColumnType, string]> = [
    ['atomic', 'integer', { key: { type: 'integer' }, min: 1, max: 1 }, 'scalar'],
    ['optional', { key: 'string', min: 0 }, { key: { type: 'string' }, min: 0, max: 1 }, 'optional'],
    [
      'set',
      { key: 'real', min: 0, max: 'unlimited' },
      { key: { type: 'real' }, min: 0, max: 'unlimited' },
      'set',
    ],
    ['bounded set', { key: 'boolean', min: 1, max: 3 }, { key: { type: 'boolean' }, min: 1, max: 3 }, 'set'],
    [
      'map',
      { key: 'integer', value: 'string', min: 0, max: 'unlimited' },
      { key: { type: 'integer' }, value: { type: 'string' }, min: 0, max: 'unlimited' },
      'map',
    ],
    [
      '64-bit bounds beyond 2^53',
      { key: { type: 'integer', minInteger: -(2n ** 63n), maxInteger: 2n ** 63n - 1n } },
      { key: { type: 'integer', minInteger: -(2n ** 63n), maxInteger: 2n ** 63n - 1n }, min: 1, max: 1 },
      'scalar',
    ],
    [
      'safe bounds stay numbers',
      { key: { type: 'integer', minInteger: 0, maxInteger: 4294967295 } },
      { key: { type: 'integer', minInteger: 0, maxInteger: 4294967295 }, min: 1, max: 1 },
      'scalar',
    ],
    [
      'real and length bounds',
      {
        key: { type: 'string', minLength: 1, maxLength: 5 },
        value: { type: 'real', minReal: -1.5, maxReal: 2 },
      },
      {
        key: { type: 'string', minLength: 1, maxLength: 5 },
        value: { type: 'real', minReal: -1.5, maxReal: 2 },
        min: 1,
        max: 1,
      },
      'map',
    ],
    [
      'enum as a bare atom',
      { key: { type: 'string', enum: 'only' } },
      { key: { type: 'string', enum: ['only'] }, min: 1, max: 1 },
      'scalar',
    ],
    [
      'uuid ref defaults to strong',
      { key: { type: 'uuid', refTable: 'A' } },
      { key: { type: 'uuid', refTable: 'A', refType: 'strong' }, min: 1, max: 1 },
      'scalar',
    ],
  ];
  for (const [name, json, expected, kind] of cases) {
    it(name, () => {
      const t = parseColumnType(json, 'c');
      expect(t).toEqual(expected);
      expect(columnKind(t)).toBe(kind);
      // and the same type is accepted inside a whole schema
      expect(parseSchema(oneColumn(json)).tables.get('A')!.columns.get('c')!.type).toEqual(expected);
    });
  }

  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown atomic type', 'set', /unknown atomic type "set"/],
    ['unknown type member', { key: 'integer', foo: 1 }, /"foo" is present but not allowed/],
    [
      'max below min',
      { key: 'integer', min: 1, max: 0 },
      /max must be at least 1|max cannot be less than min/,
    ],
    ['min above 1', { key: 'integer', min: 2, max: 3 }, /min must be 0 or 1/],
    ['max zero', { key: 'integer', min: 0, max: 0 }, /max must be at least 1/],
    ['max garbage', { key: 'integer', max: 'lots' }, /max must be/],
    [
      'minInteger > maxInteger',
      { key: { type: 'integer', minInteger: 5, maxInteger: 3 } },
      /minInteger exceeds maxInteger/,
    ],
    ['minInteger beyond int64', { key: { type: 'integer', minInteger: -(2n ** 64n) } }, /64-bit/],
    [
      'minLength > maxLength',
      { key: { type: 'string', minLength: 5, maxLength: 3 } },
      /minLength exceeds maxLength/,
    ],
    ['negative length', { key: { type: 'string', maxLength: -1 } }, /maxLength must be/],
    ['minReal > maxReal', { key: { type: 'real', minReal: 2, maxReal: 1 } }, /minReal exceeds maxReal/],
    [
      'minInteger on a string',
      { key: { type: 'string', minInteger: 1 } },
      /"minInteger" is present but not allowed/,
    ],
    [
      'enum plus range',
      { key: { type: 'integer', enum: ['set', [1]], minInteger: 0 } },
      /"minInteger" is present/,
    ],
    ['empty enum', { key: { type: 'integer', enum: ['set', []] } }, /at least one value/],
    ['enum of the wrong type', { key: { type: 'integer', enum: ['set', ['a']] } }, /invalid enum/],
    [
      'refType without refTable',
      { key: { type: 'uuid', refType: 'weak' } },
      /"refType" is present but not allowed/,
    ],
    [
      'bad refType',
      { key: { type: 'uuid', refTable: 'A', refType: 'soft' } },
      /refType must be "strong" or "weak"/,
    ],
  ];
  for (const [name, json, re] of bad) {
    it(`rejects: ${name}`, () => {
      expect(() => parseColumnType(json, 'c')).toThrow(OvsdbSchemaError);
      expect(() => parseColumnType(json, 'c')).toThrow(re);
    });
  }
});

describe('schema: tables and databases', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [], /must be a JSON object/],
    ['missing name', { tables: {} }, /"name" must be an identifier/],
    ['bad version', { name: 'T', version: '1.2', tables: {} }, /version must be x.y.z/],
    [
      'ref to unknown table',
      oneColumn({ key: { type: 'uuid', refTable: 'B' } }),
      /refers to undefined table B/,
    ],
    [
      'reserved table name',
      { name: 'T', tables: { _A: { columns: { c: { type: 'integer' } } } } },
      /reserved/,
    ],
    [
      'reserved column name',
      { name: 'T', tables: { A: { columns: { _c: { type: 'integer' } } } } },
      /reserved/,
    ],
    ['no columns', { name: 'T', tables: { A: { columns: {} } } }, /at least one column/],
    ['maxRows 0', oneColumn('integer', { maxRows: 0 }), /maxRows must be at least 1/],
    ['empty index', oneColumn('integer', { indexes: [[]] }), /non-empty/],
    ['index on unknown column', oneColumn('integer', { indexes: [['x']] }), /unknown column "x"/],
    [
      'index on an ephemeral column',
      {
        name: 'T',
        tables: { A: { columns: { c: { type: 'integer', ephemeral: true } }, indexes: [['c']] } },
      },
      /ephemeral columns \(such as c\) may not be indexed/,
    ],
    ['column without type', { name: 'T', tables: { A: { columns: { c: {} } } } }, /"type" is required/],
    [
      'unknown column member',
      { name: 'T', tables: { A: { columns: { c: { type: 'integer', x: 1 } } } } },
      /"x"/,
    ],
    ['unknown table member', oneColumn('integer', { rows: 3 }), /"rows" is present but not allowed/],
  ];
  for (const [name, json, re] of bad) {
    it(`rejects: ${name}`, () => {
      expect(() => parseSchema(json)).toThrow(OvsdbSchemaError);
      expect(() => parseSchema(json)).toThrow(re);
    });
  }

  it('keeps isRoot as given once any table is root; mutable and ephemeral flags; _uuid index allowed', () => {
    const s = parseSchema({
      name: 'T',
      version: '1.0.0',
      tables: {
        R: { columns: { c: { type: 'integer', mutable: false } }, isRoot: true, indexes: [['_uuid'], ['c']] },
        N: { columns: { e: { type: 'integer', ephemeral: true } } },
      },
    });
    expect(s.tables.get('R')!.isRoot).toBe(true);
    expect(s.tables.get('N')!.isRoot).toBe(false);
    expect(s.tables.get('R')!.columns.get('c')!.mutable).toBe(false);
    expect(s.tables.get('N')!.columns.get('e')!).toMatchObject({ mutable: true, ephemeral: true });
    expect(s.tables.get('R')!.indexes).toEqual([['_uuid'], ['c']]);
  });

  it('weak-reference columns are always mutable, as ovsdb-server treats them', () => {
    const s = parseSchema({
      name: 'W',
      tables: {
        A: {
          columns: {
            w: {
              type: { key: { type: 'uuid', refTable: 'A', refType: 'weak' }, min: 0, max: 'unlimited' },
              mutable: false,
            },
            s: { type: { key: { type: 'uuid', refTable: 'A' }, min: 0, max: 1 }, mutable: false },
          },
        },
      },
    });
    expect(s.tables.get('A')!.columns.get('w')!.mutable).toBe(true);
    expect(s.tables.get('A')!.columns.get('s')!.mutable).toBe(false);
    expect(s.version).toBe('');
  });
});

describe('schema: property', () => {
  it('random JSON is parsed or refused with OvsdbSchemaError, never anything else', () => {
    const atomic = fc.constantFrom<unknown>(
      'integer',
      'real',
      'boolean',
      'string',
      'uuid',
      'set',
      1,
      2n ** 70n,
      null,
    );
    const baseArb = fc.oneof(
      atomic,
      fc.record(
        {
          type: atomic,
          enum: fc.oneof(fc.constant(['set', [1, 'a']]), atomic),
          minInteger: fc.oneof(fc.integer(), fc.bigInt()),
          maxLength: fc.integer(),
          refTable: fc.constantFrom('A', 'B', 5),
          refType: fc.constantFrom('strong', 'weak', 'x'),
        },
        { requiredKeys: [] },
      ),
    );
    const typeArb = fc.oneof(
      baseArb,
      fc.record(
        {
          key: baseArb,
          value: baseArb,
          min: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant('x')),
          max: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant('unlimited')),
        },
        { requiredKeys: [] },
      ),
    );
    const schemaArb = fc.record({
      name: fc.constantFrom<unknown>('T', '1x', 5),
      tables: fc.dictionary(
        fc.constantFrom('A', 'B', '_C'),
        fc.record(
          {
            columns: fc.dictionary(
              fc.constantFrom('a', 'b', '_c'),
              fc.record({ type: typeArb }, { requiredKeys: [] }),
            ),
            isRoot: fc.oneof(fc.boolean(), fc.constant('yes')),
            indexes: fc.constantFrom<unknown>([['a']], [[]], [['zz']], 'x'),
            maxRows: fc.integer({ min: -1, max: 3 }),
          },
          { requiredKeys: [] },
        ),
      ),
    });
    fc.assert(
      fc.property(fc.oneof(schemaArb, fc.anything()), (json) => {
        try {
          const s = parseSchema(json);
          for (const t of s.tables.values()) for (const c of t.columns.values()) columnKind(c.type);
        } catch (err) {
          expect(err).toBeInstanceOf(OvsdbSchemaError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
