/**
 * OvsdbClient against real ovsdb-server processes (standalone NB and Open_vSwitch, a RAFT
 * cluster), every method over unix and tcp.
 */
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OvsdbClient,
  ZERO_UUID,
  type MonitorNotification,
  type TableUpdates,
} from '../../src/ovsdb/client.js';
import { OvsdbConnectionClosedError, OvsdbError, OvsdbRpcError } from '../../src/ovsdb/errors.js';
import { UUID_RE } from '../../src/ovsdb/value.js';
import { startOvsdbServer, VSWITCH_SCHEMA, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { freePort, run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

const NB = 'OVN_Northbound';
const opts = { probeIntervalMs: 0 };

let tmp: ReturnType<typeof tempDir>;
let nb: OvsdbServer;
let probePort: number;
const clients: OvsdbClient[] = [];

async function connect(
  remote: string,
  o: Parameters<typeof OvsdbClient.connect>[1] = opts,
): Promise<OvsdbClient> {
  const c = await OvsdbClient.connect(remote, o);
  clients.push(c);
  return c;
}

function insertSwitch(name: string, extra: Record<string, unknown> = {}) {
  return { op: 'insert', table: 'Logical_Switch', row: { name, ...extra } };
}

/** Collects a monitor's notifications. */
function recorder() {
  const seen: MonitorNotification[] = [];
  return { seen, handler: (n: MonitorNotification) => void seen.push(n) };
}

function rowsOf(updates: TableUpdates, table: string): Record<string, Record<string, unknown>> {
  return (updates[table] ?? {}) as Record<string, Record<string, unknown>>;
}

beforeAll(async () => {
  tmp = tempDir('h1c-');
  probePort = await freePort();
  // a second listener configured through the Connection table, with a 1 s server-side inactivity probe
  nb = await startOvsdbServer({
    dir: tmp.dir,
    name: 'nb',
    extraArgs: ['--remote=db:OVN_Northbound,NB_Global,connections'],
  });
  const c = await OvsdbClient.connect(nb.unix, opts);
  const r = await c.transact(NB, [
    {
      op: 'insert',
      table: 'Connection',
      row: { target: `ptcp:${probePort}:127.0.0.1`, inactivity_probe: 1000 },
      'uuid-name': 'conn',
    },
    { op: 'insert', table: 'NB_Global', row: { connections: ['named-uuid', 'conn'] } },
  ]);
  expect(r).toHaveLength(2);
  c.close();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await nb?.stop();
  tmp?.cleanup();
});

describe.each(['unix', 'tcp'] as const)('OvsdbClient over %s', (transport) => {
  const remote = () => (transport === 'unix' ? nb.unix : nb.tcp);
  const ls = (n: string) => `${transport}-${n}`;

  it('list_dbs, get_schema, get_server_id, echo', async () => {
    const c = await connect(remote());
    expect((await c.listDbs()).sort()).toEqual([NB, '_Server']);
    const schema = (await c.getSchema(NB)) as { name: string; tables: Record<string, unknown> };
    expect(schema.name).toBe(NB);
    expect(Object.keys(schema.tables)).toContain('Logical_Switch_Port');
    expect(await c.getServerId()).toMatch(UUID_RE);
    // 64-bit integers survive the round trip through the server
    expect(await c.echo(['x', 2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n, 1.5])).toEqual([
      'x',
      2n ** 63n - 1n,
      -(2n ** 63n),
      9007199254740993n,
      1.5,
    ]);
    await expect(c.getSchema('nope')).rejects.toMatchObject({ error: 'unknown database' });
  });

  it('transact: results per op, a failing op padded with null, the extra commit-error element', async () => {
    const c = await connect(remote());
    const ok = await c.transact(NB, [insertSwitch(ls('t1')), { op: 'comment', comment: 'h1 test' }]);
    expect(ok).toHaveLength(2);
    expect(ok[0]).toEqual({ uuid: ['uuid', expect.stringMatching(UUID_RE)] });
    expect(ok[1]).toEqual({});

    const failing = await c.transact(NB, [
      insertSwitch(ls('t2')),
      {
        op: 'wait',
        table: 'Logical_Switch',
        where: [['name', '==', ls('t1')]],
        columns: ['name'],
        until: '==',
        rows: [{ name: 'someone-else' }],
        timeout: 0,
      },
      insertSwitch(ls('t3')),
    ]);
    expect(failing).toHaveLength(3);
    expect(failing[1]).toMatchObject({ error: 'timed out' });
    expect(failing[2]).toBeNull();

    // all ops succeed, the commit fails: one extra element carries the error
    const dangling = await c.transact(NB, [
      insertSwitch(ls('t4'), { ports: ['uuid', '11111111-2222-3333-4444-555555555555'] }),
    ]);
    expect(dangling).toHaveLength(2);
    expect(dangling[1]).toMatchObject({ error: 'referential integrity violation' });

    const dupIndex = await c.transact(NB, [
      { op: 'insert', table: 'Port_Group', row: { name: ls('pg') } },
      { op: 'insert', table: 'Port_Group', row: { name: ls('pg') } },
    ]);
    expect(dupIndex).toHaveLength(3);
    expect(dupIndex[2]).toMatchObject({ error: 'constraint violation' });

    const sel = (await c.transact(NB, [
      { op: 'select', table: 'Logical_Switch', where: [['name', 'includes', ls('t1')]], columns: ['name'] },
      { op: 'select', table: 'Logical_Switch', where: [['name', '==', ls('t2')]], columns: ['name'] },
    ])) as { rows: unknown[] }[];
    expect(sel[0]!.rows).toEqual([{ name: ls('t1') }]);
    expect(sel[1]!.rows).toEqual([]); // the failed transaction left nothing behind
  });

  it('monitor (v1): initial rows, then update notifications routed to the handler', async () => {
    const c = await connect(remote());
    await c.transact(NB, [insertSwitch(ls('m1'))]);
    const rec = recorder();
    const initial = await c.monitor(
      NB,
      ['v1', transport],
      { Logical_Switch: { columns: ['name'] } },
      { handler: rec.handler },
    );
    expect(Object.values(rowsOf(initial, 'Logical_Switch')).map((u) => u.new)).toContainEqual({
      name: ls('m1'),
    });
    const events: unknown[] = [];
    c.on('update', (id) => events.push(id));
    const [ins] = (await c.transact(NB, [insertSwitch(ls('m2'))])) as { uuid: [string, string] }[];
    // the update caused by our transaction arrived before the transaction's reply
    expect(rec.seen).toHaveLength(1);
    const n = rec.seen[0]!;
    expect(n.method).toBe('update');
    expect(n.monitorId).toEqual(['v1', transport]);
    expect(rowsOf((n as { updates: TableUpdates }).updates, 'Logical_Switch')[ins!.uuid[1]]).toEqual({
      new: { name: ls('m2') },
    });
    expect(events).toEqual([['v1', transport]]);

    await c.monitorCancel(['v1', transport]);
    await c.transact(NB, [insertSwitch(ls('m3'))]);
    await c.echo(); // a round trip after the write: any update would have come before this reply
    expect(rec.seen).toHaveLength(1);
    await expect(c.monitorCancel(['v1', transport])).rejects.toMatchObject({ error: 'unknown monitor' });
  });

  it('monitor_cond: initial rows in update2 format, conditions, update2 notifications', async () => {
    const c = await connect(remote());
    await c.transact(NB, [insertSwitch(ls('c1')), insertSwitch(ls('c2'))]);
    const rec = recorder();
    const initial = await c.monitorCond(
      NB,
      'cond',
      { Logical_Switch: [{ columns: ['name', 'other_config'], where: [['name', '==', ls('c1')]] }] },
      { handler: rec.handler },
    );
    expect(Object.values(rowsOf(initial, 'Logical_Switch'))).toEqual([{ initial: { name: ls('c1') } }]);
    await c.transact(NB, [
      {
        op: 'update',
        table: 'Logical_Switch',
        where: [['name', '==', ls('c1')]],
        row: { other_config: ['map', [['k', 'v']]] },
      },
      {
        op: 'update',
        table: 'Logical_Switch',
        where: [['name', '==', ls('c2')]],
        row: { other_config: ['map', [['k', 'v']]] },
      },
    ]);
    expect(rec.seen).toHaveLength(1);
    expect(rec.seen[0]!.method).toBe('update2');
    expect(
      Object.values(rowsOf((rec.seen[0] as { updates: TableUpdates }).updates, 'Logical_Switch')),
    ).toEqual([{ modify: { other_config: ['map', [['k', 'v']]] } }]);
  });

  it('monitor_cond_change moves rows in and out of the monitor, before its reply, under the new id', async () => {
    const c = await connect(remote());
    await c.transact(NB, [insertSwitch(ls('x1')), insertSwitch(ls('x2'))]);
    const rec = recorder();
    await c.monitorCond(
      NB,
      'old',
      { Logical_Switch: [{ columns: ['name'], where: [['name', '==', ls('x1')]] }] },
      {
        handler: rec.handler,
      },
    );
    await c.monitorCondChange('old', 'new', { Logical_Switch: [{ where: [['name', '==', ls('x2')]] }] });
    expect(rec.seen).toHaveLength(1);
    const n = rec.seen[0] as { method: string; monitorId: unknown; updates: TableUpdates };
    expect(n.method).toBe('update2');
    expect(n.monitorId).toBe('new');
    const changes = Object.values(rowsOf(n.updates, 'Logical_Switch'));
    expect(changes).toContainEqual({ delete: null });
    expect(changes).toContainEqual({ insert: { name: ls('x2') } });
    // later updates reach the same handler under the new id
    await c.transact(NB, [
      { op: 'update', table: 'Logical_Switch', where: [['name', '==', ls('x2')]], row: { name: ls('x2b') } },
    ]);
    expect(rec.seen).toHaveLength(2);
    expect(rec.seen[1]!.monitorId).toBe('new');
    await expect(c.monitorCondChange('old', 'newer', {})).rejects.toBeInstanceOf(OvsdbRpcError);
  });

  it('monitor_cond_since on a standalone server: found=false, zero last-txn-id, update3 later', async () => {
    const c = await connect(remote());
    await c.transact(NB, [insertSwitch(ls('s1'))]);
    const rec = recorder();
    const r = await c.monitorCondSince(NB, 'since', { Logical_Switch: [{ columns: ['name'] }] }, ZERO_UUID, {
      handler: rec.handler,
    });
    expect(r.found).toBe(false);
    expect(r.lastTxnId).toBe(ZERO_UUID);
    expect(Object.values(rowsOf(r.updates, 'Logical_Switch'))).toContainEqual({
      initial: { name: ls('s1') },
    });
    await c.transact(NB, [insertSwitch(ls('s2'))]);
    expect(rec.seen).toHaveLength(1);
    expect(rec.seen[0]).toMatchObject({ method: 'update3', monitorId: 'since', lastTxnId: ZERO_UUID });
    // an unknown (random) last-txn-id is simply not found
    const r2 = await c.monitorCondSince(
      NB,
      'since2',
      { Logical_Switch: [{ columns: ['name'] }] },
      '3c0d4a4b-6a9c-4c51-8f9e-0e1e7c6f1a2b',
    );
    expect(r2.found).toBe(false);
  });

  it('monitorBest picks monitor_cond_since on a real server', async () => {
    const c = await connect(remote());
    const r = await c.monitorBest(NB, 'best', { NB_Global: [{ columns: ['connections'] }] });
    expect(r.method).toBe('monitor_cond_since');
    expect(r.found).toBe(false);
    expect(Object.keys(rowsOf(r.updates, 'NB_Global'))).toHaveLength(1);
  });

  it('refuses a monitor id already in use on the connection, and the server refuses duplicates too', async () => {
    const c = await connect(remote());
    const rec = recorder();
    await c.monitorCond(NB, 'dup', { NB_Global: [{ columns: [] }] }, { handler: rec.handler });
    await expect(c.monitorCond(NB, 'dup', { NB_Global: [{}] }, { handler: rec.handler })).rejects.toThrow(
      /already in use/,
    );
    await expect(c.monitorCond(NB, 'dup', { NB_Global: [{}] })).rejects.toMatchObject({
      error: 'syntax error',
      details: 'duplicate monitor ID',
    });
  });

  it('lock, steal and unlock between two clients, with locked and stolen notifications', async () => {
    const a = await connect(remote());
    const b = await connect(remote());
    const lock = `${transport}_lock`; // lock names must be <id>s
    expect(await a.lock(lock)).toEqual({ locked: true });
    const bLocked = new Promise<string>((r) => b.once('locked', r));
    expect(await b.lock(lock)).toEqual({ locked: false });
    // b waits for the lock; a releases it, so b gets "locked"
    await a.unlock(lock);
    expect(await bLocked).toBe(lock);
    // a steals it back: b gets "stolen"
    const bStolen = new Promise<string>((r) => b.once('stolen', r));
    expect(await a.steal(lock)).toEqual({ locked: true });
    expect(await bStolen).toBe(lock);
    // the lock is honoured by the assert op
    const r = await b.transact(NB, [{ op: 'assert', lock }]);
    expect(r[0]).toMatchObject({ error: 'not owner' });
    await b.unlock(lock);
    await a.unlock(lock);
  });

  it('cancel: aborting a blocked transaction rejects it locally and tells the server', async () => {
    const c = await connect(remote());
    const ac = new AbortController();
    const sent = c.transactRequest(
      NB,
      [
        {
          op: 'wait',
          table: 'Logical_Switch',
          where: [['name', '==', ls('never')]],
          columns: ['name'],
          until: '!=',
          rows: [],
          timeout: 60_000,
        },
      ],
      { signal: ac.signal, timeoutMs: 0 },
    );
    expect(typeof sent.id).toBe('number');
    ac.abort();
    await expect(sent.result).rejects.toThrow(/transact aborted/);
    // the session is unharmed and the server keeps answering
    expect(await c.echo(['still here'])).toEqual(['still here']);
    c.cancel(12345); // cancelling an unknown id is harmless
    expect(await c.listDbs()).toContain(NB);
  });
});

describe('OvsdbClient against the server (transport independent)', () => {
  it('set_db_change_aware: removing the database sends monitor_canceled instead of disconnecting', async () => {
    const dir = `${tmp.dir}/dca`;
    const srv = await startOvsdbServer({ dir, name: 'dca' });
    try {
      const c = await connect(srv.unix);
      await c.setDbChangeAware(true);
      const rec = recorder();
      await c.monitorCond(NB, { any: ['json', 1] }, { NB_Global: [{}] }, { handler: rec.handler });
      const canceled = new Promise<unknown>((r) => c.once('monitor_canceled', r));
      await run('ovs-appctl', ['-t', srv.ctl, 'ovsdb-server/remove-db', NB]);
      expect(await canceled).toEqual({ any: ['json', 1] });
      expect(rec.seen).toEqual([{ method: 'monitor_canceled', monitorId: { any: ['json', 1] } }]);
      expect(c.isOpen).toBe(true);
      expect(await c.listDbs()).toEqual(['_Server']);
      // the id is free again on our side
      c.setMonitorHandler({ any: ['json', 1] }, undefined);
    } finally {
      await srv.stop();
    }
  });

  it('a database change closes a client that is not db-change-aware; outstanding calls are rejected by name', async () => {
    const dir = `${tmp.dir}/dcb`;
    const srv = await startOvsdbServer({ dir, name: 'dcb' });
    try {
      const c = await connect(srv.unix);
      await c.monitorCond(NB, 'm', { NB_Global: [{}] });
      const closed = c.closed();
      const blocked = c.transact(
        NB,
        [
          {
            op: 'wait',
            table: 'NB_Global',
            where: [],
            columns: ['options'],
            until: '!=',
            rows: [{ options: ['map', []] }],
            timeout: 60_000,
          },
        ],
        { timeoutMs: 0 },
      );
      await run('ovs-appctl', ['-t', srv.ctl, 'ovsdb-server/remove-db', NB]);
      const reason = await closed;
      expect(reason).toBeInstanceOf(OvsdbConnectionClosedError);
      const err = await blocked.catch((e: unknown) => e);
      // either the server answered the blocked transaction before closing, or we reject it by name
      if (err instanceof Error) expect(err).toBeInstanceOf(OvsdbError);
      await expect(c.listDbs()).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
    } finally {
      await srv.stop();
    }
  });

  it('stays connected across idle periods by answering the server inactivity probe', async () => {
    // the listener made from the Connection row probes after 1 s of silence and drops the
    // client 1 s later if the echo goes unanswered; our own client-side probe is off
    const c = await connect(`tcp:127.0.0.1:${probePort}`);
    let echoes = 0;
    c.session.on('echo', () => echoes++);
    await new Promise((r) => setTimeout(r, 3_500));
    expect(echoes).toBeGreaterThanOrEqual(1);
    expect(c.isOpen).toBe(true);
    expect(await c.listDbs()).toContain(NB);

    // control: a raw socket that never answers the echo is dropped by the same server
    const raw = createConnection({ host: '127.0.0.1', port: probePort });
    let sawEcho = false;
    raw.on('data', (d) => (sawEcho ||= d.toString().includes('"echo"')));
    await new Promise<void>((resolve) => raw.on('close', () => resolve()));
    expect(sawEcho).toBe(true);
  }, 20_000);

  it('works with the Open_vSwitch schema', async () => {
    const dir = `${tmp.dir}/vs`;
    const srv = await startOvsdbServer({ dir, name: 'vs', schema: VSWITCH_SCHEMA });
    try {
      const c = await connect(srv.tcp);
      expect((await c.listDbs()).sort()).toEqual(['Open_vSwitch', '_Server']);
      const schema = (await c.getSchema('Open_vSwitch')) as { tables: Record<string, unknown> };
      expect(Object.keys(schema.tables)).toContain('Bridge');
      const rec = recorder();
      const initial = await c.monitorCond(
        'Open_vSwitch',
        'ovs',
        { Bridge: [{ columns: ['name', 'datapath_type'] }] },
        {
          handler: rec.handler,
        },
      );
      expect(initial).toEqual({});
      const r = await c.transact('Open_vSwitch', [
        { op: 'insert', table: 'Open_vSwitch', row: { bridges: ['named-uuid', 'br'] } },
        {
          op: 'insert',
          table: 'Bridge',
          'uuid-name': 'br',
          row: { name: 'br-int', datapath_type: 'netdev' },
        },
      ]);
      expect(r).toHaveLength(2);
      expect(rec.seen).toHaveLength(1);
      expect(Object.values(rowsOf((rec.seen[0] as { updates: TableUpdates }).updates, 'Bridge'))).toEqual([
        { insert: { name: 'br-int', datapath_type: 'netdev' } },
      ]);
    } finally {
      await srv.stop();
    }
  });
});
