/**
 * Addresses of one subnet (optionally narrowed to a list of ranges) handed out to keys such as
 * "<pod uid>/<interface>". No I/O: the watcher persists what it gets here (pod annotations, NB ports,
 * IP records) and calls `rebuild` with all of it at start.
 *
 * Three kinds of addresses are never handed out dynamically:
 * - reserved: network address, IPv4 broadcast, and `reserved` (gateway, management port). Never
 *   allocatable at all; they are not part of the allocator's domain.
 * - excluded: user excludes (Kube-OVN `excludeIps`, Spiderpool `excludeIPs`, ovn-k
 *   `excludeSubnets`). An explicit request may still name one when it says `allowExcluded`, as
 *   Kube-OVN lets `ip_address`/`ip_pool` use its excluded segment for fixed IPs.
 * - quarantined: recently released (see IndexPool).
 *
 * Dynamic picks rotate round-robin through the domain (as ovn-kubernetes does), so a fresh pool
 * hands out the lowest addresses first (Kube-OVN and Spiderpool users expect .11, .131 ...).
 */
import {
  type Cidr,
  type IpAddress,
  type IpFamily,
  type IpRange,
  cidrContains,
  cidrLast,
  cidrToRange,
  clipRange,
  formatCidr,
  formatIpRange,
  formatIpValue,
  normalizeRanges,
  parseCidr,
  parseIp,
  parseIpRange,
  rangeSize,
  subtractRanges,
  valuesToRanges,
} from './cidr.js';
import {
  AddressExcludedError,
  AddressInUseError,
  AddressOutOfRangeError,
  AddressesExhaustedError,
  InvalidPoolError,
  IpamError,
  KeyAlreadyAllocatedError,
} from './errors.js';
import { IndexPool, type IndexPoolOptions } from './index-pool.js';

export interface IpAllocatorOptions extends IndexPoolOptions {
  subnet: string | Cidr;
  /** Addresses to hand out (IPs, `a-b`, `a..b`, CIDRs) inside the subnet; default the whole subnet. */
  ranges?: readonly (string | IpRange)[];
  /** User excludes; clipped to the subnet, entries outside it are ignored (as Kube-OVN does). */
  exclude?: readonly (string | IpRange)[];
  /** Never allocatable, not even explicitly: gateway, management port... Must lie in the subnet. */
  reserved?: readonly string[];
  /** Reserve the network address (and the IPv4 broadcast address). Default true. */
  reserveSubnetEnds?: boolean;
  /** Shown in errors, e.g. "node worker-1" or "subnet macvlan". */
  name?: string;
}

export interface AllocateRequest {
  /** A fixed address (static IP) instead of the next free one. */
  ip?: string;
  /** Let the fixed address be an excluded one (Kube-OVN semantics). Default false. */
  allowExcluded?: boolean;
}

export interface IpAllocation {
  key: string;
  ip: string;
}

export interface IpRebuildReport {
  restored: number;
  /** The address was already restored for another key; the earlier entry keeps it. */
  duplicates: { key: string; ip: string; heldBy: string }[];
  /** The key appeared with a second, different address; the first one is kept. */
  keyConflicts: { key: string; ip: string; kept: string }[];
  /** Unusable entries (outside, reserved, unparsable). */
  rejected: { key: string; ip: string; error: IpamError }[];
}

export interface IpUsage {
  /** Addresses in the domain (reserved ones not counted, excluded ones counted). */
  size: bigint;
  excluded: bigint;
  /** Allocations, including explicit ones on excluded addresses. */
  used: bigint;
  /** Addresses that can still be handed out: size - excluded - used (not excluded); includes quarantined. */
  available: bigint;
  quarantined: bigint;
}

export type AddressState = 'outside' | 'reserved' | 'allocated' | 'excluded' | 'quarantined' | 'free';

interface Segment {
  first: bigint;
  last: bigint;
  /** Slot number of `first`. */
  startSlot: bigint;
}

/** "No slot restored yet" for the cursor computation in rebuild. */
const NO_SLOT = -1;

export class IpAllocator {
  readonly cidr: Cidr;
  readonly family: IpFamily;
  readonly name: string;
  private readonly segments: Segment[];
  private readonly domainSize: bigint;
  private readonly excludedRanges: IpRange[];
  private readonly excludedCount: bigint;
  private readonly reservedReasons = new Map<bigint, string>();
  private readonly poolOptions: IndexPoolOptions;
  private pool: IndexPool;
  private readonly byKey = new Map<string, bigint>();
  private readonly byAddress = new Map<bigint, string>();
  private usedExcluded = 0;

  constructor(options: IpAllocatorOptions) {
    this.cidr = typeof options.subnet === 'string' ? parseCidr(options.subnet) : options.subnet;
    this.family = this.cidr.family;
    const subnetText = formatCidr(this.cidr);
    this.name = options.name ?? `subnet ${subnetText}`;
    const bits = this.family === 4 ? 32 : 128;

    const toRange = (r: string | IpRange): IpRange => (typeof r === 'string' ? parseIpRange(r) : r);
    let domain: IpRange[];
    if (options.ranges) {
      domain = normalizeRanges(
        options.ranges.map((r) => {
          const range = toRange(r);
          const clipped = clipRange(range, this.cidr);
          if (!clipped || clipped.first !== range.first || clipped.last !== range.last) {
            const text = typeof r === 'string' ? r : formatIpRange(r);
            throw new InvalidPoolError(`${this.name}: range ${text} is not inside ${subnetText}`);
          }
          return range;
        }),
      );
    } else {
      domain = [cidrToRange(this.cidr)];
    }

    if (options.reserveSubnetEnds ?? true) {
      // /31 and /32 (v4), /127 and /128 (v6) have no network or broadcast address to spare.
      if (this.cidr.prefixLength < bits - 1) {
        this.reservedReasons.set(this.cidr.network, 'it is the network address of');
        if (this.family === 4)
          this.reservedReasons.set(cidrLast(this.cidr), 'it is the broadcast address of');
      }
    }
    for (const text of options.reserved ?? []) {
      const addr = parseIp(text);
      if (!cidrContains(this.cidr, addr)) {
        throw new InvalidPoolError(`${this.name}: reserved address ${text} is not inside ${subnetText}`);
      }
      if (!this.reservedReasons.has(addr.value)) this.reservedReasons.set(addr.value, 'it is reserved in');
    }
    domain = subtractRanges(
      domain,
      [...this.reservedReasons.keys()].map((v) => ({ family: this.family, first: v, last: v })),
    );

    this.segments = [];
    let slot = 0n;
    for (const r of domain) {
      this.segments.push({ first: r.first, last: r.last, startSlot: slot });
      slot += rangeSize(r);
    }
    this.domainSize = slot;

    const excludes = normalizeRanges(
      (options.exclude ?? []).flatMap((r) => {
        const clipped = clipRange(toRange(r), this.cidr);
        return clipped ? [clipped] : [];
      }),
    );
    // Only the excluded addresses that are in the domain matter: domain - (domain - excludes).
    this.excludedRanges = subtractRanges(domain, subtractRanges(domain, excludes));
    this.excludedCount = this.excludedRanges.reduce((n, r) => n + rangeSize(r), 0n);

    this.poolOptions = {
      quarantine: options.quarantine,
      now: options.now,
      maxBitmapSize: options.maxBitmapSize,
    };
    this.pool = this.freshPool();
  }

  get subnet(): string {
    return formatCidr(this.cidr);
  }

  /**
   * The key's address: the one it already holds (idempotent), the fixed `request.ip`, or the next
   * free one. Throws AddressesExhaustedError, AddressInUseError, AddressExcludedError,
   * AddressOutOfRangeError or KeyAlreadyAllocatedError.
   */
  allocate(key: string, request: AllocateRequest = {}): string {
    const held = this.byKey.get(key);
    if (request.ip !== undefined) {
      const addr = parseIp(request.ip);
      if (held !== undefined) {
        if (held === addr.value && addr.family === this.family) return formatIpValue(this.family, held);
        throw new KeyAlreadyAllocatedError(key, formatIpValue(this.family, held), request.ip);
      }
      this.allocateFixed(key, addr, request.ip, request.allowExcluded ?? false);
      return formatIpValue(this.family, addr.value);
    }
    if (held !== undefined) return formatIpValue(this.family, held);
    const slot = this.pool.takeNext();
    if (slot === null) throw new AddressesExhaustedError(this.name, key);
    const value = this.valueAt(BigInt(slot));
    this.record(key, value, false);
    return formatIpValue(this.family, value);
  }

  /** Gives the key's address back (into quarantine unless `quarantine: false`); returns it. */
  release(key: string, options: { quarantine?: boolean } = {}): string | undefined {
    const value = this.byKey.get(key);
    if (value === undefined) return undefined;
    this.byKey.delete(key);
    this.byAddress.delete(value);
    if (this.isExcludedValue(value)) this.usedExcluded--;
    else this.pool.free(this.slotOf(value)!, options.quarantine ?? true);
    return formatIpValue(this.family, value);
  }

  get(key: string): string | undefined {
    const value = this.byKey.get(key);
    return value === undefined ? undefined : formatIpValue(this.family, value);
  }

  ownerOf(ip: string): string | undefined {
    const addr = parseIp(ip);
    return addr.family === this.family ? this.byAddress.get(addr.value) : undefined;
  }

  contains(ip: string): boolean {
    return cidrContains(this.cidr, parseIp(ip));
  }

  /** What an address is to this allocator (for candidate lists, status and diagnostics). */
  state(ip: string): AddressState {
    const addr = parseIp(ip);
    if (!cidrContains(this.cidr, addr)) return 'outside';
    if (this.reservedReasons.has(addr.value)) return 'reserved';
    const slot = this.slotOf(addr.value);
    if (slot === undefined) return 'outside';
    if (this.byAddress.has(addr.value)) return 'allocated';
    if (this.isExcludedValue(addr.value)) return 'excluded';
    return this.pool.state(slot) === 'quarantined' ? 'quarantined' : 'free';
  }

  /**
   * Replaces the whole state with existing allocations (pod annotations, NB ports, IP records).
   * Pass entries oldest first: for an address claimed twice the earlier key keeps it and the later
   * one is reported in `duplicates` for the caller to re-address, never merged silently.
   */
  rebuild(entries: Iterable<IpAllocation>, options: { allowExcluded?: boolean } = {}): IpRebuildReport {
    const report: IpRebuildReport = { restored: 0, duplicates: [], keyConflicts: [], rejected: [] };
    this.byKey.clear();
    this.byAddress.clear();
    this.usedExcluded = 0;
    this.pool = this.freshPool();
    let highest = NO_SLOT;
    for (const { key, ip } of entries) {
      try {
        const addr = parseIp(ip);
        const held = this.byKey.get(key);
        if (held !== undefined) {
          if (held !== addr.value || addr.family !== this.family) {
            report.keyConflicts.push({ key, ip, kept: formatIpValue(this.family, held) });
          }
          continue;
        }
        const slot = this.allocateFixed(key, addr, ip, options.allowExcluded ?? true);
        report.restored++;
        if (slot < BigInt(this.pool.windowSize) && Number(slot) > highest) highest = Number(slot);
      } catch (err) {
        if (err instanceof AddressInUseError) report.duplicates.push({ key, ip, heldBy: err.heldBy });
        else if (err instanceof IpamError) report.rejected.push({ key, ip, error: err });
        else throw err;
      }
    }
    // Continue after the highest restored address: addresses freed just before a restart are then
    // the last to come back, which narrows the window for a stale port still holding one.
    this.pool.setCursor(highest + 1);
    return report;
  }

  /** All allocations, by address. */
  allocations(): IpAllocation[] {
    return [...this.byAddress.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([value, key]) => ({ key, ip: formatIpValue(this.family, value) }));
  }

  get size(): number {
    return this.byKey.size;
  }

  usage(): IpUsage {
    const used = BigInt(this.byKey.size);
    return {
      size: this.domainSize,
      excluded: this.excludedCount,
      used,
      available: this.domainSize - this.excludedCount - (used - BigInt(this.usedExcluded)),
      quarantined: BigInt(this.pool.quarantinedCount),
    };
  }

  /** Allocated addresses as ranges (Kube-OVN status `v4usingIPrange`). */
  usedRanges(): IpRange[] {
    const values = [...this.byAddress.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return valuesToRanges(this.family, values);
  }

  /** Addresses that can still be handed out, quarantined included (Kube-OVN `v4availableIPrange`). */
  availableRanges(): IpRange[] {
    const domain = this.segments.map((s) => ({ family: this.family, first: s.first, last: s.last }));
    return subtractRanges(domain, [...this.excludedRanges, ...this.usedRanges()]);
  }

  excluded(): IpRange[] {
    return [...this.excludedRanges];
  }

  private allocateFixed(key: string, addr: IpAddress, text: string, allowExcluded: boolean): bigint {
    if (!cidrContains(this.cidr, addr)) throw new AddressOutOfRangeError(text, this.name);
    const reason = this.reservedReasons.get(addr.value);
    if (reason !== undefined) throw new AddressExcludedError(text, `${reason} ${this.name}`);
    const slot = this.slotOf(addr.value);
    if (slot === undefined) throw new AddressOutOfRangeError(text, `the ranges of ${this.name}`);
    const owner = this.byAddress.get(addr.value);
    if (owner !== undefined) throw new AddressInUseError(text, owner, key);
    const excluded = this.isExcludedValue(addr.value);
    if (excluded && !allowExcluded) {
      throw new AddressExcludedError(text, `it is in the excluded addresses of ${this.name}`);
    }
    // Excluded addresses keep their slot blocked; the allocation lives in the maps only.
    if (!excluded) this.pool.take(slot);
    this.record(key, addr.value, excluded);
    return slot;
  }

  private record(key: string, value: bigint, excluded: boolean): void {
    this.byKey.set(key, value);
    this.byAddress.set(value, key);
    if (excluded) this.usedExcluded++;
  }

  private freshPool(): IndexPool {
    const pool = new IndexPool(this.domainSize, this.poolOptions);
    const window = BigInt(pool.windowSize);
    for (const r of this.excludedRanges) {
      const first = this.slotOf(r.first)!;
      const last = this.slotOf(r.last)!;
      // Only window slots can be picked dynamically, so only they need blocking.
      const end = last < window ? last : window - 1n;
      for (let s = Number(first); s <= Number(end); s++) pool.take(BigInt(s));
    }
    return pool;
  }

  private isExcludedValue(value: bigint): boolean {
    return findRange(this.excludedRanges, value) !== undefined;
  }

  private slotOf(value: bigint): bigint | undefined {
    const seg = findRange(this.segments, value);
    return seg === undefined ? undefined : seg.startSlot + (value - seg.first);
  }

  private valueAt(slot: bigint): bigint {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.startSlot <= slot) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo]!;
    return seg.first + (slot - seg.startSlot);
  }
}

/** Binary search in sorted, disjoint ranges. */
function findRange<T extends { first: bigint; last: bigint }>(
  ranges: readonly T[],
  value: bigint,
): T | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (value < r.first) hi = mid - 1;
    else if (value > r.last) lo = mid + 1;
    else return r;
  }
  return undefined;
}
