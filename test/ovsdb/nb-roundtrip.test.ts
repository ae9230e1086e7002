/**
 * Round trip of every column of every table against real ovsdb-server: values are encoded by our
 * datum codec and transaction builder, written with `ovsdb-client transact` (and once through our
 * own OvsdbClient), read back with `ovsdb-client dump --format=json` (another client than ours)
 * and compared after decoding with our decoder.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nbSchema } from '../../src/ovn/models/nb.js';
import { vswitchSchema } from '../../src/ovn/models/vswitch.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { where } from '../../src/ovsdb/condition.js';
import { decodeDatum, valuesEqual } from '../../src/ovsdb/datum.js';
import { mutate } from '../../src/ovsdb/mutation.js';
import { columnKind, type BaseType, type ColumnSchema, type DatabaseSchema } from '../../src/ovsdb/schema.js';
import {
  OvsdbTransactionError,
  runTransaction,
  selectedRows,
  TxnBuilder,
  type RowInput,
  type TransactTransport,
  type TxnResult,
} from '../../src/ovsdb/txn.js';
import type { Atom, Value } from '../../src/ovsdb/value.js';
import { parseJson, stringifyJson } from '../../src/ovsdb/wire/json.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `ovsdb-client transact` as a transport: the C tool sends exactly the JSON our builder made. */
function cliTransport(remote: string): TransactTransport {
  return {
    async transact(db, ops) {
      const out = await run('ovsdb-client', ['transact', remote, stringifyJson([db, ...ops])]);
      return parseJson(out.trim()) as unknown[];
    },
  };
}

type Dump = Map<string, Map<string, Record<string, unknown>>>;

/** `ovsdb-client dump --format=json`: one JSON object per table, rows as arrays under "headings". */
async function dump(remote: string, db: string): Promise<Dump> {
  const out = await run('ovsdb-client', ['dump', '--format=json', remote, db]);
  const tables: Dump = new Map();
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const t = parseJson(line) as { caption: string; headings: string[]; data: unknown[][] };
    const name = t.caption.replace(/ table$/, '');
    const rows = new Map<string, Record<string, unknown>>();
    for (const r of t.data) {
      const row: Record<string, unknown> = {};
      t.headings.forEach((h, i) => (row[h] = r[i]));
      rows.set((row._uuid as [string, string])[1], row);
    }
    tables.set(name, rows);
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------
// sample values that satisfy every constraint of a column and differ from its default

const testRowName = (table: string) => `t_${table}`;

function clampBig(v: bigint, base: BaseType): bigint {
  const lo = base.minInteger === undefined ? INT64_MIN : BigInt(base.minInteger);
  const hi = base.maxInteger === undefined ? INT64_MAX : BigInt(base.maxInteger);
  return v < lo ? lo : v > hi ? hi : v;
}

const norm = (v: bigint): number | bigint => (v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v);

/** The i-th distinct sample atom of a base type; variant 0 and 1 give different values. */
function sampleAtom(base: BaseType, variant: number, i: number): Atom {
  if (base.enum) {
    const e = base.enum;
    return variant === 0 ? e[(e.length - 1 - i + e.length * 4) % e.length]! : e[i % e.length]!;
  }
  switch (base.type) {
    case 'integer': {
      // the bounds themselves (2^63-1 and -2^63 when unbounded: bigint territory), stepping inwards
      const hi = base.maxInteger === undefined ? INT64_MAX : BigInt(base.maxInteger);
      const lo = base.minInteger === undefined ? INT64_MIN : BigInt(base.minInteger);
      return norm(clampBig(variant === 0 ? hi - BigInt(i) : lo + BigInt(i) + (lo === 0n ? 1n : 0n), base));
    }
    case 'real': {
      const v = variant === 0 ? 2.5 + i : -1.25 - i;
      return Math.min(base.maxReal ?? Infinity, Math.max(base.minReal ?? -Infinity, v));
    }
    case 'boolean':
      return variant === 0 ? i % 2 === 0 : i % 2 === 1;
    case 'string': {
      // non-ASCII and an astral character, so lengths are counted in code points
      let s = `${variant === 0 ? 'é😀' : 'v2-'}${i}`;
      const min = base.minLength ?? 0;
      const max = base.maxLength ?? Infinity;
      while ([...s].length < min) s += 'x';
      if ([...s].length > max) s = [...s].slice(-max).join('');
      return s;
    }
    case 'uuid':
      return base.refTable ? testRowName(base.refTable) : randomUUID();
  }
}

/** A value for a column; `refs: false` leaves reference columns out (undefined). */
function sampleValue(col: ColumnSchema, variant: number, refs = true): Value | undefined {
  const { type } = col;
  const isRef = !!(type.key.refTable || type.value?.refTable);
  if (isRef && !refs) return undefined;
  const kind = columnKind(type);
  const max = type.max === 'unlimited' ? Infinity : type.max;
  // one element per referenced table exists, so sets of references hold one element
  const enumLen = type.key.enum?.length ?? Infinity;
  const n = Math.max(type.min, Math.min(max, type.key.refTable ? 1 : 2, enumLen));
  switch (kind) {
    case 'scalar':
    case 'optional':
      return sampleAtom(type.key, variant, 0);
    case 'set':
      return Array.from({ length: n }, (_, i) => sampleAtom(type.key, variant, i));
    case 'map': {
      const pairs: Array<[Atom, Atom]> = Array.from({ length: n }, (_, i) => [
        sampleAtom(type.key, variant, i),
        sampleAtom(type.value!, variant, i),
      ]);
      if (type.key.type !== 'string') return new Map(pairs);
      const obj: Record<string, Atom> = {};
      for (const [k, v] of pairs) obj[k as string] = v;
      // a "__proto__" key must survive as an ordinary key
      if (variant === 0 && !type.key.enum && max > n && !type.key.maxLength) {
        Object.defineProperty(obj, '__proto__', { value: sampleAtom(type.value!, 0, 5), enumerable: true });
      }
      return obj;
    }
  }
}

/** Empty/null for every column that may be empty (variant "cleared"). */
function emptyValue(col: ColumnSchema): Value | undefined {
  const kind = columnKind(col.type);
  if (col.type.key.refTable || col.type.value?.refTable || col.type.min === 1) return undefined;
  if (kind === 'optional') return null;
  if (kind === 'set') return [];
  if (kind === 'map') return col.type.key.type === 'string' ? {} : new Map();
  return undefined;
}

/** Replaces named uuids by the uuids the server gave the rows. */
function resolveRefs(v: Value, col: ColumnSchema, result: TxnResult): Value {
  const fix = (a: Atom, base: BaseType): Atom =>
    base.type === 'uuid' && typeof a === 'string' ? (result.uuidOf(a) ?? a) : a;
  const { type } = col;
  if (v === null) return v;
  if (Array.isArray(v)) return v.map((a) => fix(a, type.key));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [fix(k, type.key), fix(x, type.value!)]));
  if (typeof v === 'object') {
    const o: Record<string, Atom> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(o, k, { value: fix(v[k]!, type.value!), enumerable: true, writable: true });
    }
    return o;
  }
  return fix(v, type.key);
}

interface Written {
  table: string;
  uuid: string;
  values: Map<string, Value>;
}

/** Compares every written column with what `ovsdb-client dump` shows, decoded by our decoder. */
async function verify(remote: string, schema: DatabaseSchema, written: Written[]): Promise<number> {
  const d = await dump(remote, schema.name);
  let compared = 0;
  for (const w of written) {
    const row = d.get(w.table)?.get(w.uuid);
    expect(row, `${w.table} row ${w.uuid}`).toBeDefined();
    const table = schema.tables.get(w.table)!;
    for (const [name, expected] of w.values) {
      const col = table.columns.get(name)!;
      const got = decodeDatum(row![name], col.type);
      const ok = valuesEqual(got, expected, col.type);
      if (!ok) {
        expect.fail(
          `${w.table}.${name}: wrote ${stringifyJson(expected)} but read ${stringifyJson(row![name])}`,
        );
      }
      compared++;
    }
  }
  return compared;
}

function allColumns(schema: DatabaseSchema): string[] {
  const out: string[] = [];
  for (const t of schema.tables.values())
    for (const c of t.columns.values()) if (!c.name.startsWith('_')) out.push(`${t.name}.${c.name}`);
  return out;
}

/**
 * Writes one row per table with every column set (references point at the other tables' rows by
 * named uuid, often before the insert that defines them), then updates every column to another
 * value, then clears what may be cleared; checks each state with `ovsdb-client dump`.
 */
async function roundTripAllColumns(remote: string, schema: DatabaseSchema, transport: TransactTransport) {
  const tables = [...schema.tables.values()];
  const t1 = new TxnBuilder(schema);
  const inserted: Array<{ table: string; values: Map<string, Value> }> = [];
  for (const t of tables) {
    const row: RowInput = {};
    const values = new Map<string, Value>();
    for (const col of t.columns.values()) {
      if (col.name.startsWith('_')) continue;
      const v = sampleValue(col, 0)!;
      row[col.name] = v;
      values.set(col.name, v);
    }
    t1.insert(t.name, row, { uuidName: testRowName(t.name) });
    inserted.push({ table: t.name, values });
  }
  const r1 = await runTransaction(transport, t1);
  const written: Written[] = inserted.map((w) => {
    const table = schema.tables.get(w.table)!;
    const uuid = r1.uuidOf(testRowName(w.table))!;
    const values = new Map([...w.values].map(([c, v]) => [c, resolveRefs(v, table.columns.get(c)!, r1)]));
    return { table: w.table, uuid, values };
  });
  const compared1 = await verify(remote, schema, written);
  expect(compared1).toBe(allColumns(schema).length);

  // update: every non-reference column to a second value
  const t2 = new TxnBuilder(schema);
  for (const w of written) {
    const table = schema.tables.get(w.table)!;
    const row: RowInput = {};
    for (const col of table.columns.values()) {
      if (col.name.startsWith('_') || !col.mutable) continue;
      const v = sampleValue(col, 1, false);
      if (v === undefined) continue;
      row[col.name] = v;
      w.values.set(col.name, v);
    }
    t2.update(w.table, [where.uuid(w.uuid)], row);
  }
  const r2 = await runTransaction(transport, t2);
  expect(r2.results.every((r) => r !== null && 'count' in r && r.count === 1)).toBe(true);
  await verify(remote, schema, written);

  // clear: empty sets and maps, null optionals
  const t3 = new TxnBuilder(schema);
  for (const w of written) {
    const table = schema.tables.get(w.table)!;
    const row: RowInput = {};
    for (const col of table.columns.values()) {
      if (col.name.startsWith('_') || !col.mutable) continue;
      const v = emptyValue(col);
      if (v === undefined) continue;
      row[col.name] = v;
      w.values.set(col.name, v);
    }
    t3.update(w.table, [where.uuid(w.uuid)], row);
  }
  await runTransaction(transport, t3);
  await verify(remote, schema, written);
  return { written, compared: compared1 };
}

describe('round trip of every column against real ovsdb-server', () => {
  const tmp = tempDir('h2rt-');
  let nbServer: OvsdbServer | undefined;
  let vsServer: OvsdbServer | undefined;
  let nbWritten: Written[] = [];

  beforeAll(async () => {
    nbServer = await startOvsdbServer({
      dir: tmp.dir,
      name: 'nb',
      schema: resolve('schemas/ovn-nb.ovsschema'),
    });
    vsServer = await startOvsdbServer({
      dir: tmp.dir,
      name: 'vs',
      schema: resolve('schemas/vswitch.ovsschema'),
    });
  });
  afterAll(async () => {
    await nbServer?.stop();
    await vsServer?.stop();
    tmp.cleanup();
  });

  it('OVN_Northbound: every column of every table, written by ovsdb-client transact', async () => {
    const { written, compared } = await roundTripAllColumns(
      nbServer!.unix,
      nbSchema(),
      cliTransport(nbServer!.unix),
    );
    nbWritten = written;
    expect(compared).toBe(allColumns(nbSchema()).length);
    expect(compared).toBeGreaterThan(150);
    expect(written).toHaveLength(nbSchema().tables.size);
  });

  it('Open_vSwitch: every column (integer-keyed maps, reals, refs), written by ovsdb-client transact', async () => {
    const schema = vswitchSchema();
    const { written } = await roundTripAllColumns(vsServer!.unix, schema, cliTransport(vsServer!.unix));
    const qos = written.find((w) => w.table === 'QoS')!;
    const queue = written.find((w) => w.table === 'Queue')!;
    const d = await dump(vsServer!.unix, schema.name);
    const queues = decodeDatum(
      d.get('QoS')!.get(qos.uuid)!.queues,
      schema.tables.get('QoS')!.columns.get('queues')!.type,
    );
    // after the clear pass QoS.queues (a reference map) still holds the Queue row under an integer key
    expect(queues).toBeInstanceOf(Map);
    expect([...(queues as Map<Atom, Atom>).values()]).toEqual([queue.uuid, queue.uuid]);
  });

  it('bigints at the int64 limits survive the trip', async () => {
    const t = new TxnBuilder(nbSchema());
    t.select('NB_Global', [], ['nb_cfg', 'sb_cfg']);
    t.update('NB_Global', [], { nb_cfg: 2n ** 63n - 1n, sb_cfg: -(2n ** 63n) });
    t.select('NB_Global', [], ['nb_cfg', 'sb_cfg']);
    const r = await runTransaction(cliTransport(nbServer!.unix), t);
    expect((r.results[2] as { rows: unknown[] }).rows).toEqual([
      { nb_cfg: 2n ** 63n - 1n, sb_cfg: -(2n ** 63n) },
    ]);
    const d = await dump(nbServer!.unix, 'OVN_Northbound');
    const row = [...d.get('NB_Global')!.values()][0]!;
    expect(row.nb_cfg).toBe(2n ** 63n - 1n);
    expect(row.sb_cfg).toBe(-(2n ** 63n));
  });

  it('explicit insert uuid; a duplicate uuid is refused', async () => {
    const transport = cliTransport(nbServer!.unix);
    const uuid = randomUUID();
    const t = new TxnBuilder(nbSchema());
    // a port group referring to the switch's explicit uuid is fine too
    expect(t.insert('Logical_Switch', { name: 'explicit' }, { uuid })).toBe(uuid);
    t.select('Logical_Switch', [where.uuid(uuid)], ['_uuid', 'name']);
    const r = await runTransaction(transport, t);
    expect(r.results[0]).toEqual({ op: 'insert', uuid });
    expect((r.results[1] as { rows: unknown[] }).rows).toEqual([{ _uuid: uuid, name: 'explicit' }]);
    expect((await dump(nbServer!.unix, 'OVN_Northbound')).get('Logical_Switch')!.has(uuid)).toBe(true);
    const again = new TxnBuilder(nbSchema());
    again.insert('Logical_Switch', { name: 'again' }, { uuid });
    const err = (await runTransaction(transport, again).catch((e: unknown) => e)) as OvsdbTransactionError;
    expect(err).toBeInstanceOf(OvsdbTransactionError);
    expect(err.failure.error).toBe('duplicate uuid');
  });

  it('a failing op maps to {index, error} with null after it', async () => {
    const t = new TxnBuilder(nbSchema());
    t.insert('Logical_Switch', { name: 'never' });
    t.wait('Logical_Switch', [where.eq('name', 'nonexistent')], ['name'], '==', [{ name: 'nonexistent' }], 0);
    t.comment('after the failure');
    const raw = await cliTransport(nbServer!.unix).transact(t.database, t.operations());
    const r = t.parseResults(raw);
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({ index: 1, op: 'wait', error: 'timed out', commitError: false });
    expect(r.results[0]).toMatchObject({ op: 'insert' });
    expect(r.results[2]).toBeNull();
    const names = [...(await dump(nbServer!.unix, 'OVN_Northbound')).get('Logical_Switch')!.values()].map(
      (x) => x.name,
    );
    expect(names).not.toContain('never');
  });

  it('commit errors (referential integrity) come as the extra element', async () => {
    const transport = cliTransport(nbServer!.unix);
    const t = new TxnBuilder(nbSchema());
    t.insert('Logical_Switch', { name: 'dangling', ports: [randomUUID()] });
    const err = (await runTransaction(transport, t).catch((e: unknown) => e)) as OvsdbTransactionError;
    expect(err).toBeInstanceOf(OvsdbTransactionError);
    expect(err.failure).toMatchObject({
      index: 1,
      op: 'commit',
      commitError: true,
      error: 'referential integrity violation',
    });
    expect(err.result.results[0]).toMatchObject({ op: 'insert' });

    // deleting a row that a strong reference still points to
    const lsp = nbWritten.find((w) => w.table === 'Logical_Switch_Port')!;
    const del = new TxnBuilder(nbSchema());
    del.delete('Logical_Switch_Port', [where.uuid(lsp.uuid)]);
    const err2 = (await runTransaction(transport, del).catch((e: unknown) => e)) as OvsdbTransactionError;
    expect(err2.failure).toMatchObject({
      index: 1,
      commitError: true,
      error: 'referential integrity violation',
    });
    expect(err2.failure.details).toMatch(/remaining reference/);
  });

  it('weak references vanish with their target; unreferenced non-root rows are collected', async () => {
    const transport = cliTransport(nbServer!.unix);
    const ls = nbWritten.find((w) => w.table === 'Logical_Switch')!;
    const lsp = nbWritten.find((w) => w.table === 'Logical_Switch_Port')!;
    const pg = nbWritten.find((w) => w.table === 'Port_Group')!;
    const before = await dump(nbServer!.unix, 'OVN_Northbound');
    expect(
      decodeDatum(
        before.get('Port_Group')!.get(pg.uuid)!.ports,
        nbSchema().tables.get('Port_Group')!.columns.get('ports')!.type,
      ),
    ).toEqual([lsp.uuid]);
    const t = new TxnBuilder(nbSchema());
    t.mutate('Logical_Switch', [where.uuid(ls.uuid)], [mutate.delete('ports', [lsp.uuid])]);
    t.insert('Logical_Switch_Port', { name: 'orphan' });
    await runTransaction(transport, t);
    const after = await dump(nbServer!.unix, 'OVN_Northbound');
    expect(after.get('Logical_Switch_Port')!.has(lsp.uuid)).toBe(false);
    expect([...after.get('Logical_Switch_Port')!.values()].map((r) => r.name)).not.toContain('orphan');
    expect(after.get('Port_Group')!.get(pg.uuid)!.ports).toEqual(['set', []]);
  });

  it('ovn-nbctl reads what our encoder wrote', async () => {
    const t = new TxnBuilder(nbSchema());
    const ls = t.insert('Logical_Switch', { name: 'nbctl-é😀', other_config: { subnet: '10.1.0.0/16' } });
    const r = await runTransaction(cliTransport(nbServer!.unix), t);
    const out = await run('ovn-nbctl', [
      `--db=${nbServer!.unix}`,
      '--format=json',
      '--columns=name,other_config',
      'list',
      'Logical_Switch',
      r.uuidOf(ls)!,
    ]);
    const parsed = parseJson(out) as { data: unknown[][]; headings: string[] };
    const col = (n: string) => nbSchema().tables.get('Logical_Switch')!.columns.get(n)!.type;
    expect(decodeDatum(parsed.data[0]![0], col('name'))).toBe('nbctl-é😀');
    expect(decodeDatum(parsed.data[0]![1], col('other_config'))).toEqual({ subnet: '10.1.0.0/16' });
  });
});

describe('round trip through our own OvsdbClient (read back with ovsdb-client)', () => {
  const tmp = tempDir('h2rc-');
  let server: OvsdbServer | undefined;
  let client: OvsdbClient | undefined;
  afterAll(async () => {
    client?.close();
    await server?.stop();
    tmp.cleanup();
  });

  it('OVN_Northbound: every column of every table', async () => {
    server = await startOvsdbServer({
      dir: tmp.dir,
      name: 'nb',
      schema: resolve('schemas/ovn-nb.ovsschema'),
    });
    client = await OvsdbClient.connect(server.unix);
    const { compared } = await roundTripAllColumns(server.unix, nbSchema(), client);
    expect(compared).toBe(allColumns(nbSchema()).length);
  });
});

describe('conditions and mutations against real ovsdb-server (ovsdb-condition/mutation semantics)', () => {
  const tmp = tempDir('h2cm-');
  let server: OvsdbServer | undefined;
  let transport: TransactTransport;
  const schema = () => vswitchSchema();
  beforeAll(async () => {
    server = await startOvsdbServer({
      dir: tmp.dir,
      name: 'vs',
      schema: resolve('schemas/vswitch.ovsschema'),
    });
    transport = cliTransport(server.unix);
    const t = new TxnBuilder(schema());
    // Flow_Sample_Collector_Set is a root table with an integer id, an optional bridge ref and external_ids
    t.insert('Bridge', { name: 'br0' }, { uuidName: 'br' });
    t.insert('Open_vSwitch', { bridges: ['br'] });
    for (const [id, ext] of [
      [1, { a: '1' }],
      [2, { a: '2', b: '2' }],
      [3, {}],
    ] as const) {
      t.insert('Flow_Sample_Collector_Set', { id, bridge: 'br', external_ids: ext });
    }
    await runTransaction(transport, t);
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  async function ids(conds: Parameters<TxnBuilder['select']>[1]): Promise<number[]> {
    const t = new TxnBuilder(schema());
    t.select('Flow_Sample_Collector_Set', conds, ['id']);
    const r = await runTransaction(transport, t);
    return selectedRows(r, 0)
      .map((x) => x.id as number)
      .sort();
  }

  it('conditions select the rows ovsdb-server says they select', async () => {
    expect(await ids([])).toEqual([1, 2, 3]);
    expect(await ids([true])).toEqual([1, 2, 3]);
    expect(await ids([false])).toEqual([]);
    expect(await ids([where.lt('id', 2)])).toEqual([1]);
    expect(await ids([where.ge('id', 2), where.ne('id', 3)])).toEqual([2]);
    expect(await ids([where.includes('external_ids', { a: '2' })])).toEqual([2]);
    expect(await ids([where.excludes('external_ids', { a: '1' })])).toEqual([2, 3]);
    expect(await ids([where.eq('external_ids', {})])).toEqual([3]);
    expect(await ids([where.includes('external_ids', {})])).toEqual([1, 2, 3]);
  });

  it('mutations: arithmetic, set insert/delete, map insert does not overwrite, map delete by keys or pairs', async () => {
    const q = new TxnBuilder(schema());
    q.insert('Queue', { dscp: 10, other_config: { k: 'v', x: '1' } }, { uuidName: 'queue' });
    q.insert('QoS', { queues: new Map([[1, 'queue']]) });
    const r = await runTransaction(transport, q);
    const queue = r.uuidOf('queue')!;
    const m = new TxnBuilder(schema());
    m.mutate(
      'Queue',
      [where.uuid(queue)],
      [
        mutate.add('dscp', 5),
        mutate.insert('other_config', { k: 'overwritten?', n: 'new' }),
        mutate.deleteKeys('other_config', ['x']),
      ],
    );
    m.mutate(
      'QoS',
      [],
      [
        mutate.insert(
          'queues',
          new Map([
            [1, queue],
            [2, queue],
          ]),
        ),
      ],
    );
    m.select('Queue', [where.uuid(queue)], ['dscp', 'other_config']);
    m.select('QoS', [], ['queues']);
    const res = await runTransaction(transport, m);
    expect(res.results[0]).toEqual({ op: 'mutate', count: 1 });
    expect((res.results[2] as { rows: unknown[] }).rows).toEqual([
      { dscp: 15, other_config: { k: 'v', n: 'new' } },
    ]);
    expect((res.results[3] as { rows: unknown[] }).rows).toEqual([
      {
        queues: new Map([
          [1, queue],
          [2, queue],
        ]),
      },
    ]);

    // map delete by pairs only removes pairs whose value matches too
    const d = new TxnBuilder(schema());
    d.mutate('Queue', [where.uuid(queue)], [mutate.delete('other_config', { k: 'other', n: 'new' })]);
    d.select('Queue', [where.uuid(queue)], ['other_config']);
    expect(((await runTransaction(transport, d)).results[1] as { rows: unknown[] }).rows).toEqual([
      { other_config: { k: 'v' } },
    ]);
  });

  it('server-side mutation errors map onto the failing op: domain error, range error, constraint violation', async () => {
    const cases: Array<[Parameters<typeof mutate.add>[1], 'div' | 'add', string]> = [
      [0, 'div', 'domain error'],
      [2n ** 63n - 1n, 'add', 'range error'],
    ];
    for (const [n, fn, error] of cases) {
      const t = new TxnBuilder(schema());
      t.comment('first');
      t.mutate('Flow_Sample_Collector_Set', [where.eq('id', 3)], [mutate[fn]('id', n)]);
      const err = (await runTransaction(transport, t).catch((e: unknown) => e)) as OvsdbTransactionError;
      expect(err).toBeInstanceOf(OvsdbTransactionError);
      expect(err.failure).toMatchObject({ index: 1, op: 'mutate', error, commitError: false });
    }
    // Queue.dscp is 0..63: the mutation's result is checked by the server, not by the builder
    const t = new TxnBuilder(schema());
    t.mutate('Queue', [], [mutate.add('dscp', 100)]);
    const err = (await runTransaction(transport, t).catch((e: unknown) => e)) as OvsdbTransactionError;
    expect(err.failure).toMatchObject({ index: 0, error: 'constraint violation' });
  });
});
