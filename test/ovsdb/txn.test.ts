import { describe, expect, it } from 'vitest';
import { cond, where } from '../../src/ovsdb/condition.js';
import { OvsdbTxnBuildError } from '../../src/ovsdb/data-errors.js';
import { OvsdbConnectionClosedError } from '../../src/ovsdb/errors.js';
import { mutate, mutation } from '../../src/ovsdb/mutation.js';
import {
  OvsdbTransactionError,
  OvsdbTxnResultError,
  retryTransaction,
  runTransaction,
  TxnBuilder,
} from '../../src/ovsdb/txn.js';
import fc from 'fast-check';
import { nbSchema, type NbTables } from '../../src/ovn/models/nb.js';
import { vswitchSchema } from '../../src/ovn/models/vswitch.js';

const U1 = '550e8400-e29b-41d4-a716-446655440000';
const U2 = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('txn builder: operations', () => {
  it('encodes insert with named uuids (forward references allowed), explicit uuid and every other op', () => {
    const t = new TxnBuilder(nbSchema());
    // the switch refers to the port before the insert that defines it
    t.insert(
      'Logical_Switch',
      { name: 'sw0', ports: ['lsp0'], external_ids: { a: 'b' } },
      { uuidName: 'ls0' },
    );
    const port = t.insert(
      'Logical_Switch_Port',
      { name: 'p0', addresses: ['dynamic'], tag: null },
      { uuidName: 'lsp0' },
    );
    expect(port).toBe('lsp0');
    expect(t.insert('Address_Set', { name: 'as' }, { uuid: U1 })).toBe(U1);
    t.select('Logical_Switch', [where.eq('name', 'sw0')], ['name', 'ports']);
    t.update('Logical_Switch', [where.uuid(U2)], { other_config: { subnet: '10.0.0.0/16' } });
    t.mutate(
      'Logical_Switch',
      [cond('name', '==', 'sw0')],
      [mutate.insert('ports', ['lsp0']), mutate.deleteKeys('external_ids', ['a'])],
    );
    t.delete('ACL', [true]);
    t.wait('Logical_Switch', [where.eq('name', 'sw0')], ['name'], '!=', [{ name: 'sw0' }], 0);
    t.comment('hello');
    t.assert('my_lock');
    t.commit(false);
    const ops = t.operations();
    expect(ops[0]).toEqual({
      op: 'insert',
      table: 'Logical_Switch',
      row: { name: 'sw0', ports: ['set', [['named-uuid', 'lsp0']]], external_ids: ['map', [['a', 'b']]] },
      'uuid-name': 'ls0',
    });
    expect(ops[1]).toEqual({
      op: 'insert',
      table: 'Logical_Switch_Port',
      row: { name: 'p0', addresses: ['set', ['dynamic']], tag: ['set', []] },
      'uuid-name': 'lsp0',
    });
    expect(ops[2]).toEqual({ op: 'insert', table: 'Address_Set', row: { name: 'as' }, uuid: U1 });
    expect(ops[3]).toEqual({
      op: 'select',
      table: 'Logical_Switch',
      where: [['name', '==', 'sw0']],
      columns: ['name', 'ports'],
    });
    expect(ops[4]).toEqual({
      op: 'update',
      table: 'Logical_Switch',
      where: [['_uuid', '==', ['uuid', U2]]],
      row: { other_config: ['map', [['subnet', '10.0.0.0/16']]] },
    });
    expect(ops[5]).toEqual({
      op: 'mutate',
      table: 'Logical_Switch',
      where: [['name', '==', 'sw0']],
      mutations: [
        ['ports', 'insert', ['set', [['named-uuid', 'lsp0']]]],
        ['external_ids', 'delete', ['set', ['a']]],
      ],
    });
    expect(ops[6]).toEqual({ op: 'delete', table: 'ACL', where: [true] });
    expect(ops[7]).toEqual({
      op: 'wait',
      table: 'Logical_Switch',
      where: [['name', '==', 'sw0']],
      columns: ['name'],
      until: '!=',
      rows: [{ name: 'sw0' }],
      timeout: 0,
    });
    expect(ops.slice(8)).toEqual([
      { op: 'comment', comment: 'hello' },
      { op: 'assert', lock: 'my_lock' },
      { op: 'commit', durable: false },
    ]);
  });

  it('generates distinct uuid-names when none are given', () => {
    const t = new TxnBuilder(nbSchema());
    const a = t.insert('Logical_Switch', { name: 'a' });
    const b = t.insert('Logical_Switch', { name: 'b' });
    expect(a).not.toBe(b);
    expect(new TxnBuilder(nbSchema()).insert('Logical_Switch', {})).not.toBe(a);
  });

  it('encodes conditions and mutations with the column types', () => {
    const t = new TxnBuilder(vswitchSchema());
    t.mutate(
      'QoS',
      [where.includes('queues', new Map([[1, U1]]))],
      [mutation('queues', 'insert', new Map([[7, 'q7']]))],
    );
    t.mutate('Interface', [where.gt('ofport', 3)], [mutate.add('ofport', 1)]);
    t.insert('Queue', {}, { uuidName: 'q7' });
    expect(t.operations().slice(0, 2)).toEqual([
      {
        op: 'mutate',
        table: 'QoS',
        where: [['queues', 'includes', ['map', [[1, ['uuid', U1]]]]]],
        mutations: [['queues', 'insert', ['map', [[7, ['named-uuid', 'q7']]]]]],
      },
      { op: 'mutate', table: 'Interface', where: [['ofport', '>', 3]], mutations: [['ofport', '+=', 1]] },
    ]);
  });

  const refusals: Array<[string, 'nb' | 'vs', (t: TxnBuilder) => unknown, RegExp]> = [
    ['unknown table', 'nb', (t) => t.insert('Nope', {}), /no table Nope/],
    ['unknown column', 'nb', (t) => t.insert('Logical_Switch', { colour: 'red' }), /no column colour/],
    ['writing _uuid', 'nb', (t) => t.insert('Logical_Switch', { _uuid: U1 }), /use the insert option uuid/],
    [
      'constraint violation',
      'nb',
      (t) => t.insert('ACL', { priority: 40000 }),
      /ACL.priority: 40000 is not in the valid range 0 to 32767/,
    ],
    ['enum violation', 'nb', (t) => t.insert('ACL', { action: 'permit' }), /not one of the allowed values/],
    [
      'string too long (code points)',
      'nb',
      (t) => t.insert('ACL', { name: '😀'.repeat(64) }),
      /length 64 is longer than the maximum 63/,
    ],
    ['wrong type', 'nb', (t) => t.insert('Logical_Switch', { name: 5 }), /expected string/],
    ['immutable column in update', 'vs', (t) => t.update('Bridge', [], { name: 'x' }), /immutable/],
    [
      'immutable column in mutate',
      'vs',
      (t) => t.mutate('Bridge', [], [mutate.insert('name', 'x')]),
      /immutable/,
    ],
    [
      'arithmetic on a string',
      'nb',
      (t) => t.mutate('Logical_Switch', [], [mutate.add('name', 1)]),
      /integer or real/,
    ],
    [
      'insert on a scalar',
      'vs',
      (t) => t.mutate('Port', [], [mutate.insert('bond_updelay', 1)]),
      /set or map/,
    ],
    [
      'ordered comparison on a string',
      'nb',
      (t) => t.select('Logical_Switch', [cond('name', '<', 'a')]),
      /only allowed on integer or real/,
    ],
    ['bad uuid-name', 'vs', (t) => t.insert('Port', {}, { uuidName: '1x' }), /uuid-name must be <id>/],
    [
      'duplicate uuid-name',
      'vs',
      (t) => (t.insert('Port', {}, { uuidName: 'x' }), t.insert('Port', {}, { uuidName: 'x' })),
      /duplicate uuid-name/,
    ],
    ['explicit uuid malformed', 'vs', (t) => t.insert('Port', {}, { uuid: 'abc' }), /not a UUID/],
    ['wait with a bad until', 'vs', (t) => t.wait('Port', [], ['name'], '<' as '==', []), /until/],
    [
      'wait row outside its columns',
      'vs',
      (t) => t.wait('Port', [], ['name'], '==', [{ tag: 1 }]),
      /not among the wait columns/,
    ],
    ['select of an unknown column', 'vs', (t) => t.select('Port', [], ['x']), /no column x/],
    [
      'undefined named uuid',
      'vs',
      (t) => (t.insert('Bridge', { name: 'b', ports: ['nowhere'] }), t.operations()),
      /nowhere is referenced/,
    ],
  ];
  for (const [name, schema, fn, re] of refusals) {
    it(`refuses: ${name}`, () => {
      const t = new TxnBuilder(schema === 'nb' ? nbSchema() : vswitchSchema());
      expect(() => fn(t)).toThrow(re);
    });
  }
  it('build errors are OvsdbTxnBuildError or data errors with the column named', () => {
    const t = new TxnBuilder(nbSchema());
    expect(() => t.update('Logical_Switch', [cond('nope', '==', 1)], {})).toThrow(OvsdbTxnBuildError);
  });
});

describe('txn builder: result mapping', () => {
  function sample() {
    const t = new TxnBuilder(nbSchema());
    t.insert('Logical_Switch', { name: 'sw0' }, { uuidName: 'sw' });
    t.select('Logical_Switch', [], ['name', 'ports', 'other_config']);
    t.update('Logical_Switch', [], { name: 'x' });
    t.mutate('Logical_Switch', [], [mutate.insert('ports', [])]);
    t.delete('Logical_Switch', [false]);
    t.wait('Logical_Switch', [], ['name'], '==', [], 0);
    t.comment('c');
    return t;
  }

  it('maps each result to its operation and decodes select rows', () => {
    const r = sample().parseResults([
      { uuid: ['uuid', U1] },
      { rows: [{ name: 'sw0', ports: ['uuid', U2], other_config: ['map', [['__proto__', 'x']]] }] },
      { count: 1 },
      { count: 2 },
      { count: 0 },
      {},
      {},
    ]);
    expect(r.ok).toBe(true);
    expect(r.uuidOf('sw')).toBe(U1);
    expect(r.results[0]).toEqual({ op: 'insert', uuid: U1 });
    const sel = r.results[1] as { rows: Array<Record<string, unknown>> };
    expect(sel.rows[0]!.ports).toEqual([U2]); // a bare uuid atom read as a one-element set
    expect(Object.hasOwn(sel.rows[0]!.other_config as object, '__proto__')).toBe(true);
    expect(r.results.slice(2)).toEqual([
      { op: 'update', count: 1 },
      { op: 'mutate', count: 2 },
      { op: 'delete', count: 0 },
      { op: 'wait', ok: true },
      { op: 'comment', ok: true },
    ]);
  });

  it('a failing op gives {index, error, details} and null for the later slots', () => {
    const r = sample().parseResults([
      { uuid: ['uuid', U1] },
      { rows: [] },
      { error: 'constraint violation', details: 'bad' },
      null,
      null,
      null,
      null,
    ]);
    expect(r.ok).toBe(false);
    expect(r.error).toEqual({
      index: 2,
      op: 'update',
      error: 'constraint violation',
      details: 'bad',
      commitError: false,
    });
    expect(r.results.slice(2)).toEqual([null, null, null, null, null]);
    expect(r.results[0]).toEqual({ op: 'insert', uuid: U1 });
  });

  it('an extra element past the ops is the commit error', () => {
    const r = sample().parseResults([
      { uuid: ['uuid', U1] },
      { rows: [] },
      { count: 1 },
      { count: 1 },
      { count: 0 },
      {},
      {},
      { error: 'referential integrity violation', details: 'cannot delete' },
    ]);
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({
      index: 7,
      op: 'commit',
      commitError: true,
      error: 'referential integrity violation',
    });
    expect(r.results).toHaveLength(7);
  });

  it('refuses results that do not line up', () => {
    expect(() => sample().parseResults([{}])).toThrow(/7 operations/);
    expect(() => sample().parseResults({})).toThrow(/must be an array/);
    expect(() => sample().parseResults([{ uuid: 'x' }, {}, {}, {}, {}, {}, {}])).toThrow(/valid uuid/);
  });
});

describe('txn executor and retry', () => {
  const okResult = [{ uuid: ['uuid', U1] }];
  const build = () => {
    const t = new TxnBuilder(nbSchema());
    t.insert('Logical_Switch', { name: 'a' });
    return t;
  };

  it('runTransaction throws OvsdbTransactionError carrying the failure', async () => {
    const transport = { transact: async () => [{ error: 'resources exhausted' }] };
    const err = await runTransaction(transport, build()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbTransactionError);
    expect((err as OvsdbTransactionError).failure).toMatchObject({ index: 0, error: 'resources exhausted' });
    const ok = await runTransaction(
      { transact: async (db: string) => (db === 'OVN_Northbound' ? okResult : []) },
      build(),
    );
    expect(ok.results[0]).toEqual({ op: 'insert', uuid: U1 });
  });

  it('retries a failed wait guard, rebuilding each time', async () => {
    let calls = 0;
    let builds = 0;
    const guarded = () => {
      builds++;
      const t = new TxnBuilder(nbSchema());
      t.wait('Logical_Switch', [where.eq('name', 'a')], ['name'], '==', [], 0);
      t.insert('Logical_Switch', { name: 'a' });
      return t;
    };
    const transport = {
      transact: async () => (++calls < 3 ? [{ error: 'timed out' }, null] : [{}, { uuid: ['uuid', U1] }]),
    };
    const r = await retryTransaction(guarded, transport, { attempts: 3 });
    expect(r.ok).toBe(true);
    expect([calls, builds]).toEqual([3, 3]);
  });

  it('gives up after the attempts and does not retry other failures', async () => {
    let calls = 0;
    const t1 = { transact: async () => (calls++, [{ error: 'timed out' }]) };
    const guarded = () => {
      const t = new TxnBuilder(nbSchema());
      t.wait('Logical_Switch', [], ['name'], '==', [], 0);
      return t;
    };
    await expect(retryTransaction(guarded, t1, { attempts: 2 })).rejects.toThrow(/timed out/);
    expect(calls).toBe(2);
    calls = 0;
    const t2 = { transact: async () => (calls++, [{ error: 'constraint violation' }]) };
    await expect(retryTransaction(build, t2, { attempts: 5 })).rejects.toThrow(/constraint violation/);
    expect(calls).toBe(1);
  });

  it('retries connection errors only for idempotent transactions', async () => {
    let calls = 0;
    const flaky = {
      transact: async () => {
        if (++calls === 1) throw new OvsdbConnectionClosedError('closed');
        return okResult;
      },
    };
    await expect(retryTransaction(build, flaky)).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
    expect(calls).toBe(1);
    calls = 0;
    expect((await retryTransaction(build, flaky, { idempotent: true })).ok).toBe(true);
    expect(calls).toBe(2);
    calls = 0;
    await expect(
      retryTransaction(build, flaky, { isRetryable: () => false, idempotent: true }),
    ).rejects.toThrow(/closed/);
  });
});

describe('txn builder: typed with the generated models', () => {
  it('checks table names, column names and value types at compile time', () => {
    const t = new TxnBuilder<NbTables>(nbSchema());
    const ls = t.insert('Logical_Switch', { name: 'sw', other_config: { subnet: '10.0.0.0/16' } });
    t.insert('ACL', { action: 'drop', priority: 100, direction: 'to-lport', match: 'ip4' });
    t.update('Logical_Switch', [where.eq('name', 'sw')], { ports: [] });
    t.mutate('Logical_Switch', [where.uuid(ls)], [mutate.insert('ports', [])]);
    // @ts-expect-error no such table
    expect(() => t.insert('Logical_Swich', {})).toThrow(/no table/);
    // @ts-expect-error "permit" is not an ACL action
    expect(() => t.insert('ACL', { action: 'permit' })).toThrow(/allowed values/);
    // @ts-expect-error no such column
    expect(() => t.select('Logical_Switch', [where.eq('nmae', 'x')])).toThrow(/no column nmae/);
    expect(t.size).toBe(4);
  });
});

describe('txn builder: property', () => {
  it('any reply is mapped or refused with OvsdbTxnResultError', () => {
    const slot = fc.oneof(
      fc.constant(null),
      fc.record({ uuid: fc.oneof(fc.constant(['uuid', U1]), fc.anything()) }, { requiredKeys: [] }),
      fc.record({ rows: fc.oneof(fc.constant([{ name: 'x' }]), fc.anything()) }, { requiredKeys: [] }),
      fc.record({ count: fc.oneof(fc.nat(), fc.anything()) }, { requiredKeys: [] }),
      fc.record(
        { error: fc.oneof(fc.string(), fc.anything()), details: fc.anything() },
        { requiredKeys: ['error'] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(slot, { maxLength: 5 }), fc.anything()), (raw) => {
        const t = new TxnBuilder(nbSchema());
        t.insert('Logical_Switch', { name: 'a' });
        t.select('Logical_Switch', [], ['name']);
        t.update('Logical_Switch', [], { name: 'b' });
        t.comment('c');
        try {
          const r = t.parseResults(raw);
          expect(r.results).toHaveLength(4);
          expect(r.ok).toBe(r.error === undefined);
        } catch (err) {
          expect(err).toBeInstanceOf(OvsdbTxnResultError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
