/**
 * Choosing a server, as OVS's `ovsdb_cs_check_server_db__` (lib/ovsdb-cs.c) and Python's
 * `Idl.__check_server_db` do: read our database's row in `_Server.Database` and decide whether
 * this server may serve us. Pure functions, so every rule is unit-tested on its own.
 */
import type { Row } from '../value.js';

export type DbModel = 'standalone' | 'clustered' | 'relay';

/** Our database's row of `_Server.Database`, in the fields the rules read. */
export interface ServerDbInfo {
  name: string;
  model: DbModel | string;
  connected: boolean;
  leader: boolean;
  /** the schema as a JSON string; empty until a clustered member joined / a relay connected */
  schema: string;
  cid: string | null;
  sid: string | null;
  /** Raft log index exposed to clients (clustered only) */
  index: bigint | null;
}

export interface SelectionPolicy {
  /** writers must talk to the Raft leader (default in OVS's Python IDL) */
  leaderOnly: boolean;
  /** highest index seen so far on any server; a server behind it has stale data */
  minIndex: bigint | null;
  /** optional: pin a cluster id (Python IDL's cluster_id) */
  clusterId?: string | null;
}

export type Verdict = { accept: true; minIndex: bigint | null } | { accept: false; reason: string };

/** Converts a cached `_Server.Database` row (native values) into the fields above. */
export function serverDbInfoFromRow(row: Row): ServerDbInfo {
  const opt = (v: unknown): unknown => (Array.isArray(v) ? (v.length ? v[0] : null) : v);
  const idx = opt(row.index);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const optStr = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    name: str(row.name),
    model: str(row.model),
    connected: row.connected === true,
    leader: row.leader === true,
    schema: str(opt(row.schema)),
    cid: optStr(opt(row.cid)),
    sid: optStr(opt(row.sid)),
    index: typeof idx === 'number' || typeof idx === 'bigint' ? BigInt(idx) : null,
  };
}

/**
 * The connect-time rules.
 * - clustered: reject when the schema is empty (not joined yet), when not connected to the
 *   cluster, when leader-only and not the leader, when its index is older than one already seen;
 *   otherwise the index becomes the new minimum.
 * - relay: reject when the schema is empty or not connected; never acceptable when leader-only
 *   (a relay forwards writes but is never the leader).
 * - standalone (and anything that does not announce a model): accepted.
 */
export function checkServerDb(info: ServerDbInfo | undefined, policy: SelectionPolicy): Verdict {
  if (!info) return { accept: false, reason: 'server does not serve the database' };
  if (policy.clusterId && info.cid && !info.cid.startsWith(policy.clusterId)) {
    return { accept: false, reason: `cluster id ${info.cid} is not ${policy.clusterId}` };
  }
  switch (info.model) {
    case 'clustered': {
      if (!info.schema) return { accept: false, reason: 'clustered database has not joined its cluster yet' };
      if (!info.connected)
        return { accept: false, reason: 'clustered database is not connected to its cluster' };
      if (policy.leaderOnly && !info.leader) return { accept: false, reason: 'not the cluster leader' };
      if (info.index !== null && policy.minIndex !== null && info.index < policy.minIndex) {
        return {
          accept: false,
          reason: `stale data: index ${info.index} is older than index ${policy.minIndex} already seen`,
        };
      }
      return { accept: true, minIndex: info.index ?? policy.minIndex };
    }
    case 'relay':
      if (policy.leaderOnly) return { accept: false, reason: 'relay cannot serve a leader-only client' };
      if (!info.schema) return { accept: false, reason: 'relay has not connected to its source yet' };
      if (!info.connected) return { accept: false, reason: 'relay is not connected to its source' };
      return { accept: true, minIndex: policy.minIndex };
    default:
      return { accept: true, minIndex: policy.minIndex };
  }
}

/**
 * The rules applied to every later change of our `_Server` row while we use the server: the
 * same as at connect time, so a leader that steps down or a member that loses the cluster makes
 * us move on. The index only moves forward on a live server, so it is recorded, not re-checked
 * (a lower value would mean the row was re-created, which the connect-time check covers).
 */
export function checkServerDbWhileConnected(
  info: ServerDbInfo | undefined,
  policy: SelectionPolicy,
): Verdict {
  const verdict = checkServerDb(info, { ...policy, minIndex: null });
  return verdict.accept
    ? { accept: true, minIndex: maxIndex(policy.minIndex, info?.index ?? null) }
    : verdict;
}

function maxIndex(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/** Fisher–Yates shuffle (OVS shuffles remotes by default so that clients spread over members). */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Cycles through the (shuffled) remotes; after a leadership loss it moves past the server it left. */
export class RemoteRotation<T> {
  private readonly order: T[];
  private pos = 0;

  constructor(remotes: readonly T[], random: () => number = Math.random) {
    if (remotes.length === 0) throw new RangeError('at least one remote is required');
    this.order = shuffled(remotes, random);
  }

  get size(): number {
    return this.order.length;
  }

  /** The next remote to try. */
  next(): T {
    const r = this.order[this.pos % this.order.length]!;
    this.pos = (this.pos + 1) % this.order.length;
    return r;
  }

  /** All remotes in trying order (for logs). */
  list(): readonly T[] {
    return this.order;
  }
}
