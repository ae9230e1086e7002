/**
 * Host subnets carved out of the cluster subnets (`--cluster-subnets 10.128.0.0/14/23`): each owner
 * (a node, or a node of a layer3 secondary network) gets one subnet of every configured family.
 *
 * Every cluster subnet is split into 2^(hostPrefix - clusterPrefix) slots; slot n is the n-th
 * host subnet (10.128.0.0/23, 10.128.2.0/23, ...). New owners get the next never-used slot; freed
 * slots wait in an unbounded quarantine and are reused only when no other slot is free, so a node
 * that comes back rarely lands on a subnet some stale state still refers to. Explicit subnets
 * (`--minion-switch-subnet`, a node annotation) are honoured through `reserve`.
 *
 * Persistence is the caller's: the result goes to `k8s.ovn.org/node-subnets`, and `rebuild` takes
 * those annotations back at start, so the same owners keep the same subnets across restarts.
 */
import {
  type Cidr,
  type ClusterSubnet,
  type IpFamily,
  cidrContainsCidr,
  cidrEquals,
  familyBits,
  formatCidr,
  formatClusterSubnet,
  parseCidr,
  parseClusterSubnets,
} from './cidr.js';
import {
  InvalidRangeError,
  IpamError,
  SubnetConflictError,
  SubnetOutOfRangeError,
  SubnetsExhaustedError,
} from './errors.js';
import { IndexPool } from './index-pool.js';

export interface HostSubnetAllocatorOptions {
  /** Largest slot bitmap per cluster subnet (IPv6 /48/64 has 65,536 slots). Default 2^20. */
  maxBitmapSize?: number;
}

export interface HostSubnetAssignment {
  owner: string;
  /** One per family, in the order the families first appear in the cluster subnets. */
  subnets: string[];
}

export interface SubnetRebuildReport {
  restored: number;
  /** The subnet overlaps one restored earlier for another owner; the earlier owner keeps it. */
  duplicates: { owner: string; subnet: string; heldBy: string }[];
  /** The owner was listed with a second, different subnet of the same family; the first is kept. */
  ownerConflicts: { owner: string; subnet: string; kept: string }[];
  /** Unusable entries: unparsable, outside every cluster subnet, too wide. */
  rejected: { owner: string; subnet: string; error: IpamError }[];
}

export interface HostSubnetUsage {
  family: IpFamily;
  /** Host subnets the cluster subnets of this family can hold. */
  total: bigint;
  allocated: number;
}

/** An explicit subnet wider than the host prefix covers several slots; more than this is refused. */
const MAX_SLOTS_PER_SUBNET = 1 << 16;

interface ClusterEntry {
  readonly cluster: ClusterSubnet;
  readonly text: string;
  /** log2 of the host subnet size. */
  readonly shift: bigint;
  pool: IndexPool;
  readonly slotOwners: Map<bigint, string>;
}

interface Held {
  cidr: Cidr;
  /** `cidr` as text, formatted once: every pod sync asks for its node's subnets */
  text: string;
  entry: ClusterEntry;
  slots: bigint[];
}

export class HostSubnetAllocator {
  readonly clusterSubnets: readonly ClusterSubnet[];
  readonly families: readonly IpFamily[];
  private readonly entries: ClusterEntry[];
  private readonly owners = new Map<string, Map<IpFamily, Held>>();

  constructor(
    clusterSubnets: string | readonly (string | ClusterSubnet)[],
    private readonly options: HostSubnetAllocatorOptions = {},
  ) {
    const parsed =
      typeof clusterSubnets === 'string'
        ? parseClusterSubnets(clusterSubnets)
        : parseClusterSubnets(
            clusterSubnets.map((c) => (typeof c === 'string' ? c : formatClusterSubnet(c))),
          );
    if (parsed.length === 0) throw new InvalidRangeError(String(clusterSubnets), 'no cluster subnet given');
    this.clusterSubnets = parsed;
    this.families = [...new Set(parsed.map((c) => c.cidr.family))];
    this.entries = parsed.map((cluster) => ({
      cluster,
      text: formatClusterSubnet(cluster),
      shift: BigInt(familyBits(cluster.cidr.family) - cluster.hostPrefixLength),
      pool: this.freshPool(cluster),
      slotOwners: new Map(),
    }));
  }

  /** The owner's subnets, allocating the families it lacks (idempotent). Atomic across families. */
  allocate(owner: string): string[] {
    const held = this.owners.get(owner) ?? new Map<IpFamily, Held>();
    const added: IpFamily[] = [];
    try {
      for (const family of this.families) {
        if (held.has(family)) continue;
        const got = this.takeNext(family);
        if (!got) {
          const texts = this.entries.filter((e) => e.cluster.cidr.family === family).map((e) => e.text);
          throw new SubnetsExhaustedError(family, texts, owner);
        }
        const [entry, slot] = got;
        entry.slotOwners.set(slot, owner);
        const cidr = this.slotCidr(entry, slot);
        held.set(family, { cidr, text: formatCidr(cidr), entry, slots: [slot] });
        added.push(family);
      }
    } catch (err) {
      for (const family of added) this.drop(owner, held.get(family)!, false);
      for (const family of added) held.delete(family);
      throw err;
    }
    if (held.size > 0) this.owners.set(owner, held);
    return this.format(held);
  }

  /**
   * Gives the owner exactly these subnets (at most one per family), replacing what it held in those
   * families. All are checked before anything changes. Throws SubnetOutOfRangeError,
   * SubnetConflictError, InvalidCidrError or InvalidRangeError.
   */
  reserve(owner: string, subnets: readonly string[]): string[] {
    const plan: Held[] = [];
    for (const text of subnets) {
      const cidr = parseCidr(text);
      if (plan.some((p) => p.cidr.family === cidr.family)) {
        throw new InvalidRangeError(subnets.join(','), `more than one IPv${cidr.family} subnet for ${owner}`);
      }
      const held = this.place(cidr, text);
      for (const slot of held.slots) {
        const other = held.entry.slotOwners.get(slot);
        if (other !== undefined && other !== owner) {
          const theirs = this.owners.get(other)?.get(cidr.family);
          throw new SubnetConflictError(text, other, theirs ? formatCidr(theirs.cidr) : '?', owner);
        }
      }
      plan.push(held);
    }
    const current = this.owners.get(owner) ?? new Map<IpFamily, Held>();
    for (const next of plan) {
      const old = current.get(next.cidr.family);
      if (old && cidrEquals(old.cidr, next.cidr)) continue;
      if (old) this.drop(owner, old, true);
      for (const slot of next.slots) {
        next.entry.pool.take(slot);
        next.entry.slotOwners.set(slot, owner);
      }
      current.set(next.cidr.family, next);
    }
    if (current.size > 0) this.owners.set(owner, current);
    return this.format(current);
  }

  /** Frees the owner's subnets (into quarantine); returns them. */
  release(owner: string): string[] {
    const held = this.owners.get(owner);
    if (!held) return [];
    const out = this.format(held);
    for (const h of held.values()) this.drop(owner, h, true);
    this.owners.delete(owner);
    return out;
  }

  get(owner: string): string[] | undefined {
    const held = this.owners.get(owner);
    return held ? this.format(held) : undefined;
  }

  /** The owner of the host subnet that contains (or is) this subnet. */
  ownerOf(subnet: string): string | undefined {
    const cidr = parseCidr(subnet, { allowHostBits: true });
    const entry = this.entries.find((e) => cidrContainsCidr(e.cluster.cidr, cidr));
    if (!entry) return undefined;
    return entry.slotOwners.get((cidr.network - entry.cluster.cidr.network) >> entry.shift);
  }

  /**
   * Replaces the whole state with recorded assignments (node annotations). Pass entries in a stable
   * order (e.g. oldest node first): for overlapping subnets the earlier owner keeps its subnet and the
   * later one is reported, never merged.
   */
  rebuild(assignments: Iterable<HostSubnetAssignment>): SubnetRebuildReport {
    const report: SubnetRebuildReport = { restored: 0, duplicates: [], ownerConflicts: [], rejected: [] };
    this.owners.clear();
    for (const e of this.entries) {
      e.pool = this.freshPool(e.cluster);
      e.slotOwners.clear();
    }
    const highest = new Map<ClusterEntry, bigint>();
    for (const { owner, subnets } of assignments) {
      for (const text of subnets) {
        let held: Held;
        try {
          held = this.place(parseCidr(text), text);
        } catch (err) {
          if (!(err instanceof IpamError)) throw err;
          report.rejected.push({ owner, subnet: text, error: err });
          continue;
        }
        const mine = this.owners.get(owner) ?? new Map<IpFamily, Held>();
        const kept = mine.get(held.cidr.family);
        if (kept) {
          if (!cidrEquals(kept.cidr, held.cidr)) {
            report.ownerConflicts.push({ owner, subnet: text, kept: formatCidr(kept.cidr) });
          }
          continue;
        }
        const other = held.slots.map((s) => held.entry.slotOwners.get(s)).find((o) => o !== undefined);
        if (other !== undefined) {
          report.duplicates.push({ owner, subnet: text, heldBy: other });
          continue;
        }
        for (const slot of held.slots) {
          held.entry.pool.take(slot);
          held.entry.slotOwners.set(slot, owner);
          if (slot > (highest.get(held.entry) ?? -1n)) highest.set(held.entry, slot);
        }
        mine.set(held.cidr.family, held);
        this.owners.set(owner, mine);
        report.restored++;
      }
    }
    // New nodes continue after the highest restored slot, so subnets freed just before the restart
    // (whose nodes may still be cleaned up elsewhere) are not the first to be handed out again.
    for (const [entry, slot] of highest) {
      if (slot + 1n < BigInt(entry.pool.windowSize)) entry.pool.setCursor(Number(slot + 1n));
    }
    return report;
  }

  /** All assignments, by owner name. */
  allocations(): HostSubnetAssignment[] {
    return [...this.owners.keys()].sort().map((owner) => ({ owner, subnets: this.get(owner)! }));
  }

  usage(): HostSubnetUsage[] {
    return this.families.map((family) => {
      const entries = this.entries.filter((e) => e.cluster.cidr.family === family);
      let allocated = 0;
      for (const held of this.owners.values()) if (held.has(family)) allocated++;
      return { family, total: entries.reduce((n, e) => n + e.pool.size, 0n), allocated };
    });
  }

  private takeNext(family: IpFamily): [ClusterEntry, bigint] | undefined {
    const entries = this.entries.filter((e) => e.cluster.cidr.family === family);
    // Never-used slots in any cluster subnet first; quarantined ones only when nothing else is free.
    for (const reuse of [false, true]) {
      for (const e of entries) {
        const slot = e.pool.takeNext(reuse);
        if (slot !== null) return [e, BigInt(slot)];
      }
    }
    return undefined;
  }

  /** Which cluster subnet and slots an explicit subnet occupies. */
  private place(cidr: Cidr, text: string): Held {
    const entry = this.entries.find((e) => cidrContainsCidr(e.cluster.cidr, cidr));
    if (!entry) {
      const sameFamily = this.entries.filter((e) => e.cluster.cidr.family === cidr.family).map((e) => e.text);
      throw new SubnetOutOfRangeError(text, sameFamily);
    }
    const first = (cidr.network - entry.cluster.cidr.network) >> entry.shift;
    const wider = entry.cluster.hostPrefixLength - cidr.prefixLength;
    const count = wider > 0 ? 1n << BigInt(wider) : 1n;
    if (count > BigInt(MAX_SLOTS_PER_SUBNET)) {
      throw new InvalidRangeError(text, `covers ${count} host subnets of /${entry.cluster.hostPrefixLength}`);
    }
    const slots: bigint[] = [];
    for (let i = 0n; i < count; i++) slots.push(first + i);
    return { cidr, text: formatCidr(cidr), entry, slots };
  }

  private drop(owner: string, held: Held, quarantine: boolean): void {
    for (const slot of held.slots) {
      if (held.entry.slotOwners.get(slot) !== owner) continue;
      held.entry.slotOwners.delete(slot);
      held.entry.pool.free(slot, quarantine);
    }
  }

  private slotCidr(entry: ClusterEntry, slot: bigint): Cidr {
    return {
      family: entry.cluster.cidr.family,
      network: entry.cluster.cidr.network + (slot << entry.shift),
      prefixLength: entry.cluster.hostPrefixLength,
    };
  }

  private format(held: Map<IpFamily, Held>): string[] {
    return this.families.flatMap((f) => {
      const h = held.get(f);
      return h ? [h.text] : [];
    });
  }

  private freshPool(cluster: ClusterSubnet): IndexPool {
    const count = 1n << BigInt(cluster.hostPrefixLength - cluster.cidr.prefixLength);
    return new IndexPool(count, {
      quarantine: { maxSize: Infinity },
      maxBitmapSize: this.options.maxBitmapSize,
    });
  }
}
