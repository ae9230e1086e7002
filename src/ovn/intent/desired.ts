/**
 * The desired-row model shared by the intent modules (which produce it) and the reconciler
 * (which diffs it against the NB cache).
 *
 * A desired row names its identity (`key`) and only the columns we manage; every other column of
 * the real row is left alone. References are written as keys of other rows, never as uuids, so
 * intent stays pure: the reconciler resolves them to real uuids (rows already in NB) or to named
 * uuids (rows inserted in the same transaction).
 */
import type { Value } from '../../ovsdb/value.js';
import { ID_KEY, ownerIds, type OwnerRef } from '../names.js';

/** NB tables the watcher writes. */
export type NbTable =
  | 'Logical_Switch'
  | 'Logical_Switch_Port'
  | 'Logical_Router'
  | 'Logical_Router_Port'
  | 'Logical_Router_Static_Route'
  | 'NAT'
  | 'Load_Balancer'
  | 'Load_Balancer_Group';

/** A reference to another row by its identity. */
export interface RowRef {
  table: NbTable;
  key: string;
}

/** "This row must be a member of `column` of the parent row": kept with set mutations. */
export interface ParentLink extends RowRef {
  column: string;
}

export interface DesiredRow {
  table: NbTable;
  /**
   * Identity within the table: the `name` for tables whose rows have a unique name, the
   * `external_ids:k8s.ovn.org/id` value for the others (static routes, NAT); see `identityOf`.
   */
  key: string;
  /** managed, non-reference columns, in native value form (src/ovsdb/value.ts) */
  columns: Record<string, Value>;
  /**
   * Reference columns this row manages in full: the column's whole value is these rows
   * (an array for a set column, one RowRef or null for an optional one).
   */
  refs?: Record<string, RowRef[] | RowRef | null>;
  /**
   * Set columns of other rows (often owned by someone else, e.g. a node switch's `ports`) that
   * must contain this row. Kept with `mutate insert`/`delete` of one uuid, never by rewriting the
   * parent's whole set, because many owners share one parent.
   */
  parents?: ParentLink[];
}

/** How the reconciler finds the existing row for a key. */
export type Identity = { kind: 'column'; column: 'name' } | { kind: 'externalId'; key: typeof ID_KEY };

export function identityOf(table: NbTable): Identity {
  return table === 'Logical_Router_Static_Route' || table === 'NAT'
    ? { kind: 'externalId', key: ID_KEY }
    : { kind: 'column', column: 'name' };
}

/** Tables whose rows carry external_ids (Load_Balancer_Group has none: it is owned by its well-known name). */
export const hasExternalIds = (table: NbTable): boolean => table !== 'Load_Balancer_Group';

/** Root tables must be deleted explicitly; the others are garbage-collected once unreferenced. */
export const isRootTable = (table: NbTable): boolean =>
  table === 'Logical_Switch' ||
  table === 'Logical_Router' ||
  table === 'Load_Balancer' ||
  table === 'Load_Balancer_Group';

/** external_ids of an owned row: extra keys, then the owner, then (for unnamed tables) the id. */
export function ownedExternalIds(
  table: NbTable,
  key: string,
  owner: OwnerRef,
  extra: Record<string, string> = {},
): Record<string, string> {
  const ids: Record<string, string> = { ...extra, ...ownerIds(owner) };
  if (identityOf(table).kind === 'externalId') ids[ID_KEY] = key;
  return ids;
}

export const ref = (table: NbTable, key: string): RowRef => ({ table, key });
export const parent = (table: NbTable, key: string, column: string): ParentLink => ({ table, key, column });

/** The desired rows of one owner: the unit a controller reconciles. */
export interface OwnedRows {
  owner: OwnerRef;
  rows: DesiredRow[];
}
