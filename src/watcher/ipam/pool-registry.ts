/**
 * The IpPools of the cluster, one per Kube-OVN Subnet and per SpiderIPPool, keyed `Subnet/<name>`
 * and `SpiderIPPool/<name>`. A spec change re-creates the pool and re-applies its allocations
 * (rebuild), so what no longer fits (an address now outside, a new gateway) is reported and its
 * holder can be re-served.
 */
import {
  IpPool,
  kubeOvnSubnetPoolSpec,
  parseCidr,
  spiderIpPoolSpec,
  type IpPoolSpec,
  type IpRebuildReport,
  type PoolRebuildEntry,
} from '../../ipam/index.js';
import type { KubeOvnSubnet, SpiderIpPool } from './resources.js';

export type PoolKind = 'Subnet' | 'SpiderIPPool';

export interface PoolEntry {
  id: string;
  kind: PoolKind;
  name: string;
  pool: IpPool;
  /** JSON of the spec parts the pool was made from: a change means re-creating it. */
  specText: string;
  /** Kube-OVN provider (`ovn`, `<nad>.<ns>`, `<nad>.<ns>.ovn`). */
  provider?: string;
  namespaces?: string[];
  /** CIDRs, comma-joined (Kube-OVN `cidr` annotation). */
  cidrText: string;
  spider?: {
    family: 4 | 6;
    multusName: string[];
    namespaceName: string[];
    nodeName: string[];
    isDefault: boolean;
    disabled: boolean;
  };
}

export const poolId = (kind: PoolKind, name: string): string => `${kind}/${name}`;

export interface PoolChange {
  entry: PoolEntry;
  /** Allocations that did not survive a spec change (their keys). */
  dropped: string[];
  report?: IpRebuildReport;
}

export class PoolRegistry {
  private readonly pools = new Map<string, PoolEntry>();

  get(id: string): PoolEntry | undefined {
    return this.pools.get(id);
  }

  all(): PoolEntry[] {
    return [...this.pools.values()];
  }

  /** Kube-OVN Subnets of a provider, by name. */
  subnetsForProvider(provider: string, namespace: string): PoolEntry[] {
    const list = this.all()
      .filter((p) => p.kind === 'Subnet' && p.provider === provider)
      .sort((a, b) => a.name.localeCompare(b.name));
    // A Subnet bound to the pod's namespace wins over an unbound one.
    const bound = list.filter((p) => p.namespaces?.includes(namespace));
    return bound.length > 0 ? bound : list.filter((p) => !p.namespaces || p.namespaces.length === 0);
  }

  /** Throws the ipam layer's InvalidPoolError (or cidr errors) for a spec that cannot work. */
  upsertSubnet(obj: KubeOvnSubnet): PoolChange {
    const name = obj.metadata?.name ?? '';
    const s = obj.spec ?? { cidrBlock: '' };
    const spec = kubeOvnSubnetPoolSpec(name, {
      protocol: s.protocol,
      cidrBlock: s.cidrBlock,
      gateway: s.gateway,
      excludeIps: s.excludeIps,
    });
    const extra = { provider: s.provider ?? 'ovn', namespaces: s.namespaces ?? [] };
    return this.upsert('Subnet', name, spec, extra, (entry) => {
      entry.provider = extra.provider;
      entry.namespaces = extra.namespaces;
    });
  }

  upsertSpiderPool(obj: SpiderIpPool): PoolChange {
    const name = obj.metadata?.name ?? '';
    const s = obj.spec ?? { subnet: '' };
    const spec = spiderIpPoolSpec(name, s);
    const family = parseCidr(s.subnet).family;
    const spider = {
      family,
      multusName: s.multusName ?? [],
      namespaceName: s.namespaceName ?? [],
      nodeName: s.nodeName ?? [],
      isDefault: s.default === true,
      disabled: s.disable === true,
    };
    return this.upsert('SpiderIPPool', name, spec, spider, (entry) => {
      entry.spider = spider;
    });
  }

  remove(kind: PoolKind, name: string): PoolEntry | undefined {
    const id = poolId(kind, name);
    const e = this.pools.get(id);
    this.pools.delete(id);
    return e;
  }

  private upsert(
    kind: PoolKind,
    name: string,
    spec: IpPoolSpec,
    extra: unknown,
    decorate: (e: PoolEntry) => void,
  ): PoolChange {
    const id = poolId(kind, name);
    const specText = JSON.stringify([spec, extra]);
    const old = this.pools.get(id);
    if (old && old.specText === specText) return { entry: old, dropped: [] };
    const pool = new IpPool(spec);
    const entry: PoolEntry = { id, kind, name, pool, specText, cidrText: spec.subnets.join(',') };
    decorate(entry);
    let dropped: string[] = [];
    let report: IpRebuildReport | undefined;
    if (old) {
      // Re-apply what the old pool held; whatever no longer fits is reported and dropped.
      const entries: PoolRebuildEntry[] = old.pool.allocations().map((a) => ({
        owner: a.statefulSet ?? a.key,
        ips: a.addresses.map((x) => x.ip),
      }));
      report = pool.rebuild(entries);
      const kept = new Set(pool.allocations().map((a) => a.key));
      dropped = old.pool
        .allocations()
        .map((a) => a.key)
        .filter((k) => !kept.has(k));
    }
    this.pools.set(id, entry);
    return { entry, dropped, ...(report ? { report } : {}) };
  }
}
