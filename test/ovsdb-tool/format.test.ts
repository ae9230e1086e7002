import { describe, expect, it } from 'vitest';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { takeDatabase, takeServer, DEFAULT_SERVER } from '../../src/ovsdb/tool/args.js';
import { dumpColumns, dumpTable } from '../../src/ovsdb/tool/dump.js';
import { ToolUsageError } from '../../src/ovsdb/tool/errors.js';
import { monitorRequest, monitorUpdateTable, monitoredTable } from '../../src/ovsdb/tool/monitor.js';
import { ovsHashString, shashOrder } from '../../src/ovsdb/tool/ovs-hash.js';
import { formatG15, formatOvsJson } from '../../src/ovsdb/tool/ovs-json.js';
import { renderTextTable } from '../../src/ovsdb/tool/table.js';
import { compareDatums, datumToString } from '../../src/ovsdb/tool/wire-datum.js';

const SCHEMA = parseSchema({
  name: 'T',
  version: '1.0.0',
  tables: {
    Sw: {
      columns: {
        name: { type: 'string' },
        ports: { type: { key: { type: 'uuid' }, min: 0, max: 'unlimited' } },
        ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        tag: { type: { key: 'integer', min: 0, max: 1 } },
      },
      isRoot: true,
    },
  },
});
const SW = SCHEMA.tables.get('Sw')!;

describe('formatOvsJson (OVS json_to_string with JSSF_SORT)', () => {
  it('sorts object members by byte order at every depth and writes compact JSON', () => {
    expect(formatOvsJson({ b: 1, a: { z: true, _u: null, Z: 'x' }, A: [] })).toBe(
      '{"A":[],"a":{"Z":"x","_u":null,"z":true},"b":1}',
    );
  });

  it('prints reals like printf %.15g, as the C tool printed them on this machine', () => {
    // the C tool's own output for [0.1,1e20,1.5e-7,123456789012345678,3.0,1e300,0.30000000000000004,12345678901234567890123]
    const input = [
      0.1,
      1e20,
      1.5e-7,
      123456789012345678n,
      3.0,
      1e300,
      0.30000000000000004,
      1.2345678901234568e22,
    ];
    expect(formatOvsJson(input)).toBe(
      '[0.1,1e+20,1.5e-07,123456789012345678,3,1e+300,0.3,1.23456789012346e+22]',
    );
  });

  it('keeps 64-bit integers exact and formats %.15g edge cases', () => {
    expect(formatOvsJson([9007199254740993n, -42, 2 ** 53])).toBe('[9007199254740993,-42,9007199254740992]');
    expect(formatG15(123456.789)).toBe('123456.789');
    expect(formatG15(0.0001)).toBe('0.0001');
    expect(formatG15(0.00001)).toBe('1e-05');
    expect(formatG15(999999999999999.9)).toBe('1e+15');
    expect(formatG15(-2.5)).toBe('-2.5');
  });

  it('escapes strings like OVS (control characters as \\u00XX, UTF-8 kept as is)', () => {
    expect(formatOvsJson('é\u0001\n\t/"\\\u007f')).toBe('"é\\u0001\\n\\t/\\"\\\\\u007f"');
  });

  it('pretty-prints in OVS layout: closing brackets on the last line, empty objects indented', () => {
    expect(formatOvsJson([{}, { rows: [{ name: 'a' }] }, []], { pretty: true })).toBe(
      '[\n  {\n    },\n  {\n    "rows": [\n      {\n        "name": "a"}]},\n  []]',
    );
  });
});

describe('shashOrder (OVS hash-map iteration order)', () => {
  it('hashes like OVS hash_string', () => {
    // distinct, stable, 32-bit
    const h = ovsHashString('Logical_Switch');
    expect(h).toBe(ovsHashString('Logical_Switch'));
    expect(h).toBeGreaterThanOrEqual(0);
    expect(h).toBeLessThan(2 ** 32);
    expect(ovsHashString('a')).not.toBe(ovsHashString('b'));
  });

  it('keeps every key exactly once and depends only on the keys and their insertion order', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    const order = shashOrder(keys);
    expect([...order].sort()).toEqual([...keys].sort());
    expect(shashOrder(keys)).toEqual(order);
    expect(order).not.toEqual(keys);
  });

  it('groups keys by hash bucket: with 4 buckets, keys come in bucket order', () => {
    // two inserts grow the map to 4 buckets (OVS calc_mask(2) = 3)
    const keys = ['x', 'y'];
    const byBucket = [...keys].sort((a, b) => (ovsHashString(a) & 3) - (ovsHashString(b) & 3));
    if ((ovsHashString('x') & 3) !== (ovsHashString('y') & 3)) expect(shashOrder(keys)).toEqual(byBucket);
    expect(shashOrder(['x'])).toEqual(['x']);
  });
});

describe('datum text and ordering (ovsdb-client --data=string, dump sort)', () => {
  const col = (n: string) => SW.columns.get(n)!.type;

  it('writes sets in brackets, maps in braces, optional scalars bare, and quotes what needs it', () => {
    expect(datumToString(['set', []], col('ports'))).toBe('[]');
    expect(datumToString(['uuid', '04181a7d-59c5-4cbd-92b3-140eaee2606c'], col('ports'))).toBe(
      '[04181a7d-59c5-4cbd-92b3-140eaee2606c]',
    );
    expect(
      datumToString(
        [
          'map',
          [
            ['a', '2'],
            ['z', 'b c'],
          ],
        ],
        col('ids'),
      ),
    ).toBe('{a="2", z="b c"}');
    expect(datumToString(['map', []], col('ids'))).toBe('{}');
    expect(datumToString('ls0', col('name'))).toBe('ls0');
    expect(datumToString('', col('name'))).toBe('""');
    expect(datumToString('true', col('name'))).toBe('"true"');
    expect(datumToString('a.b-c_d9', col('name'))).toBe('a.b-c_d9');
    expect(datumToString('9a', col('name'))).toBe('"9a"');
    expect(datumToString(5, col('tag'))).toBe('5');
    expect(datumToString(['set', []], col('tag'))).toBe('[]');
  });

  it('orders datums by element count, then by atoms', () => {
    expect(compareDatums(['set', []], 'a')).toBeLessThan(0);
    expect(compareDatums('a', 'b')).toBeLessThan(0);
    expect(compareDatums(['map', [['a', 'x']]], ['map', [['a', 'w']]])).toBeGreaterThan(0);
    expect(compareDatums(2, 10)).toBeLessThan(0);
  });

  it('dump sorts rows by the non-uuid columns first and uses uuids only to break ties', () => {
    const rows = [
      { _uuid: ['uuid', '00000000-0000-0000-0000-000000000001'], name: 'b', ports: ['set', []] },
      { _uuid: ['uuid', '00000000-0000-0000-0000-000000000003'], name: 'a', ports: ['set', []] },
      { _uuid: ['uuid', '00000000-0000-0000-0000-000000000002'], name: 'a', ports: ['set', []] },
    ];
    const t = dumpTable(SW, dumpColumns(SW, ['ports', 'name', '_uuid']), rows);
    expect(t.headings).toEqual(['_uuid', 'name', 'ports']);
    expect(t.rows.map((r) => r[0] && 'json' in r[0] && (r[0].json as string[])[1])).toEqual([
      '00000000-0000-0000-0000-000000000002',
      '00000000-0000-0000-0000-000000000003',
      '00000000-0000-0000-0000-000000000001',
    ]);
    expect(() => dumpColumns(SW, ['nope'])).toThrow(ToolUsageError);
  });
});

describe('monitor tables', () => {
  it('defaults to all columns sorted with _version last, and honours !initial etc.', () => {
    const all = monitoredTable(SW, 'T', []);
    expect(all.columns).toEqual(['ids', 'name', 'ports', 'tag', '_version']);
    expect(monitorRequest(all)).toEqual({
      columns: all.columns,
      select: { initial: true, insert: true, delete: true, modify: true },
    });
    // each COLUMN argument is a request of its own, with its own select
    const some = monitoredTable(SW, 'T', ['name,!initial', 'tag']);
    expect(some.columns).toEqual(['name', 'tag']);
    expect(monitorRequest(some)).toEqual([
      { columns: ['name'], select: { initial: false, insert: true, delete: true, modify: true } },
      { columns: ['tag'], select: { initial: true, insert: true, delete: true, modify: true } },
    ]);
    expect(() => monitoredTable(SW, 'T', ['nope'])).toThrow(/does not have a column named "nope"/);
    // an argument with no column means all columns, which repeats "name"
    expect(() => monitoredTable(SW, 'T', ['name', '!delete'])).toThrow(
      /column "name" mentioned multiple times/,
    );
  });

  it('prints old/new pairs with the uuid on the old row and null for unchanged columns', () => {
    const mt = monitoredTable(SW, 'T', ['name,tag']);
    const t = monitorUpdateTable(mt, { u1: { old: { tag: 1 }, new: { name: 'x', tag: 2 } } }, false)!;
    expect(t.rows).toEqual([
      [{ text: 'u1' }, { text: 'old' }, null, { json: 1, display: '1' }],
      [{ text: '' }, { text: 'new' }, { json: 'x', display: 'x' }, { json: 2, display: '2' }],
    ]);
    expect(monitorUpdateTable(mt, {}, true)).toBeUndefined();
  });
});

describe('text tables', () => {
  it('pads columns to the widest cell, trims trailing blanks, and prints the caption first', () => {
    const text = renderTextTable({
      caption: 'X table',
      headings: ['a', 'long'],
      rows: [[{ text: 'wide cell' }, null]],
    });
    expect(text).toBe('X table\na         long\n--------- ----\nwide cell\n');
  });
});

describe('argument resolution like ovsdb-client', () => {
  it('takes SERVER only when it looks like a remote', () => {
    expect(takeServer(['unix:/x', 'DB'])).toEqual({ server: 'unix:/x', rest: ['DB'] });
    expect(takeServer(['DB'])).toEqual({ server: DEFAULT_SERVER, rest: ['DB'] });
  });

  it('takes DATABASE only when the server has it and enough arguments remain', () => {
    const dbs = ['OVN_Northbound', '_Server'];
    expect(takeDatabase(['OVN_Northbound', 'T'], dbs, 1)).toEqual({ db: 'OVN_Northbound', rest: ['T'] });
    expect(takeDatabase(['Logical_Switch'], dbs, 1)).toEqual({
      db: 'OVN_Northbound',
      rest: ['Logical_Switch'],
    });
    expect(takeDatabase([], ['Open_vSwitch', 'OVN_Northbound', '_Server'], 0).db).toBe('Open_vSwitch');
    expect(() => takeDatabase([], ['A', 'B', '_Server'], 0)).toThrow(/could not find a default database/);
  });
});
