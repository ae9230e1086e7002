import { afterAll, describe, expect, it } from 'vitest';
import type { CacheEvent } from '../../src/ovsdb/cache/events.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { startRaftCluster, type RaftCluster } from '../../src/runtime/ovsdb-server.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import {
  daemonEnv,
  freePort,
  isAlive,
  killPid,
  readPidfile,
  run,
  stopPid,
  waitFor,
} from '../../src/runtime/process.js';
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

const TOTAL = 1000;
const IN_FLIGHT = 4;

/** Inserts switch `name` unless it exists: the `wait` guard makes a retry after a lost reply harmless. */
function guardedInsert(name: string): unknown[] {
  return [
    {
      op: 'wait',
      table: 'Logical_Switch',
      where: [['name', '==', name]],
      columns: ['name'],
      until: '==',
      rows: [],
      timeout: 0,
    },
    { op: 'insert', table: 'Logical_Switch', row: { name } },
  ];
}

async function dumpSwitches(remotes: string): Promise<Map<string, string>> {
  const out = await run('ovsdb-client', [
    'dump',
    '--format=json',
    remotes,
    'OVN_Northbound',
    'Logical_Switch',
    '_uuid',
    'name',
  ]);
  type Dump = { headings: string[]; data: [[string, string], string][] };
  // one table prints as an object, several as an array
  const parsed = JSON.parse(out) as Dump | Dump[];
  const t = Array.isArray(parsed) ? parsed[0]! : parsed;
  const iu = t.headings.indexOf('_uuid');
  const iname = t.headings.indexOf('name');
  return new Map(t.data.map((row) => [(row[iu] as [string, string])[1], row[iname] as string]));
}

describe('OvsdbDatabase on a 3-member RAFT cluster', () => {
  const tmp = lazyTempDir('cl-');
  let cluster: RaftCluster | undefined;
  const handles: OvsdbDatabase[] = [];
  /** restarts members an earlier test killed, so that each test starts with 3 live members */
  /** waits until the handle uses the member that is the leader now; returns that member's index */
  async function onLeader(db: OvsdbDatabase): Promise<number> {
    return waitFor('the handle to be on the leader', async () => {
      const l = await cluster!.leader();
      return db.isConsistent && db.remote === cluster!.members[l]!.tcp ? l + 1 : undefined;
    }).then((l) => l - 1);
  }

  async function allMembersUp(): Promise<RaftCluster> {
    const c = cluster!;
    for (let i = 0; i < c.members.length; i++) if (!(await isAlive(c.members[i]!.pid))) await c.restart(i);
    return c;
  }
  afterAll(async () => {
    for (const h of handles) await h.close();
    await cluster?.stop();
    tmp.cleanup();
  });

  it('survives the leader being killed in the middle of 1,000 transactions: nothing acknowledged is lost', async () => {
    // a 2 s election timer keeps leadership from flapping on a loaded CI machine
    cluster = await startRaftCluster({ dir: tmp.dir, electionTimerMs: 2000 });
    const db = await OvsdbDatabase.open({
      remotes: cluster.remotes,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'] } },
      leaderOnly: true,
      backoff: { initialMs: 100, maxMs: 1000 },
      transactTimeoutMs: 30_000,
    });
    handles.push(db);
    await onLeader(db);
    const leaderChanges: string[] = [];
    db.on('leader-changed', (i) => leaderChanges.push(i.reason));
    db.on('disconnected', (i) => leaderChanges.push(i.reason));

    const acknowledged = new Set<string>();
    let retries = 0;
    let killed: Promise<void> | undefined;
    let leader = -1;
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        const name = `ls-${String(i).padStart(4, '0')}`;
        if (i === TOTAL / 2) {
          killed = cluster!.leader().then((l) => {
            leader = l;
            return killPid(cluster!.members[l]!.pid);
          });
        }
        for (let attempt = 0; ; attempt++) {
          try {
            const res = await db.transact(guardedInsert(name));
            const wait = res[0] as { error?: string };
            // "timed out" on the guard: an earlier attempt committed although its reply was lost
            if (wait.error && wait.error !== 'timed out') throw new Error(`${name}: ${JSON.stringify(res)}`);
            if (!wait.error && (res[1] as { error?: string }).error)
              throw new Error(`${name}: ${JSON.stringify(res)}`);
            acknowledged.add(name);
            break;
          } catch (err) {
            // an in-flight transaction whose connection died is not resent by the handle
            // (it may have committed): the guard makes this retry idempotent
            if (attempt >= 20) throw err;
            retries++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await killed;
    expect(acknowledged.size).toBe(TOTAL);

    // the handle moved to the new leader
    expect(await cluster.leader()).not.toBe(leader);
    await onLeader(db);
    expect(leaderChanges.length).toBeGreaterThan(0);

    const survivors = cluster.members
      .filter((_, i) => i !== leader)
      .map((m) => m.tcp)
      .join(',');
    const dumped = await dumpSwitches(survivors);
    const present = [...dumped.values()];
    for (const name of acknowledged) expect(present).toContain(name);
    // no duplicates despite retries
    expect(new Set(present).size).toBe(present.length);
    expect(present.length).toBe(TOTAL);
    // the cache equals the dump, uuid by uuid
    const cached = new Map(
      [...db.cache.table('Logical_Switch').rows()].map((r) => [r._uuid, r.name as string]),
    );
    expect(cached).toEqual(dumped);
    console.log(`leader ${leader} killed; ${retries} retried transactions; moved to ${db.remote}`);
  });

  it('resumes on a restarted follower with monitor_cond_since and emits only the real change', async () => {
    const c = await allMembersUp();
    const leader = await c.leader();
    const f = [0, 1, 2].find((i) => i !== leader)!;
    const follower = c.members[f]!;
    const db = await OvsdbDatabase.open({
      remotes: follower.tcp,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'] } },
      leaderOnly: false,
      backoff: { initialMs: 50, maxMs: 300 },
    });
    handles.push(db);
    expect(db.cache.table('Logical_Switch').size).toBe(TOTAL);
    const events: CacheEvent[] = [];
    db.cache.on('change', (evs) => events.push(...evs));
    const disconnected = new Promise((r) => db.once('disconnected', r));
    await follower.stop();
    await disconnected;

    const others = c.members
      .filter((_, i) => i !== f)
      .map((m) => m.tcp)
      .join(',');
    await run('ovn-nbctl', [`--db=${others}`, '--timeout=20', 'ls-add', 'while-follower-down']);
    const connected = new Promise<{ resumed: boolean }>((r) => db.once('connected', r));
    await c.restart(f);
    const info = await connected;

    await waitFor(
      'the new row',
      async () =>
        db.cache.table('Logical_Switch').filter((r) => r.name === 'while-follower-down').length === 1,
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('insert');
    console.log(`follower restart: resumed=${info.resumed}`);
    expect(info.resumed).toBe(true);
  });

  it('moves to the new leader when the leader hands off leadership without dying (_Server watch)', async () => {
    const c = await allMembersUp();
    const db = await OvsdbDatabase.open({
      remotes: c.remotes,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'] } },
      leaderOnly: true,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    handles.push(db);
    const leader = await onLeader(db);
    const events: CacheEvent[] = [];
    db.cache.on('change', (evs) => events.push(...evs));
    const lost = new Promise<{ reason: string }>((r) => db.once('leader-changed', r));
    const reconnected = new Promise<{ remote: string; resumed: boolean }>((r) => db.once('connected', r));
    await run('ovs-appctl', ['-t', c.members[leader]!.ctl, 'cluster/failure-test', 'transfer-leadership']);
    // the failure test only arms the transfer; a write makes the leader act on it
    await run('ovn-nbctl', [`--db=${c.remotes}`, '--timeout=20', 'ls-add', 'trigger-transfer']).catch(
      () => undefined,
    );
    expect((await lost).reason).toMatch(/leader/);
    const now = await reconnected;
    expect(now.remote).not.toBe(c.members[leader]!.tcp);
    await onLeader(db);
    await db.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'after-transfer' } }]);
    const names = events
      .filter((e) => e.type === 'insert')
      .map((e) => (e.type === 'insert' ? e.new.name : ''));
    expect(names).toContain('after-transfer');
    // nothing but the two inserts: the resume did not replay or drop anything
    expect(events.every((e) => e.type === 'insert')).toBe(true);
  });

  it('a relay is refused when leader-only and used otherwise', async () => {
    const c = await allMembersUp();
    const port = await freePort();
    const pidfile = join(tmp.dir, 'relay.pid');
    await run(
      'ovsdb-server',
      [
        `--remote=ptcp:${port}:127.0.0.1`,
        `--unixctl=${join(tmp.dir, 'relay.ctl')}`,
        `--pidfile=${pidfile}`,
        `--log-file=${join(tmp.dir, 'relay.log')}`,
        '-vconsole:off',
        '--detach',
        '--no-chdir',
        `relay:OVN_Northbound:${c.remotes}`,
      ],
      { env: daemonEnv(tmp.dir) },
    );
    const pid = await readPidfile(pidfile);
    try {
      const remote = `tcp:127.0.0.1:${port}`;
      await expect(
        OvsdbDatabase.open({
          remotes: remote,
          database: 'OVN_Northbound',
          tables: { Logical_Switch: { columns: ['name'] } },
          leaderOnly: true,
          openTimeoutMs: 1500,
          backoff: { initialMs: 50, maxMs: 200 },
        }),
      ).rejects.toThrow(/relay cannot serve a leader-only client/);
      const db = await OvsdbDatabase.open({
        remotes: remote,
        database: 'OVN_Northbound',
        tables: { Logical_Switch: { columns: ['name'] } },
        leaderOnly: false,
        backoff: { initialMs: 50, maxMs: 200 },
      });
      handles.push(db);
      expect(db.cache.table('Logical_Switch').filter((r) => r.name === 'after-transfer')).toHaveLength(1);
      // a write through the relay is forwarded to the leader and comes back as an update
      await db.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'via-relay' } }]);
      expect(db.cache.table('Logical_Switch').filter((r) => r.name === 'via-relay')).toHaveLength(1);
      await db.close();
    } finally {
      await stopPid(pid);
      expect(existsSync(pidfile)).toBe(false);
    }
  });

  it('a condition change in flight when the server dies ends with the cache matching the new condition', async () => {
    const c = await allMembersUp();
    const leader = await c.leader();
    const f = [0, 1, 2].find((i) => i !== leader)!;
    const db = await OvsdbDatabase.open({
      remotes: c.members[f]!.tcp,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'], where: [['name', '==', 'ls-0900']] } },
      leaderOnly: false,
      backoff: { initialMs: 50, maxMs: 300 },
    });
    handles.push(db);
    expect(db.lastTransactionId).not.toMatch(/^[0-]+$/);
    expect([...db.cache.table('Logical_Switch').rows()].map((r) => r.name)).toEqual(['ls-0900']);
    await db.setCondition('Logical_Switch', [['name', '==', 'ls-0001']]);
    expect([...db.cache.table('Logical_Switch').rows()].map((r) => r.name)).toEqual(['ls-0001']);
    const change = db.setCondition('Logical_Switch', [['name', '==', 'ls-0002']]);
    await killPid(c.members[f]!.pid);
    await c.restart(f);
    // resolves once the new condition is in force, on the new connection if need be
    await change;
    expect([...db.cache.table('Logical_Switch').rows()].map((r) => r.name)).toEqual(['ls-0002']);
  });
});
