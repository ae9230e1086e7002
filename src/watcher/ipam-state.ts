/**
 * The watcher's address bookkeeping, all in memory and always rebuilt from Kubernetes and NB at
 * start (never trusted from a previous run): host subnets per node, the gateway routers' join IPs,
 * and one pod-address allocator per node (built on first use from the pods' annotations and the
 * NB ports, so an address that is in use anywhere is never handed out twice).
 */
import {
  HostSubnetAllocator,
  IpAllocator,
  MultiFamilyAllocator,
  createNodeIpAllocator,
  type HostSubnetAssignment,
  type MultiAllocation,
} from '../ipam/index.js';
import { hostIp } from '../ovn/intent/addr.js';

export interface IpamLogger {
  warn(obj: object, msg: string): void;
}

/** The same set of subnets, whatever the order. */
const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

export class ClusterIpam {
  readonly hostSubnets: HostSubnetAllocator;
  private readonly join: MultiFamilyAllocator;
  private readonly pods = new Map<string, { subnets: string[]; alloc: MultiFamilyAllocator }>();

  constructor(
    clusterSubnets: readonly string[],
    joinSubnets: readonly string[],
    private readonly log?: IpamLogger,
  ) {
    this.hostSubnets = new HostSubnetAllocator(clusterSubnets);
    // host 1 of each join subnet is the cluster router's; gateway routers get the others
    this.join = new MultiFamilyAllocator(
      joinSubnets.map(
        (s) => new IpAllocator({ subnet: s, reserved: [hostIp(s, 1)], name: `join subnet ${s}` }),
      ),
    );
  }

  /** Start-up: the node subnets recorded in annotations (or NB), oldest node first. */
  rebuildHostSubnets(assignments: Iterable<HostSubnetAssignment>): void {
    const report = this.hostSubnets.rebuild(assignments);
    for (const d of report.duplicates)
      this.log?.warn(d, 'node subnet recorded twice; the later node gets a new one');
    for (const r of report.rejected)
      this.log?.warn(
        { owner: r.owner, subnet: r.subnet, err: r.error.message },
        'recorded node subnet unusable',
      );
  }

  /** Start-up: the gateway routers' join IPs recorded in annotations (or NB). */
  rebuildJoinIps(entries: Iterable<MultiAllocation>): void {
    const report = this.join.rebuild(entries);
    for (const d of report.duplicates)
      this.log?.warn(d, 'join IP recorded twice; the later node gets a new one');
  }

  /**
   * The node's host subnets: the explicit ones when given and free (an annotation, minion-init's
   * switch), else what it holds, else new ones.
   */
  nodeSubnets(node: string, explicit: readonly string[]): string[] {
    const held = this.hostSubnets.get(node);
    if (explicit.length > 0) {
      if (held && sameSet(held, explicit)) return held;
      try {
        return this.hostSubnets.reserve(node, explicit);
      } catch (err) {
        this.log?.warn(
          { node, subnets: explicit, err: (err as Error).message },
          'explicit node subnet refused',
        );
      }
    }
    return this.hostSubnets.allocate(node);
  }

  subnetsOf(node: string): string[] | undefined {
    return this.hostSubnets.get(node);
  }

  /** The node's gateway-router join IPs (`ip/len`), keeping `wanted` when it is free. */
  joinIps(node: string, wanted: readonly string[]): string[] {
    const ips = (() => {
      const held = this.join.get(node);
      if (held) return held;
      if (wanted.length > 0) {
        try {
          return this.join.allocate(node, { ips: wanted.map((w) => w.split('/')[0]!) });
        } catch {
          /* taken or outside: a new one */
        }
      }
      return this.join.allocate(node);
    })();
    return ips.map((ip) => {
      const a = this.join.allocators.find((x) => x.contains(ip))!;
      return `${ip}/${a.cidr.prefixLength}`;
    });
  }

  /** The node is gone: its subnets and join IPs go back (quarantined), its pod allocator is dropped. */
  releaseNode(node: string): void {
    this.hostSubnets.release(node);
    this.join.release(node);
    this.pods.delete(node);
  }

  releaseJoinIps(node: string): void {
    this.join.release(node);
  }

  /**
   * The pod allocator of a node, built on first use (or when the node's subnets changed) from
   * `existing()`: pod keys and addresses already in use, oldest first.
   */
  podAllocator(
    node: string,
    subnets: readonly string[],
    existing: () => Iterable<MultiAllocation>,
  ): MultiFamilyAllocator {
    const cur = this.pods.get(node);
    if (cur && sameSet(cur.subnets, subnets)) return cur.alloc;
    const alloc = createNodeIpAllocator(node, subnets);
    const report = alloc.rebuild(existing());
    for (const d of report.duplicates)
      this.log?.warn({ node, ...d }, 'pod address claimed twice; the later pod gets a new one');
    this.pods.set(node, { subnets: [...subnets], alloc });
    return alloc;
  }

  /** The allocator of `node` if it was built. */
  podAllocatorIfBuilt(node: string): MultiFamilyAllocator | undefined {
    return this.pods.get(node)?.alloc;
  }
}
