/**
 * The NB view the controllers reconcile against: the live OVSDB cache (src/ovn/reconcile's
 * cacheNbView) plus a reverse index of the parent set columns kept up to date from the cache's
 * change events. Without it the reconciler would scan every switch's `ports` on each call to find
 * a port's parent, which is O(ports) per pod.
 */
import type { DatabaseCache } from '../ovsdb/cache/database-cache.js';
import type { CacheEvent } from '../ovsdb/cache/events.js';
import type { Row } from '../ovsdb/value.js';
import { OWNER_KEY } from '../ovn/names.js';
import { cacheNbView, type NbView } from '../ovn/reconcile/view.js';
import { identityOf, type DesiredRow, type NbTable } from '../ovn/intent/desired.js';

/** Parent set columns whose members the reconciler may need to find the parents of. */
const PARENT_SETS: ReadonlyArray<[table: string, column: string]> = [
  ['Logical_Switch', 'ports'],
  ['Logical_Router', 'ports'],
  ['Logical_Router', 'static_routes'],
  ['Logical_Router', 'nat'],
  ['Load_Balancer_Group', 'load_balancer'],
];

// A uuid set column's value is an array of uuid strings (the cache decodes it against the
// schema); read in place, not copied: the LB groups' sets hold a member per service.
const NONE: readonly string[] = [];
const members = (row: Row | undefined, column: string): readonly string[] => {
  const v = row?.[column];
  return Array.isArray(v) ? (v as string[]) : NONE;
};

export interface LiveNbView extends NbView {
  referrers(table: string, column: string, uuid: string): string[];
  /** stops following the cache */
  detach(): void;
}

export function liveNbView(cache: DatabaseCache): LiveNbView {
  const base = cacheNbView(cache);
  // `${table}\0${column}` -> member uuid -> parent uuids
  const index = new Map<string, Map<string, Set<string>>>();
  const watched = new Map<string, string[]>();
  for (const [t, c] of PARENT_SETS) {
    if (!cache.hasTable(t)) continue;
    watched.set(t, [...(watched.get(t) ?? []), c]);
    index.set(`${t}\u0000${c}`, new Map());
  }
  const link = (table: string, column: string, parent: string, member: string, add: boolean) => {
    const idx = index.get(`${table}\u0000${column}`)!;
    let set = idx.get(member);
    if (add) {
      if (!set) idx.set(member, (set = new Set()));
      set.add(parent);
    } else if (set) {
      set.delete(parent);
      if (set.size === 0) idx.delete(member);
    }
  };
  for (const [t, cols] of watched) {
    for (const row of cache.table(t).rows())
      for (const c of cols) for (const m of members(row, c)) link(t, c, row._uuid, m, true);
  }
  const onChange = (events: CacheEvent[]) => {
    for (const ev of events) {
      const cols = watched.get(ev.table);
      if (!cols) continue;
      for (const c of cols) {
        if (ev.type === 'update' && !ev.changed.includes(c)) continue;
        const before = ev.type === 'insert' ? [] : members(ev.old, c);
        const after = ev.type === 'delete' ? [] : members(ev.new, c);
        const uuid = ev.type === 'insert' ? ev.new._uuid : ev.old._uuid;
        // An LB group holds one member per service: redoing every member on each change is
        // quadratic. The cache keeps a set's order (members removed in place, added at the end), so
        // one walk finds the few that changed; in any other order the walk still gives a correct
        // (if larger) remove-then-add.
        let i = 0;
        let j = 0;
        while (i < before.length && j < after.length) {
          if (before[i] === after[j]) j++;
          else link(ev.table, c, uuid, before[i]!, false);
          i++;
        }
        for (; i < before.length; i++) link(ev.table, c, uuid, before[i]!, false);
        for (; j < after.length; j++) link(ev.table, c, uuid, after[j]!, true);
      }
    }
  };
  cache.on('change', onChange);
  return {
    ...base,
    referrers: (table, column, uuid) => [...(index.get(`${table}\u0000${column}`)?.get(uuid) ?? [])],
    detach: () => {
      cache.off('change', onChange);
    },
  };
}

/**
 * A view in which an owner's rows are only those `desired` names: a reconcile through it updates
 * and creates those rows but removes none of the owner's others. master-init uses it to write the
 * master's switch without touching the gateway rows the same node owner has.
 */
export function partialOwnerView(view: NbView, desired: readonly DesiredRow[]): NbView {
  const keys = new Set(desired.map((r) => `${r.table}\u0000${r.key}`));
  const keyOf = (table: string, row: Row): string | undefined => {
    const id = identityOf(table as NbTable);
    if (id.kind === 'column') return typeof row.name === 'string' ? row.name : undefined;
    const ids = row.external_ids as Record<string, unknown> | undefined;
    const v = ids?.[id.key];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    rows: (t) => view.rows(t),
    get: (t, u) => view.get(t, u),
    byName: (t, n) => view.byName(t, n),
    byExternalId: (table, key, value) => {
      const rows = view.byExternalId(table, key, value);
      if (key !== OWNER_KEY) return rows;
      return rows.filter((r) => keys.has(`${table}\u0000${keyOf(table, r) ?? ''}`));
    },
    ...(view.referrers ? { referrers: view.referrers.bind(view) } : {}),
  };
}
