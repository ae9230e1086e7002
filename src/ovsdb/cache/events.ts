/**
 * Change events of the cache. Every event carries whole rows (the old and/or the new version),
 * never wire diffs, so a consumer can compare any column without knowing the protocol version.
 * Rows are frozen and replaced on change (copy on write), so an old row stays valid after it left
 * the cache.
 */
import type { Row } from '../value.js';

export type CacheEvent =
  | { type: 'insert'; table: string; new: Row }
  | { type: 'update'; table: string; old: Row; new: Row; changed: readonly string[] }
  | { type: 'delete'; table: string; old: Row };

export type CacheEventType = CacheEvent['type'];

/** Something that made the cache disagree with the server: the owner should rebuild it. */
export interface CacheProblem {
  table: string;
  uuid?: string;
  message: string;
}

/** What applying one notification (or one resync) did. */
export interface ApplyResult {
  events: CacheEvent[];
  problems: CacheProblem[];
}
