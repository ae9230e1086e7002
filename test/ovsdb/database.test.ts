import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheEvent } from '../../src/ovsdb/cache/events.js';
import { where } from '../../src/ovsdb/condition.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { TxnBuilder, retryTransaction } from '../../src/ovsdb/txn.js';
import type { NbTables } from '../../src/ovn/models/nb.js';
import { NB_SCHEMA, startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { run, waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

/** A temp dir made on first use, so that suites skipped by a filter leave nothing behind. */
function lazyTempDir(prefix: string): { readonly dir: string; cleanup(): void } {
  let made: ReturnType<typeof tempDir> | undefined;
  return {
    get dir() {
      return (made ??= tempDir(prefix)).dir;
    },
    cleanup: () => made?.cleanup(),
  };
}

const OWNER = 'k8s.ovn.org/owner';

function collect(db: OvsdbDatabase): CacheEvent[] {
  const events: CacheEvent[] = [];
  db.cache.on('change', (evs) => events.push(...evs));
  return events;
}

/** Timers and sockets alive in this process, by kind. */
function activeHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of process.getActiveResourcesInfo()) out[k] = (out[k] ?? 0) + 1;
  return out;
}

const nameOf = (e: CacheEvent) => (e.type === 'delete' ? e.old : e.new).name;

describe('OvsdbDatabase against a standalone NB server and ovn-nbctl', () => {
  const tmp = lazyTempDir('db-');
  let server: OvsdbServer;
  let db: OvsdbDatabase<NbTables> | undefined;
  const nbctl = (...args: string[]) => run('ovn-nbctl', [`--db=${server.unix}`, '--timeout=20', ...args]);

  beforeAll(async () => {
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb' });
    await nbctl('init');
    db = await OvsdbDatabase.open<NbTables>({
      remotes: server.tcp,
      database: 'OVN_Northbound',
      tables: {
        Logical_Switch: { columns: ['name', 'ports', 'external_ids'], indexes: [`external_ids:${OWNER}`] },
        Logical_Switch_Port: { indexes: [`external_ids:${OWNER}`] },
      },
      leaderOnly: true,
      backoff: { initialMs: 50, maxMs: 200 },
    });
  });
  afterAll(async () => {
    await db?.close();
    await server?.stop();
    tmp.cleanup();
  });

  it('emits insert/update/delete with old and new rows for writes made by ovn-nbctl', async () => {
    const events = collect(db!);
    await nbctl('ls-add', 'sw1', '--', 'set', 'Logical_Switch', 'sw1', `external_ids:"${OWNER}"=ns1`);
    await nbctl('lsp-add', 'sw1', 'p1', '--', 'lsp-set-addresses', 'p1', '00:00:00:00:00:01 10.0.0.1');
    await waitFor('port in cache', async () =>
      db!.cache.table('Logical_Switch_Port').lookupOne('name', 'p1'),
    );
    const sw = db!.cache.table('Logical_Switch').lookup(`external_ids:${OWNER}`, 'ns1');
    expect(sw.map((r) => r.name)).toEqual(['sw1']);
    const p1 = db!.cache.table('Logical_Switch_Port').lookupOne('name', 'p1')!;
    expect(sw[0]!.ports).toEqual([p1._uuid]);
    expect(p1.addresses).toEqual(['00:00:00:00:00:01 10.0.0.1']);

    events.length = 0;
    await nbctl('lsp-set-addresses', 'p1', '00:00:00:00:00:02 10.0.0.2');
    await waitFor('update event', async () => events.find((e) => e.type === 'update'));
    const upd = events.find((e) => e.type === 'update') as Extract<CacheEvent, { type: 'update' }>;
    expect(upd.table).toBe('Logical_Switch_Port');
    expect(upd.old.addresses).toEqual(['00:00:00:00:00:01 10.0.0.1']);
    expect(upd.new.addresses).toEqual(['00:00:00:00:00:02 10.0.0.2']);
    expect(upd.changed).toEqual(['addresses']);

    events.length = 0;
    await nbctl('lsp-del', 'p1');
    await waitFor('delete event', async () => events.find((e) => e.type === 'delete'));
    expect(events.filter((e) => e.type === 'delete').map(nameOf)).toEqual(['p1']);
    const swUpd = events.find((e) => e.type === 'update' && e.table === 'Logical_Switch') as Extract<
      CacheEvent,
      { type: 'update' }
    >;
    expect(swUpd.old.ports).toEqual([p1._uuid]);
    expect(swUpd.new.ports).toEqual([]);
    expect(db!.cache.table('Logical_Switch_Port').lookup('name', 'p1')).toEqual([]);
  });

  it('external_ids map-key index follows changes of the key', async () => {
    await nbctl('set', 'Logical_Switch', 'sw1', `external_ids:"${OWNER}"=ns2`);
    const t = db!.cache.table('Logical_Switch');
    await waitFor('re-keyed', async () => t.lookup(`external_ids:${OWNER}`, 'ns2').length === 1);
    expect(t.lookup(`external_ids:${OWNER}`, 'ns1')).toEqual([]);
    await nbctl('remove', 'Logical_Switch', 'sw1', 'external_ids', OWNER);
    await waitFor('un-keyed', async () => t.lookup(`external_ids:${OWNER}`, 'ns2').length === 0);
  });

  it('transact resolves after its own updates reached the cache', async () => {
    const raw = await db!.transact([
      { op: 'insert', table: 'Logical_Switch', row: { name: 'from-transact' }, 'uuid-name': 'n' },
    ]);
    const uuid = (raw[0] as { uuid: [string, string] }).uuid[1];
    expect(db!.cache.get('Logical_Switch', uuid)?.name).toBe('from-transact');
  });

  it('transact with a TxnBuilder returns its mapped results; transport() fits retryTransaction', async () => {
    const txn = new TxnBuilder(db!.schema);
    const name = txn.insert('Logical_Switch', { name: 'built', external_ids: { [OWNER]: 'ns9' } });
    const result = await db!.transact(txn);
    expect(result.ok).toBe(true);
    const uuid = result.uuidOf(name)!;
    expect(
      db!.cache
        .table('Logical_Switch')
        .lookup(`external_ids:${OWNER}`, 'ns9')
        .map((r) => r._uuid),
    ).toEqual([uuid]);
    const del = await retryTransaction(() => {
      const t = new TxnBuilder(db!.schema);
      t.delete('Logical_Switch', [where.uuid(uuid)]);
      return t;
    }, db!.transport());
    expect(del.results[0]).toEqual({ op: 'delete', count: 1 });
    expect(db!.cache.get('Logical_Switch', uuid)).toBeUndefined();
  });

  it('setCondition moves rows in and out of the cache with insert and delete events', async () => {
    await nbctl('ls-add', 'cond-a', '--', 'ls-add', 'cond-b');
    await waitFor(
      'both',
      async () => db!.cache.table('Logical_Switch').filter((r) => r.name === 'cond-b').length === 1,
    );
    const events = collect(db!);
    // a typed condition (condition.ts), encoded with the schema
    await db!.setCondition('Logical_Switch', [where.eq('name', 'cond-a')]);
    // the updates come before the reply: no waiting needed
    const names = db!.cache
      .table('Logical_Switch')
      .filter(() => true)
      .map((r) => r.name);
    expect(names).toEqual(['cond-a']);
    expect(events.every((e) => e.type === 'delete')).toBe(true);
    expect(events.map(nameOf).sort()).toEqual(['cond-b', 'from-transact', 'sw1']);
    events.length = 0;
    await db!.setCondition('Logical_Switch', undefined);
    expect(events.every((e) => e.type === 'insert')).toBe(true);
    expect(events.map(nameOf).sort()).toEqual(['cond-b', 'from-transact', 'sw1']);
    expect(db!.cache.table('Logical_Switch').size).toBe(4);
    // conditions in wire notation work too
    events.length = 0;
    await db!.setCondition('Logical_Switch', [['name', '!=', 'cond-a']]);
    expect(events.map((e) => `${e.type}:${nameOf(e)}`)).toEqual(['delete:cond-a']);
    await db!.setCondition('Logical_Switch', undefined);
  });

  it('locks: one holder at a time, handed over on release', async () => {
    const other = await OvsdbDatabase.open({
      remotes: server.unix,
      database: 'OVN_Northbound',
      tables: { NB_Global: { columns: ['name'] } },
    });
    try {
      const seen: string[] = [];
      db!.on('lock-acquired', (l) => seen.push(`a+${l}`));
      db!.on('lock-lost', (l, why) => seen.push(`a-${l}:${why}`));
      other.on('lock-acquired', (l) => seen.push(`b+${l}`));
      expect(await db!.acquireLock('leader')).toBe(true);
      expect(await other.acquireLock('leader')).toBe(false);
      expect(db!.hasLock('leader')).toBe(true);
      expect(other.hasLock('leader')).toBe(false);
      const handedOver = new Promise((r) => other.once('lock-acquired', r));
      await db!.releaseLock('leader');
      await handedOver;
      expect(other.hasLock('leader')).toBe(true);
      expect(seen).toEqual(['a+leader', 'a-leader:released', 'b+leader']);
      // steal it back: the holder is told it lost the lock
      other.on('lock-lost', (l, why) => seen.push(`b-${l}:${why}`));
      const stolen = new Promise((r) => other.once('lock-lost', r));
      expect(await db!.acquireLock('leader', { steal: true })).toBe(true);
      await stolen;
      expect(other.hasLock('leader')).toBe(false);
      expect(seen.slice(3).sort()).toEqual(['a+leader', 'b-leader:stolen']);
    } finally {
      await other.close();
    }
  });
});

describe('OvsdbDatabase across a standalone server restart', () => {
  const tmp = lazyTempDir('dbr-');
  let server: OvsdbServer | undefined;
  let db: OvsdbDatabase | undefined;
  afterAll(async () => {
    await db?.close();
    await server?.stop();
    tmp.cleanup();
  });

  it('resyncs from the new dump and emits only the real difference (one row written while away)', async () => {
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb' });
    const port = server.port;
    const remote = server.tcp;
    for (const n of ['keep1', 'keep2']) await run('ovn-nbctl', [`--db=${server.unix}`, 'ls-add', n]);
    db = await OvsdbDatabase.open({
      remotes: remote,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: {}, Logical_Switch_Port: {} },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    expect(db.monitorMethod).toBe('monitor_cond_since');
    expect(db.cache.table('Logical_Switch').size).toBe(2);
    expect(await db.acquireLock('owner')).toBe(true);
    const lockEvents: string[] = [];
    db.on('lock-lost', (_l, why) => lockEvents.push(`lost:${why}`));
    db.on('lock-acquired', () => lockEvents.push('acquired'));
    const events = collect(db);
    const disconnected = new Promise((r) => db!.once('disconnected', r));
    await server.stop();
    await disconnected;
    expect(db.isConsistent).toBe(false);
    // the server comes back on another port our handle does not know; write there meanwhile
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb', existingDb: true });
    await run('ovsdb-client', [
      'transact',
      server.unix,
      JSON.stringify([
        'OVN_Northbound',
        { op: 'insert', table: 'Logical_Switch', row: { name: 'while-away' } },
      ]),
    ]);
    await server.stop();
    const resynced = new Promise<{ changes: number }>((r) => db!.once('resynced', r));
    const connected = new Promise<{ resumed: boolean }>((r) => db!.once('connected', r));
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb', existingDb: true, port });
    expect((await connected).resumed).toBe(false);
    expect((await resynced).changes).toBe(1);
    await db.ready();
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('insert');
    expect(nameOf(events[0]!)).toBe('while-away');
    expect(db.cache.table('Logical_Switch').size).toBe(3);
    // the lock belonged to the old connection and is asked for again on the new one
    await waitFor('lock again', async () => db!.hasLock('owner'));
    expect(lockEvents).toEqual(['lost:disconnected', 'acquired']);
  });

  it('an online schema conversion (monitor_canceled) leads to a resync without spurious events', async () => {
    const events = collect(db!);
    const resynced = new Promise<{ changes: number }>((r) => db!.once('resynced', r));
    await run('ovsdb-client', ['convert', server!.unix, NB_SCHEMA]);
    expect((await resynced).changes).toBe(0);
    expect(events).toEqual([]);
    await db!.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'after-convert' } }]);
    expect(events.map((e) => `${e.type}:${nameOf(e)}`)).toEqual(['insert:after-convert']);
  });

  it('close() while the server is down leaves no timers or sockets behind', async () => {
    await db?.close();
    db = undefined;
    // let sockets and timers of earlier steps finish closing
    await new Promise((r) => setTimeout(r, 300));
    const before = activeHandles();
    const h = await OvsdbDatabase.open({
      remotes: server!.tcp,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: {} },
      backoff: { initialMs: 5000, maxMs: 5000 },
    });
    const down = new Promise((r) => h.once('disconnected', r));
    await server!.stop();
    server = undefined;
    await down;
    // the handle is now retrying with backoff; close must cancel it
    await new Promise((r) => setTimeout(r, 100));
    await h.close();
    await new Promise((r) => setImmediate(r));
    expect(activeHandles()).toEqual(before);
    await expect(h.ready()).rejects.toThrow(/closed/);
  });
});

describe('OvsdbDatabase under concurrent writes and forced reconnections', () => {
  const tmp = lazyTempDir('dbw-');
  let server: OvsdbServer | undefined;
  const handles: OvsdbDatabase[] = [];
  afterAll(async () => {
    for (const h of handles) await h.close();
    await server?.stop();
    tmp.cleanup();
  });

  it('events alone rebuild exactly the server state, across resyncs while rows keep changing', async () => {
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb' });
    const opts = {
      remotes: server.tcp,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name', 'external_ids'] } },
      backoff: { initialMs: 20, maxMs: 100 },
    };
    const writer = await OvsdbDatabase.open(opts);
    const reader = await OvsdbDatabase.open(opts);
    handles.push(writer, reader);
    // a replica built only from the reader's events
    const shadow = new Map<string, string>();
    reader.cache.on('change', (evs) => {
      for (const e of evs) {
        if (e.type === 'delete') {
          expect(shadow.has(e.old._uuid)).toBe(true);
          shadow.delete(e.old._uuid);
        } else {
          if (e.type === 'insert') expect(shadow.has(e.new._uuid)).toBe(false);
          shadow.set(e.new._uuid, `${e.new.name as string}:${JSON.stringify(e.new.external_ids)}`);
        }
      }
    });
    let resyncs = 0;
    reader.on('resynced', () => resyncs++);
    const writes = (async () => {
      for (let i = 0; i < 300; i++) {
        const name = `w${i}`;
        const ops = [
          { op: 'insert', table: 'Logical_Switch', row: { name, external_ids: ['map', [['gen', '0']]] } },
          {
            op: 'update',
            table: 'Logical_Switch',
            where: [['name', '==', `w${i - 1}`]],
            row: { external_ids: ['map', [['gen', '1']]] },
          },
          { op: 'delete', table: 'Logical_Switch', where: [['name', '==', `w${i - 20}`]] },
        ];
        // a transaction cut off by a dropped connection is not retried: it may or may not have
        // committed, and the comparison below holds either way
        await writer.transact(ops).catch(() => undefined);
      }
    })();
    // the server drops every client connection; both handles reconnect and resync
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 40));
      await run('ovs-appctl', ['-t', server.ctl, 'ovsdb-server/reconnect']);
    }
    await writes;
    await reader.ready();
    await waitFor('reader caught up', async () => {
      const dump = JSON.parse(
        await run('ovsdb-client', [
          'dump',
          '--format=json',
          server!.unix,
          'OVN_Northbound',
          'Logical_Switch',
          '_uuid',
        ]),
      ) as { data: [[string, string]][] };
      return dump.data.length === reader.cache.table('Logical_Switch').size;
    });
    expect(resyncs).toBeGreaterThan(1);
    const cached = new Map(
      [...reader.cache.table('Logical_Switch').rows()].map((r) => [
        r._uuid,
        `${r.name as string}:${JSON.stringify(r.external_ids)}`,
      ]),
    );
    expect(shadow).toEqual(cached);
    const dump = JSON.parse(
      await run('ovsdb-client', [
        'dump',
        '--format=json',
        server.unix,
        'OVN_Northbound',
        'Logical_Switch',
        '_uuid',
        'name',
      ]),
    ) as { headings: string[]; data: [[string, string], string][] };
    const iu = dump.headings.indexOf('_uuid');
    const iname = dump.headings.indexOf('name');
    expect(new Map(dump.data.map((d) => [(d[iu] as [string, string])[1], d[iname] as string]))).toEqual(
      new Map([...cached].map(([u, v]) => [u, v.split(':')[0]!])),
    );
  });
});
