/**
 * Pods: an address from the node's subnet (ours, never northd's `dynamic`), the logical switch
 * port `<ns>_<pod>`, then the annotations `k8s.ovn.org/pod-networks` and the original's `ovn`.
 * Finished, deleted, unscheduled and host-network pods have no port and hold no address.
 *
 * Address rules: a pod keeps the address its annotation records (after a restart, too); an
 * address freed by a finished pod goes to quarantine; .1 and .2 are reserved by the allocator;
 * an address that was allocated for a port that never committed is given back at once.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { POD_NODE_INDEX } from '../k8s/factory.js';
import { PODS, objectKey } from '../k8s/resources.js';
import type { MultiAllocation, MultiFamilyAllocator } from '../ipam/index.js';
import { hostIp, ipOf, macFromIp } from '../ovn/intent/addr.js';
import { cidrContains as ipamCidrContains, parseCidr as ipamParseCidr, tryParseIp } from '../ipam/cidr.js';
import { podRows, type PodInfo } from '../ovn/intent/index.js';
import {
  LEGACY_POD_ANNOTATION,
  POD_NETWORKS_ANNOTATION,
  nodeSwitch,
  ownerOf,
  podOwner,
} from '../ovn/names.js';
import { applyOwned, podKey, type ControllerContext, DependencyNotReadyError } from './context.js';
import {
  legacyPodAnnotation,
  podNetworkFromAnnotation,
  podNetworksAnnotation,
  podWantsPort,
  samePodInputs,
  type PodNetwork,
} from './convert.js';
import type { NetworkController } from './network-controller.js';
import { syncPodAttachments } from './secondary-attachments.js';
import { compareCreation } from '../k8s/order.js';

/** Subnet facts the pod path needs for every pod, parsed once per subnet. */
interface SubnetFacts {
  subnet: string;
  prefix: number;
  gateway: string;
  contains(ip: string): boolean;
}
const subnetFacts = new Map<string, SubnetFacts>();
function factsOf(subnet: string): SubnetFacts {
  let f = subnetFacts.get(subnet);
  if (!f) {
    const cidr = ipamParseCidr(subnet, { allowHostBits: true });
    const prefix = cidr.prefixLength;
    f = {
      subnet,
      prefix,
      gateway: hostIp(subnet, 1),
      contains: (ip) => {
        const addr = tryParseIp(ip);
        return addr !== null && ipamCidrContains(cidr, addr);
      },
    };
    subnetFacts.set(subnet, f);
  }
  return f;
}
const subnetOf = (ip: string, subnets: readonly string[]): SubnetFacts | undefined =>
  subnets.map(factsOf).find((f) => f.contains(ip));
const inSubnets = (ip: string, subnets: readonly string[]): boolean => subnetOf(ip, subnets) !== undefined;

const byCreation = (a: V1Pod, b: V1Pod): number =>
  compareCreation(a, b) || objectKey(a).localeCompare(objectKey(b));

export class PodController {
  /** pod key (ns/name) -> node whose allocator holds its addresses */
  private readonly placed = new Map<string, string>();
  /** pod key -> the annotations being written to it, until the write's watch event is seen */
  private readonly writing = new Map<string, Record<string, string>>();

  /** `networks`: secondary OVN networks (network-controller.ts); their attachments run in the pod's key */
  constructor(
    private readonly ctx: ControllerContext,
    readonly networks?: NetworkController,
  ) {}

  async sync(nsName: string): Promise<void> {
    const { ctx } = this;
    const key = podKey(nsName);
    const [namespace, name] = nsName.split('/') as [string, string];
    const owner = podOwner(namespace, name);
    const pod = ctx.informers.pods.store.get(nsName);
    if (!podWantsPort(pod)) {
      await applyOwned(ctx, key, owner, []);
      this.release(nsName, true);
      if (this.networks) await syncPodAttachments(this.networks, key, nsName, undefined);
      return;
    }
    const node = pod.spec!.nodeName!;
    const subnets = ctx.ipam.subnetsOf(node);
    if (!subnets || ctx.view.byName('Logical_Switch', nodeSwitch(node)).length === 0)
      throw new DependencyNotReadyError(`pod ${nsName}: node ${node} has no switch yet`);
    const prev = this.placed.get(nsName);
    if (prev !== undefined && prev !== node) this.release(nsName, true);
    const alloc = ctx.ipam.podAllocator(node, subnets, () => this.existingOn(node, subnets));
    const held = alloc.get(nsName);
    const ips = held ?? this.allocate(alloc, nsName, pod, subnets);
    this.placed.set(nsName, node);
    const facts = ips.map((ip) => subnetOf(ip, subnets)!);
    const withLen = ips.map((ip, i) => `${ip}/${facts[i]!.prefix}`);
    const info: PodInfo = { namespace, name, node, ips: withLen, mac: macFromIp(ips[0]!) };
    if (pod.metadata?.uid) info.uid = pod.metadata.uid;
    try {
      await applyOwned(ctx, key, owner, podRows(info));
    } catch (err) {
      // an address that no committed port or annotation ever showed can go back at once
      if (!held && !podNetworkFromAnnotation(pod)) {
        alloc.release(nsName, { quarantine: false });
        this.placed.delete(nsName);
      }
      throw err;
    }
    const attachments = this.networks ? await syncPodAttachments(this.networks, key, nsName, pod) : {};
    const net: PodNetwork = {
      ips: withLen,
      mac: info.mac!,
      gateways: facts.map((f) => f.gateway),
    };
    // a pod deleted or re-created meanwhile is left alone: its own event queues the key again
    const changes = {
      [POD_NETWORKS_ANNOTATION]: podNetworksAnnotation(net, attachments),
      [LEGACY_POD_ANNOTATION]: legacyPodAnnotation(net),
    };
    this.writing.set(nsName, changes);
    await ctx.annotator.annotate(PODS, pod, changes);
  }

  /**
   * True for the watch event of this controller's own annotation write (the pod changed in
   * nothing but those values): re-running the key for it would only find everything converged.
   * Skipping it halves the work of a cold start.
   */
  isOwnWrite(old: V1Pod, cur: V1Pod): boolean {
    const k = objectKey(cur);
    const wrote = this.writing.get(k);
    const now = cur.metadata?.annotations ?? {};
    if (!wrote || Object.entries(wrote).some(([a, v]) => now[a] !== v)) return false;
    this.writing.delete(k);
    return samePodInputs(old, cur, wrote);
  }

  /** The annotated address when it is free (or already this pod's), else the next free one. */
  private allocate(alloc: MultiFamilyAllocator, nsName: string, pod: V1Pod, subnets: string[]): string[] {
    const recorded =
      podNetworkFromAnnotation(pod)
        ?.ips.map(ipOf)
        .filter((ip) => inSubnets(ip, subnets)) ?? [];
    if (recorded.length > 0) {
      try {
        return alloc.allocate(nsName, { ips: recorded });
      } catch (err) {
        this.ctx.log.warn(
          { pod: nsName, ips: recorded, err: (err as Error).message },
          'recorded pod address unusable',
        );
      }
    }
    return alloc.allocate(nsName);
  }

  private release(nsName: string, quarantine: boolean): void {
    const node = this.placed.get(nsName);
    if (node === undefined) return;
    this.ctx.ipam.podAllocatorIfBuilt(node)?.release(nsName, { quarantine });
    this.placed.delete(nsName);
  }

  /**
   * Addresses in use on a node: the annotations of its live pods (oldest first), then ports in NB
   * owned by pods (a port committed before a crash, whose annotation was never written, or the
   * port of a pod that is gone and not yet swept).
   */
  private *existingOn(node: string, subnets: string[]): Iterable<MultiAllocation> {
    const seen = new Set<string>();
    const pods = this.ctx.informers.pods.store
      .byIndex(POD_NODE_INDEX, node)
      .filter(podWantsPort)
      .sort(byCreation);
    for (const pod of pods) {
      const ips =
        podNetworkFromAnnotation(pod)
          ?.ips.map(ipOf)
          .filter((ip) => inSubnets(ip, subnets)) ?? [];
      if (ips.length === 0) continue;
      const k = objectKey(pod);
      seen.add(k);
      this.placed.set(k, node);
      yield { key: k, ips };
    }
    const sw = this.ctx.view.byName('Logical_Switch', nodeSwitch(node))[0];
    const ports = Array.isArray(sw?.ports) ? sw.ports : [];
    for (const uuid of ports) {
      if (typeof uuid !== 'string') continue;
      const lsp = this.ctx.view.get('Logical_Switch_Port', uuid);
      const owner = ownerOf(lsp?.external_ids);
      if (!lsp || owner?.type !== 'Pod' || seen.has(owner.id)) continue;
      const addrs = Array.isArray(lsp.addresses) ? lsp.addresses : [];
      const ips = String(addrs[0] ?? '')
        .split(' ')
        .slice(1)
        .filter((ip) => ip !== '' && inSubnets(ip, subnets));
      if (ips.length === 0) continue;
      seen.add(owner.id);
      this.placed.set(owner.id, node);
      yield { key: owner.id, ips };
    }
  }

  /** Pods of a node, for re-queueing. */
  podsOn(node: string): string[] {
    return this.ctx.informers.pods.store.byIndex(POD_NODE_INDEX, node).map((p) => podKey(objectKey(p)));
  }
}
