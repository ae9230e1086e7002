/**
 * One address per family for a key, taken atomically from one IpAllocator per family: a dual-stack
 * node subnet, a Kube-OVN `Dual` Subnet, a pair of Spiderpool v4/v6 pools. If the second family
 * fails, the first family's new address is given back (without quarantine, it was never used).
 */
import { type IpFamily, parseIp } from './cidr.js';
import { AddressOutOfRangeError, InvalidPoolError, InvalidRangeError, IpamError } from './errors.js';
import { type IpAllocator, type IpRebuildReport, type IpUsage } from './ip-allocator.js';

export interface MultiAllocateRequest {
  /** Fixed addresses, at most one per family; families not named get the next free address. */
  ips?: readonly string[];
  allowExcluded?: boolean;
}

export interface MultiAllocation {
  key: string;
  /** In the order of the allocators (families), only the families the key holds. */
  ips: string[];
}

export class MultiFamilyAllocator {
  readonly allocators: readonly IpAllocator[];

  constructor(allocators: readonly IpAllocator[]) {
    const families = new Set<IpFamily>();
    for (const a of allocators) {
      if (families.has(a.family)) {
        throw new InvalidPoolError(
          `two IPv${a.family} allocators given (${allocators.map((x) => x.subnet).join(', ')})`,
        );
      }
      families.add(a.family);
    }
    if (allocators.length === 0) throw new InvalidPoolError('no allocator given');
    this.allocators = allocators;
  }

  get families(): IpFamily[] {
    return this.allocators.map((a) => a.family);
  }

  forFamily(family: IpFamily): IpAllocator | undefined {
    return this.allocators.find((a) => a.family === family);
  }

  /** One address from every family (idempotent per key; fills in families the key lacks). */
  allocate(key: string, request: MultiAllocateRequest = {}): string[] {
    const fixed = this.fixedByFamily(request.ips ?? []);
    const fresh: IpAllocator[] = [];
    try {
      return this.allocators.map((a) => {
        const had = a.get(key) !== undefined;
        const ip = a.allocate(key, { ip: fixed.get(a.family), allowExcluded: request.allowExcluded });
        if (!had) fresh.push(a);
        return ip;
      });
    } catch (err) {
      for (const a of fresh) a.release(key, { quarantine: false });
      throw err;
    }
  }

  release(key: string, options: { quarantine?: boolean } = {}): string[] {
    return this.allocators.flatMap((a) => a.release(key, options) ?? []);
  }

  /** The key's addresses, or undefined when it holds none. */
  get(key: string): string[] | undefined {
    const ips = this.allocators.flatMap((a) => a.get(key) ?? []);
    return ips.length > 0 ? ips : undefined;
  }

  ownerOf(ip: string): string | undefined {
    return this.forFamily(parseIp(ip).family)?.ownerOf(ip);
  }

  /** Every address goes to the allocator of its family; reports are merged. */
  rebuild(entries: Iterable<MultiAllocation>, options: { allowExcluded?: boolean } = {}): IpRebuildReport {
    const perAllocator = new Map<IpAllocator, { key: string; ip: string }[]>(
      this.allocators.map((a) => [a, []]),
    );
    const report: IpRebuildReport = { restored: 0, duplicates: [], keyConflicts: [], rejected: [] };
    for (const { key, ips } of entries) {
      for (const ip of ips) {
        let family: IpFamily;
        try {
          family = parseIp(ip).family;
        } catch (err) {
          if (!(err instanceof IpamError)) throw err;
          report.rejected.push({ key, ip, error: err });
          continue;
        }
        const a = this.forFamily(family);
        if (a) perAllocator.get(a)!.push({ key, ip });
        else report.rejected.push({ key, ip, error: new AddressOutOfRangeError(ip, this.describe()) });
      }
    }
    for (const [a, list] of perAllocator) {
      const r = a.rebuild(list, options);
      report.restored += r.restored;
      report.duplicates.push(...r.duplicates);
      report.keyConflicts.push(...r.keyConflicts);
      report.rejected.push(...r.rejected);
    }
    return report;
  }

  allocations(): MultiAllocation[] {
    const byKey = new Map<string, string[]>();
    for (const a of this.allocators) {
      for (const { key, ip } of a.allocations()) {
        const list = byKey.get(key);
        if (list) list.push(ip);
        else byKey.set(key, [ip]);
      }
    }
    return [...byKey].map(([key, ips]) => ({ key, ips }));
  }

  usage(): Map<IpFamily, IpUsage> {
    return new Map(this.allocators.map((a) => [a.family, a.usage()]));
  }

  private fixedByFamily(ips: readonly string[]): Map<IpFamily, string> {
    const out = new Map<IpFamily, string>();
    for (const ip of ips) {
      const { family } = parseIp(ip);
      if (out.has(family))
        throw new InvalidRangeError(ips.join(','), `more than one IPv${family} address requested`);
      if (!this.forFamily(family)) throw new AddressOutOfRangeError(ip, this.describe());
      out.set(family, ip);
    }
    return out;
  }

  private describe(): string {
    return this.allocators.map((a) => a.name).join(' and ');
  }
}
