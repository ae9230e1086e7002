/**
 * The live NB view's reverse index (member uuid -> parent rows) against a real DatabaseCache fed
 * with update2 set diffs and with whole-row version-1 updates in any order: after every change,
 * `referrers` must say exactly which parents hold a member, as a scan of the cache would.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatabaseCache } from '../../src/ovsdb/cache/database-cache.js';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { NB_SCHEMA } from '../../src/runtime/ovsdb-server.js';
import { liveNbView } from '../../src/watcher/nb-view.js';

const schema = parseSchema(JSON.parse(readFileSync(NB_SCHEMA, 'utf8')));
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const GROUPS = [uuid(1_000_001), uuid(1_000_002)];
const MEMBERS = Array.from({ length: 12 }, (_, i) => uuid(i + 1));

type Step =
  | { kind: 'diff'; group: number; toggle: number[] }
  | { kind: 'whole'; group: number; members: number[] }
  | { kind: 'delete'; group: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('diff' as const),
    group: fc.integer({ min: 0, max: 1 }),
    toggle: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('whole' as const),
    group: fc.integer({ min: 0, max: 1 }),
    members: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { maxLength: 12 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), group: fc.integer({ min: 0, max: 1 }) }),
);

describe('liveNbView reverse index', () => {
  it('answers referrers exactly as a scan of the cache does, whatever the order of set changes', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const cache = new DatabaseCache(schema, { Load_Balancer_Group: {} });
        const view = liveNbView(cache);
        const exists = [false, false];
        for (const s of steps) {
          const g = GROUPS[s.group]!;
          const set = (ms: number[]) => ['set', ms.map((m) => ['uuid', MEMBERS[m]!])];
          if (s.kind === 'delete') {
            if (!exists[s.group]) continue;
            cache.applyUpdates({ Load_Balancer_Group: { [g]: { delete: null } } }, 2);
            exists[s.group] = false;
          } else if (s.kind === 'whole') {
            // version 1 carries whole rows: any order, not the cache's own
            cache.applyUpdates(
              {
                Load_Balancer_Group: { [g]: { new: { name: `g${s.group}`, load_balancer: set(s.members) } } },
              },
              1,
            );
            exists[s.group] = true;
          } else if (!exists[s.group]) {
            cache.applyUpdates(
              {
                Load_Balancer_Group: {
                  [g]: { insert: { name: `g${s.group}`, load_balancer: set(s.toggle) } },
                },
              },
              2,
            );
            exists[s.group] = true;
          } else if (s.toggle.length > 0) {
            cache.applyUpdates(
              { Load_Balancer_Group: { [g]: { modify: { load_balancer: set(s.toggle) } } } },
              2,
            );
          }
          for (const m of MEMBERS) {
            const scanned = [...cache.table('Load_Balancer_Group').rows()]
              .filter((r) => (r.load_balancer as string[]).includes(m))
              .map((r) => r._uuid)
              .sort();
            expect(view.referrers('Load_Balancer_Group', 'load_balancer', m).sort()).toEqual(scanned);
          }
        }
        view.detach();
      }),
      { numRuns: 300 },
    );
  });
});
