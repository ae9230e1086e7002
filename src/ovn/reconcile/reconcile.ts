/**
 * Desired rows vs the NB view, scoped to the owners a call is authoritative for, out: the smallest
 * set of operations that makes NB match.
 *
 * - a desired row that does not exist is inserted under a named uuid; references to rows of the
 *   same batch use that name, and a child whose parent is inserted in the same batch goes straight
 *   into the parent's insert instead of a separate mutate;
 * - an existing row gets an update of exactly the managed columns that differ;
 * - membership in a shared parent set (a node switch's `ports`, an LB group's `load_balancer`) is
 *   kept with `mutate insert`/`delete` of single uuids, so owners never overwrite each other;
 * - rows owned by an owner in scope that are no longer desired are removed: root tables with a
 *   `delete`, the others by removing them from their parents (OVSDB garbage-collects them);
 * - inserts into tables without a unique index on the identity are guarded by a `wait` that fails
 *   the transaction if a row with that identity appeared meanwhile (idempotent creates);
 * - rows without our owner external_ids are never modified or deleted.
 */
import { valuesEqual } from '../../ovsdb/datum.js';
import type { Row, Value } from '../../ovsdb/value.js';
import { OWNER_KEY, ownerKeyString, ownerOf, type OwnerRef, type OwnerType } from '../names.js';
import {
  hasExternalIds,
  identityOf,
  isRootTable,
  type DesiredRow,
  type NbTable,
  type OwnedRows,
  type ParentLink,
  type RowRef,
} from '../intent/desired.js';
import { byUuid, type Mutation, type NbOperation } from './operations.js';
import type { NbView } from './view.js';

export class ReconcileInputError extends Error {
  override name = 'ReconcileInputError';
}

export interface ReconcileOptions {
  /** owners whose rows this call is authoritative for: their rows that are not desired are removed */
  owners: readonly OwnerRef[];
  /** prefix of the named uuids; make it unique when several results share one transaction */
  uuidNamePrefix?: string;
  /** guard inserts into tables without a unique index with `wait` (default true) */
  guards?: boolean;
}

export interface SkippedRow {
  table: NbTable;
  key: string;
  reason: string;
}

export interface ReconcileResult {
  operations: NbOperation[];
  /** desired rows that could not be written (a referenced row is missing, or the identity is taken by a row we do not own) */
  skipped: SkippedRow[];
  /** named uuid of every inserted row, for mapping insert results back to rows */
  inserted: Map<string, RowRef>;
  /** rows removed (deleted or unlinked from their parents) */
  removed: { table: NbTable; uuid: string }[];
}

/** Every table the reconciler manages, and the parent set columns that hold non-root rows. */
export const MANAGED_TABLES: readonly NbTable[] = [
  'Logical_Switch',
  'Logical_Switch_Port',
  'Logical_Router',
  'Logical_Router_Port',
  'Logical_Router_Static_Route',
  'NAT',
  'Load_Balancer',
  'Load_Balancer_Group',
];
/** Tables each kind of owner can have rows in (the sweep of a pod looks at ports only). */
export const OWNED_TABLES: Record<OwnerType, readonly NbTable[]> = {
  Cluster: MANAGED_TABLES.filter(hasExternalIds),
  Node: MANAGED_TABLES.filter(hasExternalIds),
  Pod: ['Logical_Switch_Port'],
  Service: ['Load_Balancer'],
  Network: ['Logical_Switch', 'Logical_Switch_Port', 'Logical_Router', 'Logical_Router_Port'],
  PodNetwork: ['Logical_Switch_Port'],
};
const PARENT_COLUMNS: Partial<Record<NbTable, { table: NbTable; column: string }[]>> = {
  Logical_Switch_Port: [{ table: 'Logical_Switch', column: 'ports' }],
  Logical_Router_Port: [{ table: 'Logical_Router', column: 'ports' }],
  Logical_Router_Static_Route: [{ table: 'Logical_Router', column: 'static_routes' }],
  NAT: [{ table: 'Logical_Router', column: 'nat' }],
};
/** tables whose identity has a unique index in the NB schema: a racing duplicate insert fails by itself */
const UNIQUE_IDENTITY: ReadonlySet<NbTable> = new Set([
  'Logical_Switch_Port',
  'Logical_Router_Port',
  'Load_Balancer_Group',
]);

/** from this many rows to unlink on, one scan of the parents' sets beats one server-side search per row */
const REVERSE_INDEX_THRESHOLD = 16;

const rowKey = (table: string, key: string): string => `${table}\u0000${key}`;
const sameOwner = (a: OwnerRef | undefined, b: OwnerRef | undefined): boolean =>
  !!a && !!b && a.type === b.type && a.id === b.id;

interface Plan {
  row: DesiredRow;
  owner: OwnerRef | undefined;
  existing: Row | undefined;
  /** real uuid of the existing row, or the named uuid of the insert */
  uuid: string;
  skip?: string;
}

function findByIdentity(view: NbView, table: NbTable, key: string): Row[] {
  const id = identityOf(table);
  return id.kind === 'column' ? view.byName(table, key) : view.byExternalId(table, id.key, key);
}

export function reconcile(
  view: NbView,
  desired: readonly DesiredRow[],
  opts: ReconcileOptions,
): ReconcileResult {
  const prefix = opts.uuidNamePrefix ?? 'row';
  const guards = opts.guards ?? true;
  const scope = new Set(opts.owners.map(ownerKeyString));
  const plans = new Map<string, Plan>();
  const claimed = new Set<string>(); // uuids of existing rows some desired row maps to
  const skipped: SkippedRow[] = [];
  let named = 0;

  // 1. match every desired row with its existing row (or plan an insert)
  for (const row of desired) {
    const k = rowKey(row.table, row.key);
    if (plans.has(k)) throw new ReconcileInputError(`desired row ${row.table} ${row.key} appears twice`);
    let owner: OwnerRef | undefined;
    if (hasExternalIds(row.table)) {
      owner = ownerOf(row.columns.external_ids);
      if (!owner)
        throw new ReconcileInputError(`desired row ${row.table} ${row.key} has no owner external_ids`);
      if (!scope.has(ownerKeyString(owner)))
        throw new ReconcileInputError(
          `desired row ${row.table} ${row.key} belongs to ${ownerKeyString(owner)}, not in scope`,
        );
    }
    const found = findByIdentity(view, row.table, row.key);
    const mine = hasExternalIds(row.table)
      ? found.filter((r) => sameOwner(ownerOf(r.external_ids), owner))
      : found;
    const plan: Plan = { row, owner, existing: mine[0], uuid: mine[0]?._uuid ?? `${prefix}${named++}` };
    if (!plan.existing && found.length > 0) {
      const holder = ownerOf(found[0]!.external_ids);
      plan.skip = `${row.table} ${row.key} exists and belongs to ${holder ? ownerKeyString(holder) : 'someone else'}`;
    }
    if (plan.existing) claimed.add(plan.existing._uuid);
    plans.set(k, plan);
  }

  // 2. owned rows of the owners in scope that nothing desires any more
  const doomed = new Map<string, { table: NbTable; row: Row }>();
  for (const owner of opts.owners) {
    for (const table of OWNED_TABLES[owner.type]) {
      for (const r of view.byExternalId(table, OWNER_KEY, owner.id)) {
        if (claimed.has(r._uuid) || !sameOwner(ownerOf(r.external_ids), owner)) continue;
        doomed.set(r._uuid, { table, row: r });
      }
    }
  }

  // 3. resolve references; a row with an unresolvable reference is skipped, which may in turn
  //    leave others unresolvable, hence the fixpoint
  const resolve = (ref: RowRef): string | undefined => {
    const p = plans.get(rowKey(ref.table, ref.key));
    if (p) return p.skip ? undefined : p.uuid;
    const ours = findByIdentity(view, ref.table, ref.key).filter(
      (r) => !doomed.has(r._uuid) && (!hasExternalIds(ref.table) || ownerOf(r.external_ids) !== undefined),
    );
    return ours[0]?._uuid;
  };
  const refsOf = (row: DesiredRow): RowRef[] => [
    ...Object.values(row.refs ?? {}).flatMap((v) => (v === null ? [] : Array.isArray(v) ? v : [v])),
    ...(row.parents ?? []),
  ];
  for (let changed = true; changed;) {
    changed = false;
    for (const p of plans.values()) {
      if (p.skip) continue;
      const missing = refsOf(p.row).find((r) => resolve(r) === undefined);
      if (missing) {
        p.skip = `${missing.table} ${missing.key} does not exist`;
        changed = true;
      }
    }
  }

  // 4. emit
  const waits: NbOperation[] = [];
  const inserts: NbOperation[] = [];
  const updates: NbOperation[] = [];
  const deletes: NbOperation[] = [];
  const inserted = new Map<string, RowRef>();
  const insertRows = new Map<string, Record<string, Value>>(); // named uuid -> row being inserted
  const mutations = new Map<
    string,
    { table: NbTable; uuid: string; muts: Map<string, { add: Set<string>; del: Set<string> }> }
  >();
  const mutate = (table: NbTable, uuid: string, column: string, kind: 'add' | 'del', member: string) => {
    const k = rowKey(table, uuid);
    let m = mutations.get(k);
    if (!m) mutations.set(k, (m = { table, uuid, muts: new Map() }));
    let c = m.muts.get(column);
    if (!c) m.muts.set(column, (c = { add: new Set(), del: new Set() }));
    c[kind].add(member);
  };
  const reverse = referrerLookup(view);
  // members of parent sets, as Sets: an LB group holds one uuid per service (10,000s)
  const memberSets = new Map<string, Set<string>>();
  const members = (table: NbTable, uuid: string, column: string): Set<string> => {
    const k = `${table}\u0000${uuid}\u0000${column}`;
    let set = memberSets.get(k);
    if (!set) {
      const v = view.get(table, uuid)?.[column];
      set = new Set(
        Array.isArray(v)
          ? v.filter((x): x is string => typeof x === 'string')
          : typeof v === 'string'
            ? [v]
            : [],
      );
      memberSets.set(k, set);
    }
    return set;
  };

  // a view with a reverse index answers without copying the parent's set (10,000s of members
  // in an LB group) on every call
  const isMember = (table: NbTable, parent: string, column: string, member: string): boolean =>
    view.referrers
      ? view.referrers(table, column, member).includes(parent)
      : members(table, parent, column).has(member);

  const resolvedRefs = (row: DesiredRow): Record<string, Value> => {
    const out: Record<string, Value> = {};
    for (const [column, v] of Object.entries(row.refs ?? {})) {
      out[column] = v === null ? null : Array.isArray(v) ? v.map((r) => resolve(r)!) : resolve(v)!;
    }
    return out;
  };

  for (const p of plans.values()) {
    if (p.skip) {
      skipped.push({ table: p.row.table, key: p.row.key, reason: p.skip });
      continue;
    }
    const { row } = p;
    const wanted = { ...row.columns, ...resolvedRefs(row) };
    if (!p.existing) {
      if (guards && !UNIQUE_IDENTITY.has(row.table)) waits.push(insertGuard(row));
      const r = { ...wanted };
      insertRows.set(p.uuid, r);
      inserts.push({ op: 'insert', table: row.table, row: r, uuidName: p.uuid });
      inserted.set(p.uuid, { table: row.table, key: row.key });
    } else {
      const changed: Record<string, Value> = {};
      for (const [column, v] of Object.entries(wanted)) {
        if (!valuesEqual(p.existing[column], v)) changed[column] = v;
      }
      if (Object.keys(changed).length > 0)
        updates.push({ op: 'update', table: row.table, where: byUuid(p.uuid), row: changed });
    }
  }

  // parent links, after all inserts are known so children can ride in their parent's insert
  for (const p of plans.values()) {
    if (p.skip) continue;
    for (const link of p.row.parents ?? []) {
      const parentUuid = resolve(link)!;
      const parentInsert = insertRows.get(parentUuid);
      if (parentInsert) {
        const cur = parentInsert[link.column];
        parentInsert[link.column] = [...(Array.isArray(cur) ? cur : []), p.uuid];
      } else {
        if (p.existing && isMember(link.table, parentUuid, link.column, p.uuid)) continue;
        mutate(link.table, parentUuid, link.column, 'add', p.uuid);
      }
      // an existing row that is not where it should be may still sit in another parent (a pod
      // re-created on another node under the same name): take it out there
      if (p.existing) unlinkElsewhere(p.row.table, p.uuid, link, reverse, mutate);
    }
  }

  // removals. A non-root row goes away once no parent holds it. With few rows to remove and no
  // reverse index in the view, the server finds the parents itself (`mutate where column includes
  // uuid`): cheaper than scanning every parent row of the cache for one deleted pod.
  const removed: { table: NbTable; uuid: string }[] = [];
  const unlinks: NbOperation[] = [];
  const nonRootDoomed = [...doomed.values()].filter((d) => !isRootTable(d.table)).length;
  const scanParents = view.referrers !== undefined || nonRootDoomed >= REVERSE_INDEX_THRESHOLD;
  for (const [uuid, { table }] of doomed) {
    removed.push({ table, uuid });
    if (isRootTable(table)) {
      deletes.push({ op: 'delete', table, where: byUuid(uuid) });
      continue;
    }
    for (const pc of PARENT_COLUMNS[table] ?? []) {
      if (!scanParents) {
        unlinks.push({
          op: 'mutate',
          table: pc.table,
          where: [[pc.column, 'includes', [uuid]]],
          mutations: [[pc.column, 'delete', [uuid]]],
        });
        continue;
      }
      for (const parentUuid of reverse(pc.table, pc.column, uuid)) {
        if (!doomed.has(parentUuid)) mutate(pc.table, parentUuid, pc.column, 'del', uuid);
      }
    }
  }

  const mutates: NbOperation[] = [];
  for (const m of mutations.values()) {
    const muts: Mutation[] = [];
    for (const [column, { add, del }] of m.muts) {
      if (del.size > 0) muts.push([column, 'delete', [...del]]);
      if (add.size > 0) muts.push([column, 'insert', [...add]]);
    }
    mutates.push({ op: 'mutate', table: m.table, where: byUuid(m.uuid), mutations: muts });
  }

  return {
    operations: [...waits, ...inserts, ...updates, ...mutates, ...unlinks, ...deletes],
    skipped,
    inserted,
    removed,
  };
}

/**
 * Reconciles whole owners: their desired rows, and the removal of whatever else they own
 * (`alsoRemove`: owners that no longer exist, e.g. from staleOwners or a delete event).
 */
export function reconcileOwned(
  view: NbView,
  owned: readonly OwnedRows[],
  alsoRemove: readonly OwnerRef[] = [],
  opts: Omit<ReconcileOptions, 'owners'> = {},
): ReconcileResult {
  return reconcile(
    view,
    owned.flatMap((o) => o.rows),
    { ...opts, owners: [...owned.map((o) => o.owner), ...alsoRemove] },
  );
}

function insertGuard(row: DesiredRow): NbOperation {
  const id = identityOf(row.table);
  return id.kind === 'column'
    ? {
        op: 'wait',
        table: row.table,
        where: [['name', '==', row.key]],
        columns: ['name'],
        until: '==',
        rows: [],
        timeout: 0,
      }
    : {
        op: 'wait',
        table: row.table,
        where: [['external_ids', 'includes', { [id.key]: row.key }]],
        columns: ['external_ids'],
        until: '==',
        rows: [],
        timeout: 0,
      };
}

type Referrers = (table: NbTable, column: string, uuid: string) => string[];

/** The view's reverse references, or a per-call reverse index built by scanning the parent table once. */
function referrerLookup(view: NbView): Referrers {
  if (view.referrers) return (t, c, u) => view.referrers!(t, c, u);
  const built = new Map<string, Map<string, string[]>>();
  return (table, column, uuid) => {
    const k = rowKey(table, column);
    let idx = built.get(k);
    if (!idx) {
      idx = new Map();
      for (const r of view.rows(table)) {
        const v = r[column];
        for (const member of Array.isArray(v) ? v : v == null ? [] : [v]) {
          if (typeof member !== 'string') continue;
          const list = idx.get(member);
          if (list) list.push(r._uuid);
          else idx.set(member, [r._uuid]);
        }
      }
      built.set(k, idx);
    }
    return idx.get(uuid) ?? [];
  };
}

function unlinkElsewhere(
  table: NbTable,
  uuid: string,
  link: ParentLink,
  reverse: Referrers,
  mutate: (table: NbTable, uuid: string, column: string, kind: 'add' | 'del', member: string) => void,
): void {
  for (const pc of PARENT_COLUMNS[table] ?? []) {
    if (pc.table !== link.table || pc.column !== link.column) continue;
    for (const other of reverse(pc.table, pc.column, uuid)) {
      // only parents we could have put it into; `link` itself was resolved to the desired parent
      mutate(pc.table, other, pc.column, 'del', uuid);
    }
  }
}
