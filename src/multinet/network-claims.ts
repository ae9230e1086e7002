/**
 * Which config defines a secondary OVN network when its NADs disagree. Networks are not
 * namespaced, so several NADs may name one network with different configs; exactly one config
 * defines it, and the NADs of every other config are left out (the caller reports them).
 *
 * The rule is sticky: the config the network is built with keeps it while some NAD still carries
 * that config. Age alone is not stable enough: creationTimestamp has one-second resolution (ties
 * go by name), and a restore from backup re-creates NADs with other timestamps, so "the oldest"
 * can change without any NAD of the built config going away, and rebuilding the network's rows
 * under its pods for that would be wrong. Only when no NAD of the built config is left (or nothing
 * is built yet) does the oldest config take over.
 *
 * The caller says what is built, in two ways: exactly (the identity it built the network with in
 * this run) and, when it does not know that (after a restart, on a standby), by answering whether
 * the rows in NB agree with a config. Pure: no I/O.
 */
import { networkIdentity, type OvnNetworkConfig } from './ovn-network.js';

/** One NAD's valid claim on a network. */
export interface NetworkClaim {
  /** `<ns>/<nad>` */
  nad: string;
  /** creation instant in ms; Infinity when unknown (sorts last) */
  createdMs: number;
  config: OvnNetworkConfig;
}

/** What the caller knows about the networks as they are built now. */
export interface BuiltNetworks {
  /** The networkIdentity() the network was last built with, when known exactly. */
  identity?(network: string): string | undefined;
  /**
   * True when what is built of the network agrees with `config` (false when nothing is built).
   * Asked only for networks whose NADs disagree and whose exact identity is unknown.
   */
  agrees?(network: string, config: OvnNetworkConfig): boolean;
}

/** Why the winning config won. */
export type ClaimWinReason = 'built' | 'oldest';

export interface ClaimedNetwork {
  /** the config of the oldest NAD of the winning config */
  config: OvnNetworkConfig;
  identity: string;
  /** `<ns>/<nad>` of every NAD carrying the winning config, oldest first */
  nads: string[];
  reason: ClaimWinReason;
}

/** A NAD whose config disagrees with the config that defines its network. */
export interface RejectedClaim {
  claim: NetworkClaim;
  /** the oldest NAD of the winning config */
  definedBy: string;
  reason: ClaimWinReason;
}

export interface ClaimResolution {
  byNetwork: Map<string, ClaimedNetwork>;
  /** every NAD of a winning config -> its own config */
  byNad: Map<string, OvnNetworkConfig>;
  rejected: RejectedClaim[];
}

/** Oldest first; same instant by `<ns>/<nad>`, so the order never depends on the input order. */
export function compareClaims(a: NetworkClaim, b: NetworkClaim): number {
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs ? -1 : 1;
  return a.nad < b.nad ? -1 : a.nad > b.nad ? 1 : 0;
}

/** The claims of one config of one network, oldest first. */
interface ConfigGroup {
  identity: string;
  claims: NetworkClaim[];
}

/** The group that defines the network, and why. Groups are oldest first. */
function pickGroup(
  network: string,
  groups: readonly ConfigGroup[],
  built: BuiltNetworks,
): { group: ConfigGroup; reason: ClaimWinReason } {
  const oldest = { group: groups[0]!, reason: 'oldest' as const };
  if (groups.length === 1) return oldest;
  const exact = built.identity?.(network);
  const kept = exact === undefined ? undefined : groups.find((g) => g.identity === exact);
  if (kept) return { group: kept, reason: 'built' };
  // the exact identity is unknown, or none of its NADs is left: what NB shows decides, if anything
  if (exact === undefined && built.agrees) {
    const agreeing = groups.find((g) => built.agrees!(network, g.claims[0]!.config));
    if (agreeing) return { group: agreeing, reason: 'built' };
  }
  return oldest;
}

/** The config of every network and the claims left out (see the module comment for the rule). */
export function resolveClaims(claims: readonly NetworkClaim[], built: BuiltNetworks = {}): ClaimResolution {
  const perNetwork = new Map<string, Map<string, ConfigGroup>>();
  for (const claim of [...claims].sort(compareClaims)) {
    const identity = networkIdentity(claim.config);
    let groups = perNetwork.get(claim.config.name);
    if (!groups) perNetwork.set(claim.config.name, (groups = new Map()));
    let group = groups.get(identity);
    if (!group) groups.set(identity, (group = { identity, claims: [] }));
    group.claims.push(claim);
  }
  const out: ClaimResolution = { byNetwork: new Map(), byNad: new Map(), rejected: [] };
  for (const [network, groupMap] of perNetwork) {
    // a Map keeps insertion order: groups come oldest first, by their oldest claim
    const groups = [...groupMap.values()];
    const { group, reason } = pickGroup(network, groups, built);
    const definedBy = group.claims[0]!.nad;
    out.byNetwork.set(network, {
      config: group.claims[0]!.config,
      identity: group.identity,
      nads: group.claims.map((c) => c.nad),
      reason,
    });
    for (const c of group.claims) out.byNad.set(c.nad, c.config);
    for (const g of groups) {
      if (g === group) continue;
      for (const claim of g.claims) out.rejected.push({ claim, definedBy, reason });
    }
  }
  out.rejected.sort((a, b) => compareClaims(a.claim, b.claim));
  return out;
}
