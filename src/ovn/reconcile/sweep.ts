/**
 * Convergence after a start or a reconnect: owners that still have rows in NB but no longer exist
 * in Kubernetes. Their rows are removed with a reconcile of "nothing desired" for those owners.
 */
import { ownerKeyString, ownerOf, type OwnerRef, type OwnerType } from '../names.js';
import { hasExternalIds } from '../intent/desired.js';
import { MANAGED_TABLES, reconcile, type ReconcileResult } from './reconcile.js';
import type { NbView } from './view.js';

/** Owners of the given types that own rows in NB but are not live. */
export function staleOwners(
  view: NbView,
  isLive: (owner: OwnerRef) => boolean,
  types: readonly OwnerType[],
): OwnerRef[] {
  const wanted = new Set<string>(types);
  const seen = new Map<string, OwnerRef>();
  for (const table of MANAGED_TABLES) {
    if (!hasExternalIds(table)) continue;
    for (const row of view.rows(table)) {
      const owner = ownerOf(row.external_ids);
      if (!owner || !wanted.has(owner.type)) continue;
      const k = ownerKeyString(owner);
      if (!seen.has(k) && !isLive(owner)) seen.set(k, owner);
    }
  }
  return [...seen.values()];
}

/** Operations that remove every row of stale owners (see staleOwners). */
export function sweep(
  view: NbView,
  isLive: (owner: OwnerRef) => boolean,
  types: readonly OwnerType[],
): ReconcileResult & { owners: OwnerRef[] } {
  const owners = staleOwners(view, isLive, types);
  return { ...reconcile(view, [], { owners }), owners };
}
