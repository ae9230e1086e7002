/**
 * An IP pool as Kube-OVN (Subnet/IPPool) and Spiderpool (SpiderIPPool) model it: addresses of one
 * subnet per family, narrowed to `ips` ranges, minus `excludeIps` and the gateway, plus routes that
 * are handed to every user of the pool.
 *
 * On top of the address allocators it adds the workload rules those projects have:
 * - `ip_pool` candidate lists: a StatefulSet pod with ordinal N gets entry N; any other pod takes
 *   the first entry that is free (Kube-OVN `acquireAddress`).
 * - StatefulSet retention: an allocation keyed by (namespace, StatefulSet, ordinal[, interface])
 *   instead of the pod uid survives pod restarts and rescheduling; only an explicit release
 *   (scale-down, StatefulSet deleted or recreated) or leak collection with a dead owner frees it.
 *   Keying by owner rather than by pod name/uid is what avoids whereabouts #176 and spiderpool #2442.
 * - Leak collection against the set of live keys.
 */
import { type IpFamily, normalizeIp, parseCidr, parseIp, parseIpRange } from './cidr.js';
import { InvalidPoolError, KeyAlreadyAllocatedError, PoolCandidatesError } from './errors.js';
import { type IndexPoolOptions } from './index-pool.js';
import { IpAllocator, type AddressState, type IpRebuildReport, type IpUsage } from './ip-allocator.js';
import { MultiFamilyAllocator } from './multi-family.js';

/** A route handed to every user of the pool; no `dst` means the default route (Kube-OVN `routes`). */
export interface PoolRoute {
  dst?: string;
  gw: string;
}

export interface IpPoolSpec {
  name: string;
  /** One CIDR per family (Kube-OVN `cidrBlock` split on ",", Spiderpool `subnet`). */
  subnets: readonly string[];
  /** Addresses to hand out (IPs, `a-b`, `a..b`, CIDRs); default all of the subnets. */
  ips?: readonly string[];
  /** Never handed out dynamically (IPs, `a-b`, `a..b`, CIDRs); clipped to the subnets. */
  excludeIps?: readonly string[];
  /** At most one per family; never handed out, not even explicitly. */
  gateways?: readonly string[];
  routes?: readonly PoolRoute[];
  /** Kube-OVN: `ip_address` and `ip_pool` may name excluded addresses (the reserved segment for fixed IPs). */
  explicitMayUseExcluded?: boolean;
}

/** The owner of a retained StatefulSet allocation. */
export interface StatefulSetRef {
  namespace: string;
  name: string;
  ordinal: number;
  /** Set when one pod takes several addresses from the same pool. */
  interface?: string;
}

/** A plain key (pod uid + interface) or a StatefulSet ordinal. */
export type AllocationOwner = string | StatefulSetRef;

export interface PoolRequest {
  /** Fixed addresses (`ip_address`), at most one per family. */
  ips?: readonly string[];
  /** An `ip_pool` list; each entry is one address or one address per family. */
  candidates?: readonly (string | readonly string[])[];
  /** Which candidate to take; defaults to the StatefulSet ordinal for a StatefulSet owner. */
  ordinal?: number;
}

export interface PoolAddress {
  ip: string;
  prefixLength: number;
  /** The pool's gateway of this family, if it has one. */
  gateway?: string;
}

export interface PoolAllocation {
  key: string;
  statefulSet?: StatefulSetRef;
  addresses: PoolAddress[];
}

export interface PoolRebuildEntry {
  owner: AllocationOwner;
  ips: readonly string[];
}

export interface LiveSet {
  /** Keys (pod uid + interface) of pods that still exist and are not finished. */
  keys: ReadonlySet<string>;
  /** Whether a StatefulSet ordinal is still wanted: the StatefulSet exists with the same uid and ordinal < replicas. */
  statefulSetAlive: (ref: StatefulSetRef) => boolean;
}

/** The key a StatefulSet ordinal's allocation is stored under. */
export function statefulSetKey(ref: StatefulSetRef): string {
  const base = `sts/${ref.namespace}/${ref.name}/${ref.ordinal}`;
  return ref.interface ? `${base}/${ref.interface}` : base;
}

export const allocationKey = (owner: AllocationOwner): string =>
  typeof owner === 'string' ? owner : statefulSetKey(owner);

/**
 * Parses an `ip_pool` annotation value into candidates. `a;b;c` lists one candidate per `;`
 * segment (each a comma list of one address per family); a plain comma list is split by family and
 * paired by position, so `10.0.0.1,10.0.0.2,fd00::1,fd00::2` gives [10.0.0.1, fd00::1], [10.0.0.2, fd00::2].
 * A Kube-OVN `ip_pool` may instead name an IPPool resource; the caller checks for that first, since
 * anything that is not an address list throws InvalidAddressError here.
 */
export function parseIpPoolList(value: string): string[][] {
  const split = (s: string): string[] =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  if (value.includes(';'))
    return value
      .split(';')
      .map(split)
      .filter((c) => c.length > 0);
  const v4: string[] = [];
  const v6: string[] = [];
  for (const ip of split(value)) (parseIp(ip).family === 4 ? v4 : v6).push(ip);
  const out: string[][] = [];
  for (let i = 0; i < Math.max(v4.length, v6.length); i++) {
    out.push([...(i < v4.length ? [v4[i]!] : []), ...(i < v6.length ? [v6[i]!] : [])]);
  }
  return out;
}

export class IpPool {
  readonly name: string;
  readonly routes: readonly PoolRoute[];
  readonly allocator: MultiFamilyAllocator;
  private readonly gateways = new Map<IpFamily, string>();
  private readonly prefixLengths = new Map<IpFamily, number>();
  private readonly mayUseExcluded: boolean;
  private readonly statefulSets = new Map<string, StatefulSetRef>();

  constructor(spec: IpPoolSpec, options: IndexPoolOptions = {}) {
    this.name = spec.name;
    this.routes = spec.routes ?? [];
    this.mayUseExcluded = spec.explicitMayUseExcluded ?? false;
    if (spec.subnets.length === 0) throw new InvalidPoolError(`pool ${spec.name} has no subnet`);
    const cidrs = spec.subnets.map((s) => parseCidr(s));
    const familyOf = (text: string): IpFamily => {
      const family = parseIpRange(text).family;
      if (!cidrs.some((c) => c.family === family)) {
        throw new InvalidPoolError(`pool ${spec.name}: ${text} has no IPv${family} subnet to belong to`);
      }
      return family;
    };
    const ips = (spec.ips ?? []).map((r) => ({ r, family: familyOf(r) }));
    const excludes = (spec.excludeIps ?? []).map((r) => ({ r, family: parseIpRange(r).family }));
    for (const gw of spec.gateways ?? []) {
      const family = familyOf(gw);
      if (this.gateways.has(family))
        throw new InvalidPoolError(`pool ${spec.name}: two IPv${family} gateways`);
      this.gateways.set(family, gw.trim());
    }
    this.allocator = new MultiFamilyAllocator(
      cidrs.map((cidr) => {
        this.prefixLengths.set(cidr.family, cidr.prefixLength);
        const ranges = ips.filter((x) => x.family === cidr.family).map((x) => x.r);
        if (spec.ips && spec.ips.length > 0 && ranges.length === 0) {
          throw new InvalidPoolError(`pool ${spec.name}: ips has no IPv${cidr.family} address`);
        }
        const gw = this.gateways.get(cidr.family);
        return new IpAllocator({
          ...options,
          subnet: cidr,
          name: `pool ${spec.name}`,
          ranges: ranges.length > 0 ? ranges : undefined,
          exclude: excludes.filter((x) => x.family === cidr.family).map((x) => x.r),
          reserved: gw ? [gw] : [],
        });
      }),
    );
  }

  /**
   * Addresses for the owner: its existing ones (idempotent), fixed `ips`, an `ip_pool` candidate,
   * or the next free ones. Throws the allocator errors or PoolCandidatesError.
   */
  allocate(owner: AllocationOwner, request: PoolRequest = {}): PoolAllocation {
    const key = allocationKey(owner);
    const allowExcluded = this.mayUseExcluded;
    if (request.ips && request.ips.length > 0) {
      this.allocator.allocate(key, { ips: request.ips, allowExcluded });
    } else if (request.candidates && request.candidates.length > 0) {
      const candidates = request.candidates.map((c) => (typeof c === 'string' ? [c] : [...c]));
      const ordinal = request.ordinal ?? (typeof owner === 'string' ? undefined : owner.ordinal);
      if (ordinal !== undefined) {
        const chosen = candidates[ordinal];
        if (!chosen) {
          throw new PoolCandidatesError(
            `ip_pool for ${key} in pool ${this.name} has ${candidates.length} entries; ordinal ${ordinal} has no address`,
          );
        }
        this.allocator.allocate(key, { ips: chosen, allowExcluded });
      } else {
        this.allocator.allocate(key, { ips: this.pickCandidate(key, candidates), allowExcluded });
      }
    } else {
      this.allocator.allocate(key);
    }
    if (typeof owner !== 'string') this.statefulSets.set(key, { ...owner });
    return this.describe(key)!;
  }

  /** Frees the owner's addresses (into quarantine); returns what it held. */
  release(owner: AllocationOwner): PoolAllocation | undefined {
    const key = allocationKey(owner);
    const held = this.describe(key);
    if (!held) return undefined;
    this.allocator.release(key);
    this.statefulSets.delete(key);
    return held;
  }

  /** Frees a StatefulSet's retained addresses from `fromOrdinal` on (scale-down), or all (delete). */
  releaseStatefulSet(namespace: string, name: string, fromOrdinal = 0): PoolAllocation[] {
    const out: PoolAllocation[] = [];
    for (const [key, ref] of [...this.statefulSets]) {
      if (ref.namespace === namespace && ref.name === name && ref.ordinal >= fromOrdinal) {
        const released = this.release(key);
        if (released) out.push(released);
      }
    }
    return out;
  }

  /** Frees allocations whose key is gone, keeping StatefulSet ones whose owner is still wanted. */
  collectLeaks(live: LiveSet): PoolAllocation[] {
    const out: PoolAllocation[] = [];
    for (const { key } of this.allocator.allocations()) {
      const ref = this.statefulSets.get(key);
      const alive = ref ? live.statefulSetAlive(ref) : live.keys.has(key);
      if (!alive) {
        const released = this.release(key);
        if (released) out.push(released);
      }
    }
    return out;
  }

  /** Replaces the state with recorded allocations; explicit addresses on excluded IPs are accepted. */
  rebuild(entries: Iterable<PoolRebuildEntry>): IpRebuildReport {
    this.statefulSets.clear();
    const list = [...entries];
    const report = this.allocator.rebuild(
      list.map((e) => ({ key: allocationKey(e.owner), ips: [...e.ips] })),
    );
    for (const { owner } of list) {
      if (typeof owner !== 'string' && this.allocator.get(statefulSetKey(owner))) {
        this.statefulSets.set(statefulSetKey(owner), { ...owner });
      }
    }
    return report;
  }

  get(owner: AllocationOwner): PoolAllocation | undefined {
    return this.describe(allocationKey(owner));
  }

  allocations(): PoolAllocation[] {
    return this.allocator.allocations().map(({ key }) => this.describe(key)!);
  }

  usage(): Map<IpFamily, IpUsage> {
    return this.allocator.usage();
  }

  gateway(family: IpFamily): string | undefined {
    return this.gateways.get(family);
  }

  /** First candidate whose addresses are all free; one that is only quarantined if nothing else is. */
  private pickCandidate(key: string, candidates: string[][]): string[] {
    const held = this.allocator.get(key);
    if (held) {
      const match = candidates.find((c) => c.every((ip) => held.includes(normalizeIp(ip))));
      if (match) return match;
      throw new KeyAlreadyAllocatedError(
        key,
        held.join(','),
        `one of the ip_pool entries of pool ${this.name}`,
      );
    }
    let fallback: string[] | undefined;
    for (const candidate of candidates) {
      const states = candidate.map((ip) => this.stateOf(ip));
      const usable = states.every(
        (s) => s === 'free' || s === 'quarantined' || (s === 'excluded' && this.mayUseExcluded),
      );
      if (!usable) continue;
      if (!states.includes('quarantined')) return candidate;
      fallback ??= candidate;
    }
    if (fallback) return fallback;
    throw new PoolCandidatesError(
      `all ${candidates.length} entries of the ip_pool for ${key} in pool ${this.name} are in use or unusable`,
    );
  }

  private stateOf(ip: string): AddressState {
    const a = this.allocator.forFamily(parseIp(ip).family);
    return a ? a.state(ip) : 'outside';
  }

  private describe(key: string): PoolAllocation | undefined {
    const ips = this.allocator.get(key);
    if (!ips) return undefined;
    const ref = this.statefulSets.get(key);
    return {
      key,
      ...(ref ? { statefulSet: { ...ref } } : {}),
      addresses: ips.map((ip) => {
        const family = parseIp(ip).family;
        const gateway = this.gateways.get(family);
        return {
          ip,
          prefixLength: this.prefixLengths.get(family)!,
          ...(gateway ? { gateway } : {}),
        };
      }),
    };
  }
}
