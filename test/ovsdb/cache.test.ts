import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DatabaseCache } from '../../src/ovsdb/cache/database-cache.js';
import type { CacheEvent } from '../../src/ovsdb/cache/events.js';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { NB_SCHEMA } from '../../src/runtime/ovsdb-server.js';

const schema = parseSchema(JSON.parse(readFileSync(NB_SCHEMA, 'utf8')));
const U = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const OWNER = 'k8s.ovn.org/owner';

function newCache() {
  const cache = new DatabaseCache(schema, {
    Logical_Switch: { indexes: [`external_ids:${OWNER}`, 'ports'] },
    Logical_Switch_Port: { indexes: [`external_ids:${OWNER}`] },
  });
  const events: CacheEvent[] = [];
  cache.on('change', (evs) => events.push(...evs));
  return { cache, events };
}

const emap = (o: Record<string, string>) => ['map', Object.entries(o)];

describe('cache: applying update2/update3 table-updates', () => {
  it('builds full rows from initial/insert, filling omitted columns with shared frozen defaults', () => {
    const { cache, events } = newCache();
    cache.applyUpdates(
      {
        Logical_Switch_Port: {
          [U(1)]: { initial: { name: 'p1', addresses: 'aa:bb:cc:dd:ee:01 10.0.0.1' } },
          [U(2)]: { insert: { name: 'p2', external_ids: emap({ [OWNER]: 'ns/pod2' }) } },
        },
      },
      2,
    );
    const p1 = cache.get('Logical_Switch_Port', U(1))!;
    const p2 = cache.get('Logical_Switch_Port', U(2))!;
    expect(p1).toMatchObject({
      _uuid: U(1),
      name: 'p1',
      addresses: ['aa:bb:cc:dd:ee:01 10.0.0.1'],
      type: '',
      up: null,
    });
    expect(p1.external_ids).toEqual({});
    // empty defaults are one shared instance, and rows cannot be mutated
    expect(p1.external_ids).toBe(p2.options);
    expect(p1.port_security).toBe(p2.port_security);
    expect(Object.isFrozen(p1)).toBe(true);
    expect(Object.keys(p1)).toEqual(Object.keys(p2));
    expect(events.map((e) => e.type)).toEqual(['insert', 'insert']);
    expect(cache.table('Logical_Switch_Port').lookupOne('name', 'p2')?._uuid).toBe(U(2));
    expect(
      cache
        .table('Logical_Switch_Port')
        .lookup(`external_ids:${OWNER}`, 'ns/pod2')
        .map((r) => r._uuid),
    ).toEqual([U(2)]);
  });

  it('applies modify diffs (scalar, set symmetric difference, map keys) with old and new rows', () => {
    const { cache, events } = newCache();
    cache.applyUpdates(
      {
        Logical_Switch: {
          [U(10)]: {
            insert: {
              name: 'sw',
              ports: [
                'set',
                [
                  ['uuid', U(1)],
                  ['uuid', U(2)],
                ],
              ],
              external_ids: emap({ a: '1', b: '2', [OWNER]: 'x' }),
            },
          },
        },
      },
      2,
    );
    events.length = 0;
    cache.applyUpdates(
      {
        Logical_Switch: {
          [U(10)]: {
            modify: {
              name: 'sw2',
              ports: [
                'set',
                [
                  ['uuid', U(2)],
                  ['uuid', U(3)],
                ],
              ],
              external_ids: emap({ a: '1', b: '3', [OWNER]: 'y', c: '4' }),
            },
          },
        },
      },
      2,
    );
    expect(events).toHaveLength(1);
    const ev = events[0]!;
    expect(ev.type).toBe('update');
    if (ev.type !== 'update') return;
    expect(ev.old.name).toBe('sw');
    expect(ev.new.name).toBe('sw2');
    expect([...(ev.new.ports as string[])].sort()).toEqual([U(1), U(3)]);
    expect(ev.new.external_ids).toEqual({ b: '3', [OWNER]: 'y', c: '4' });
    expect(ev.old.external_ids).toEqual({ a: '1', b: '2', [OWNER]: 'x' });
    expect([...ev.changed].sort()).toEqual(['external_ids', 'name', 'ports']);
    const ls = cache.table('Logical_Switch');
    expect(ls.lookup(`external_ids:${OWNER}`, 'x')).toEqual([]);
    expect(ls.lookup(`external_ids:${OWNER}`, 'y').map((r) => r.name)).toEqual(['sw2']);
    // a non-unique index on a set column answers "which switch holds this port"
    expect(ls.lookup('ports', U(3)).map((r) => r.name)).toEqual(['sw2']);
    expect(ls.lookup('ports', U(2))).toEqual([]);
  });

  it('deletes rows with the old row in the event and out of every index', () => {
    const { cache, events } = newCache();
    cache.applyUpdates({ Logical_Switch_Port: { [U(1)]: { insert: { name: 'p1' } } } }, 2);
    cache.applyUpdates({ Logical_Switch_Port: { [U(1)]: { delete: null } } }, 2);
    expect(events.map((e) => e.type)).toEqual(['insert', 'delete']);
    expect((events[1] as Extract<CacheEvent, { type: 'delete' }>).old.name).toBe('p1');
    expect(cache.table('Logical_Switch_Port').lookup('name', 'p1')).toEqual([]);
    expect(cache.table('Logical_Switch_Port').size).toBe(0);
  });

  it('applies v1 updates (monitor): insert, modify with partial old, delete', () => {
    const { cache, events } = newCache();
    cache.applyUpdates({ Logical_Switch_Port: { [U(1)]: { new: { name: 'p1', type: '' } } } }, 1);
    cache.applyUpdates(
      { Logical_Switch_Port: { [U(1)]: { old: { type: '' }, new: { name: 'p1', type: 'router' } } } },
      1,
    );
    cache.applyUpdates({ Logical_Switch_Port: { [U(1)]: { old: { name: 'p1', type: 'router' } } } }, 1);
    expect(events.map((e) => e.type)).toEqual(['insert', 'update', 'delete']);
    const upd = events[1] as Extract<CacheEvent, { type: 'update' }>;
    expect([upd.old.type, upd.new.type, upd.changed]).toEqual(['', 'router', ['type']]);
  });

  it('never reports a uniqueness clash for rows swapped inside one notification, but reports a real one', () => {
    const { cache } = newCache();
    cache.applyUpdates(
      { Logical_Switch_Port: { [U(1)]: { insert: { name: 'a' } }, [U(2)]: { insert: { name: 'b' } } } },
      2,
    );
    // U(1) takes "b" before U(2) gives it up: the order inside a notification is undefined
    const swap = cache.applyUpdates(
      { Logical_Switch_Port: { [U(1)]: { modify: { name: 'b' } }, [U(2)]: { modify: { name: 'a' } } } },
      2,
    );
    expect(swap.problems).toEqual([]);
    const t = cache.table('Logical_Switch_Port');
    expect(t.lookupOne('name', 'a')?._uuid).toBe(U(2));
    expect(t.lookupOne('name', 'b')?._uuid).toBe(U(1));
    const clash = cache.applyUpdates({ Logical_Switch_Port: { [U(3)]: { insert: { name: 'a' } } } }, 2);
    expect(clash.problems).toHaveLength(1);
    expect(clash.problems[0]!.message).toMatch(/unique index Logical_Switch_Port\(name\)/);
  });

  it('reports modify/delete of an unknown row as a problem instead of throwing', () => {
    const { cache, events } = newCache();
    const r = cache.applyUpdates(
      { Logical_Switch_Port: { [U(9)]: { modify: { name: 'x' } }, [U(8)]: { delete: null } } },
      2,
    );
    expect(r.problems.map((p) => p.uuid)).toEqual([U(9), U(8)]);
    expect(events).toEqual([]);
  });

  it('a listener that throws does not break the replica', () => {
    const { cache } = newCache();
    const seen: unknown[] = [];
    cache.onListenerError = (err) => seen.push(err);
    cache.on('insert', () => {
      throw new Error('boom');
    });
    cache.applyUpdates({ Logical_Switch_Port: { [U(1)]: { insert: { name: 'p1' } } } }, 2);
    expect(cache.table('Logical_Switch_Port').size).toBe(1);
    expect(seen).toHaveLength(1);
  });
});

describe('cache: resync after a full re-dump', () => {
  it('emits only the real differences and keeps unchanged rows as they were', () => {
    const { cache, events } = newCache();
    cache.applyUpdates(
      {
        Logical_Switch_Port: {
          [U(1)]: { initial: { name: 'same', external_ids: emap({ k: 'v' }) } },
          [U(2)]: { initial: { name: 'changes', tag_request: 5 } },
          [U(3)]: { initial: { name: 'goes' } },
        },
      },
      2,
    );
    const same = cache.get('Logical_Switch_Port', U(1));
    events.length = 0;
    const r = cache.resync(
      {
        Logical_Switch_Port: {
          [U(1)]: { initial: { name: 'same', external_ids: emap({ k: 'v' }) } },
          [U(2)]: { initial: { name: 'changes', tag_request: 6 } },
          [U(4)]: { initial: { name: 'comes' } },
        },
      },
      2,
    );
    expect(r.problems).toEqual([]);
    const summary = events.map((e) => `${e.type}:${(e.type === 'delete' ? e.old : e.new).name}`).sort();
    expect(summary).toEqual(['delete:goes', 'insert:comes', 'update:changes']);
    const upd = events.find((e) => e.type === 'update') as Extract<CacheEvent, { type: 'update' }>;
    expect([upd.old.tag_request, upd.new.tag_request, upd.changed]).toEqual([5, 6, ['tag_request']]);
    expect(cache.get('Logical_Switch_Port', U(1))).toBe(same);
    expect(cache.table('Logical_Switch_Port').lookup('name', 'goes')).toEqual([]);
    expect(cache.table('Logical_Switch_Port').lookupOne('name', 'comes')?._uuid).toBe(U(4));
  });

  it('property: any sequence of row changes, then a resync from the true state, emits nothing', () => {
    type Op = { kind: 'put' | 'del'; id: number; name: string; owner: string | null; ports: number[] };
    const op = fc.record({
      kind: fc.constantFrom('put', 'del') as fc.Arbitrary<'put' | 'del'>,
      id: fc.integer({ min: 1, max: 8 }),
      name: fc.constantFrom('a', 'b', 'c', 'd'),
      owner: fc.option(fc.constantFrom('o1', 'o2'), { nil: null }),
      ports: fc.uniqueArray(fc.integer({ min: 100, max: 105 }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { maxLength: 12 }),
        (batches: Op[][]) => {
          const { cache } = newCache();
          const truth = new Map<string, { name: string; owner: string | null; ports: number[] }>();
          const wire = (v: { name: string; owner: string | null; ports: number[] }) => ({
            name: v.name,
            ports: ['set', v.ports.map((p) => ['uuid', U(p)])],
            external_ids: emap(v.owner ? { [OWNER]: v.owner } : {}),
          });
          for (const batch of batches) {
            const rows: Record<string, unknown> = {};
            const seenInBatch = new Set<string>();
            for (const o of batch) {
              const u = U(o.id);
              if (seenInBatch.has(u)) continue; // a notification names each row once
              seenInBatch.add(u);
              const had = truth.get(u);
              if (o.kind === 'del') {
                if (!had) continue;
                truth.delete(u);
                rows[u] = { delete: null };
              } else {
                const v = { name: o.name, owner: o.owner, ports: o.ports };
                truth.set(u, v);
                // the new value goes out as an insert or as a full-row replacement via insert
                rows[u] = had ? { modify: diffOf(had, v) } : { insert: wire(v) };
              }
            }
            cache.applyUpdates({ Logical_Switch: rows }, 2);
          }
          const t = cache.table('Logical_Switch');
          expect(t.size).toBe(truth.size);
          for (const [u, v] of truth) {
            const row = t.get(u)!;
            expect(row.name).toBe(v.name);
            expect([...(row.ports as string[])].sort()).toEqual(v.ports.map(U).sort());
            expect(row.external_ids).toEqual(v.owner ? { [OWNER]: v.owner } : {});
            if (v.owner) expect(t.lookup(`external_ids:${OWNER}`, v.owner).map((r) => r._uuid)).toContain(u);
          }
          for (const owner of ['o1', 'o2']) {
            const expected = [...truth]
              .filter(([, v]) => v.owner === owner)
              .map(([u]) => u)
              .sort();
            expect(
              t
                .lookup(`external_ids:${OWNER}`, owner)
                .map((r) => r._uuid)
                .sort(),
            ).toEqual(expected);
          }
          const snapshot: Record<string, unknown> = {};
          for (const [u, v] of truth) snapshot[u] = { initial: wire(v) };
          expect(cache.resync({ Logical_Switch: snapshot }, 2).events).toEqual([]);
          function diffOf(a: typeof truth extends Map<string, infer V> ? V : never, b: typeof a) {
            const d: Record<string, unknown> = {};
            if (a.name !== b.name) d.name = b.name;
            const sym = [
              ...a.ports.filter((p) => !b.ports.includes(p)),
              ...b.ports.filter((p) => !a.ports.includes(p)),
            ];
            if (sym.length) d.ports = ['set', sym.map((p) => ['uuid', U(p)])];
            if (a.owner !== b.owner) {
              // map diff: a removed key is sent with its old value, a changed or new key with its new value
              d.external_ids = emap(b.owner ? { [OWNER]: b.owner } : { [OWNER]: a.owner! });
            }
            return d;
          }
        },
      ),
    );
  });
});
