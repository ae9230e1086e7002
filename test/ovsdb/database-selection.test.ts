import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Backoff } from '../../src/ovsdb/database/backoff.js';
import {
  RemoteRotation,
  checkServerDb,
  checkServerDbWhileConnected,
  serverDbInfoFromRow,
  shuffled,
  type ServerDbInfo,
} from '../../src/ovsdb/database/server-selection.js';

const clustered = (over: Partial<ServerDbInfo> = {}): ServerDbInfo => ({
  name: 'OVN_Northbound',
  model: 'clustered',
  connected: true,
  leader: true,
  schema: '{"name":"OVN_Northbound"}',
  cid: '11111111-1111-1111-1111-111111111111',
  sid: '22222222-2222-2222-2222-222222222222',
  index: 10n,
  ...over,
});

describe('backoff', () => {
  it('keeps every jittered delay within [ceiling/2, ceiling] and the ceiling within max', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 60000 }),
        fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (initialMs, maxMs, randoms) => {
          let i = 0;
          const b = new Backoff({ initialMs, maxMs, random: () => randoms[i++ % randoms.length]! });
          const cap = Math.max(initialMs, maxMs);
          let prevCeiling = 0;
          for (let n = 0; n < randoms.length; n++) {
            const ceiling = b.ceilingMs;
            expect(ceiling).toBeLessThanOrEqual(cap);
            expect(ceiling).toBeGreaterThanOrEqual(prevCeiling);
            prevCeiling = ceiling;
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
            expect(d).toBeLessThanOrEqual(Math.ceil(ceiling));
          }
        },
      ),
    );
  });

  it('doubles from the initial delay up to the maximum and starts over after reset()', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.9999 });
    const delays = Array.from({ length: 6 }, () => b.next());
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('gives one zero-delay attempt per remote after a forced reconnect, then backs off again', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
    for (let i = 0; i < 5; i++) b.next();
    b.resetWithFreeAttempts(3);
    expect([b.next(), b.next(), b.next()]).toEqual([0, 0, 0]);
    expect(b.next()).toBe(75);
  });
});

describe('server selection (_Server.Database rules)', () => {
  const leaderOnly = { leaderOnly: true, minIndex: null };
  const anyMember = { leaderOnly: false, minIndex: null };

  it('accepts the connected leader of a clustered database and records its index', () => {
    expect(checkServerDb(clustered(), leaderOnly)).toEqual({ accept: true, minIndex: 10n });
  });

  it('rejects a clustered member whose schema is empty (not joined yet)', () => {
    const v = checkServerDb(clustered({ schema: '' }), anyMember);
    expect(v.accept).toBe(false);
    expect(!v.accept && v.reason).toMatch(/not joined/);
  });

  it('rejects a clustered member that is not connected to its cluster', () => {
    const v = checkServerDb(clustered({ connected: false }), anyMember);
    expect(!v.accept && v.reason).toMatch(/not connected/);
  });

  it('rejects a follower when leader-only, accepts it otherwise', () => {
    const v = checkServerDb(clustered({ leader: false }), leaderOnly);
    expect(!v.accept && v.reason).toMatch(/not the cluster leader/);
    expect(checkServerDb(clustered({ leader: false }), anyMember).accept).toBe(true);
  });

  it('rejects a member whose index is older than the highest index already seen', () => {
    const v = checkServerDb(clustered({ index: 9n }), { leaderOnly: false, minIndex: 10n });
    expect(!v.accept && v.reason).toMatch(/stale/);
    expect(checkServerDb(clustered({ index: 10n }), { leaderOnly: false, minIndex: 10n })).toEqual({
      accept: true,
      minIndex: 10n,
    });
    expect(checkServerDb(clustered({ index: 12n }), { leaderOnly: false, minIndex: 10n })).toEqual({
      accept: true,
      minIndex: 12n,
    });
  });

  it('never accepts a relay for a leader-only client; otherwise needs schema and connection', () => {
    const relay = clustered({ model: 'relay', leader: false, index: null });
    expect(checkServerDb(relay, leaderOnly).accept).toBe(false);
    expect(checkServerDb({ ...relay, leader: true }, leaderOnly).accept).toBe(false);
    expect(checkServerDb(relay, anyMember).accept).toBe(true);
    expect(checkServerDb({ ...relay, schema: '' }, anyMember).accept).toBe(false);
    expect(checkServerDb({ ...relay, connected: false }, anyMember).accept).toBe(false);
  });

  it('accepts a standalone database even when leader-only, and rejects a server without the database', () => {
    const standalone = clustered({ model: 'standalone', leader: true, index: null, cid: null, sid: null });
    expect(checkServerDb(standalone, leaderOnly).accept).toBe(true);
    expect(checkServerDb(undefined, leaderOnly).accept).toBe(false);
  });

  it('rejects a different cluster id when one is pinned', () => {
    expect(checkServerDb(clustered(), { ...leaderOnly, clusterId: '1111' }).accept).toBe(true);
    expect(checkServerDb(clustered(), { ...leaderOnly, clusterId: '9999' }).accept).toBe(false);
  });

  it('while connected: leadership or connection loss means move on; a growing index is recorded', () => {
    expect(
      checkServerDbWhileConnected(clustered({ leader: false }), { leaderOnly: true, minIndex: 10n }).accept,
    ).toBe(false);
    expect(
      checkServerDbWhileConnected(clustered({ connected: false }), { leaderOnly: false, minIndex: 10n })
        .accept,
    ).toBe(false);
    expect(
      checkServerDbWhileConnected(clustered({ index: 15n }), { leaderOnly: true, minIndex: 10n }),
    ).toEqual({
      accept: true,
      minIndex: 15n,
    });
  });

  it('reads a native _Server.Database row (optional columns as null or as arrays)', () => {
    const info = serverDbInfoFromRow({
      _uuid: '33333333-3333-3333-3333-333333333333',
      name: 'OVN_Northbound',
      model: 'clustered',
      connected: true,
      leader: false,
      schema: '{}',
      cid: ['11111111-1111-1111-1111-111111111111'],
      sid: null,
      index: 42,
    });
    expect(info).toMatchObject({ model: 'clustered', leader: false, schema: '{}', sid: null, index: 42n });
    expect(info.cid).toBe('11111111-1111-1111-1111-111111111111');
  });
});

describe('remote rotation', () => {
  it('shuffles into a permutation and cycles through every remote', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (remotes, r) => {
          expect([...shuffled(remotes, () => r)].sort()).toEqual([...remotes].sort());
          const rot = new RemoteRotation(remotes, () => r);
          const seen = Array.from({ length: remotes.length }, () => rot.next());
          expect([...seen].sort()).toEqual([...remotes].sort());
          expect(rot.next()).toBe(seen[0]);
        },
      ),
    );
  });
});
