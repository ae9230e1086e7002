/**
 * A pod's attachments to secondary OVN networks, planned inside the pod's own key: for every
 * selection of `k8s.v1.cni.cncf.io/networks` that names one of our NADs, the addresses (kept from
 * the pod's annotation, else the selection's static `ips`, else the next free one), the port
 * (podAttachmentRows) and the `k8s.ovn.org/pod-networks` entry; attachments the pod no longer has
 * (or a pod that is gone) are planned for removal.
 *
 * Address rules (ovn-k multi-homing): a network without subnets (layer2/localnet only) takes the
 * selection's static IPs as they are; with subnets, static IPs must lie inside them (layer3: the
 * pod's node subnet in the network) and are reserved. A selection that cannot be served gets a
 * Warning Event on the pod and is left out; the pod's other networks are not held up.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { formatMac, isValidMac, normalizeMac } from '../ipam/mac.js';
import { parseIpWithPrefix, tryParseIp, cidrContains, parseCidr } from '../ipam/cidr.js';
import {
  DEFAULT_NETWORK_ANNOTATION,
  InvalidNetworkSelectionError,
  podNetworkSelections,
  selectionKey,
  type NetworkSelection,
} from '../multinet/index.js';
import { macFromIp } from '../ovn/intent/addr.js';
import type { DesiredRow } from '../ovn/intent/index.js';
import {
  attachmentOwner,
  networkSwitchFor,
  podAttachmentAnnotation,
  podAttachmentRows,
  type PodAttachmentInfo,
  type PodNetworkEntry,
} from '../ovn/intent/secondary.js';
import type { OwnerRef } from '../ovn/names.js';
import { createHash } from 'node:crypto';
import { reconcile } from '../ovn/reconcile/reconcile.js';
import { DependencyNotReadyError, type ControllerContext } from './context.js';
import { networkKey, type NetworkController, type NetworkState } from './network-controller.js';
import { recordedAttachments } from './secondary-annotations.js';

export class AttachmentError extends Error {
  override name = 'AttachmentError';
}

export interface AttachmentPlan {
  /** every attachment owner to reconcile: the desired ones and the ones to remove */
  owners: OwnerRef[];
  rows: DesiredRow[];
  /** `k8s.ovn.org/pod-networks` entries keyed `<ns>/<nad>` */
  entries: Record<string, PodNetworkEntry>;
  /** problems to report on the pod (reason, message) */
  problems: { reason: string; message: string }[];
  /** after a failed commit: gives back addresses this plan took that nothing ever recorded */
  rollback(): void;
  /** after a successful commit: frees the removed attachments' addresses, queues their networks */
  committed(): void;
}

/** A MAC for an attachment without IPs: stable per pod and NAD, locally administered (0a:58:...). */
function stableMac(podUid: string, nad: string): string {
  const h = createHash('sha256').update(`${podUid}/${nad}`).digest();
  return formatMac([0x0a, 0x58, h[0]!, h[1]!, h[2]!, h[3]!]);
}

/** `ip` or `ip/len` as `ip/len` (a bare IP is a host address). */
function withLength(ip: string): string {
  if (ip.includes('/')) {
    parseIpWithPrefix(ip);
    return ip;
  }
  const a = tryParseIp(ip);
  if (!a) throw new AttachmentError(`${ip} is not an IP address`);
  return `${ip}/${a.family === 4 ? 32 : 128}`;
}

const lengthIn = (ip: string, subnets: readonly string[]): string => {
  const addr = tryParseIp(ip)!;
  const s = subnets.map((x) => parseCidr(x, { allowHostBits: true })).find((c) => cidrContains(c, addr));
  return `${ip}/${s ? s.prefixLength : addr.family === 4 ? 32 : 128}`;
};

/**
 * The selections of the pod that are attachments. `v1.multus-cni.io/default-network` (first, on
 * eth0) is accepted when it names the cluster's default network, which the pod gets anyway; naming
 * one of our secondary networks there (a primary secondary network) is not supported and reported.
 */
function attachmentSelections(
  pod: V1Pod,
  ctx: ControllerContext,
  networks: NetworkController,
  problems: AttachmentPlan['problems'],
): NetworkSelection[] {
  try {
    const ns = pod.metadata?.namespace ?? 'default';
    const all = podNetworkSelections(pod.metadata?.annotations, ns);
    const def = pod.metadata?.annotations?.[DEFAULT_NETWORK_ANNOTATION] ? all[0] : undefined;
    if (def && networks.isOvnNad(selectionKey(def)))
      problems.push({
        reason: 'InvalidNetworkSelection',
        message: `${DEFAULT_NETWORK_ANNOTATION}: ${selectionKey(def)} is a secondary OVN network; the pod keeps the cluster network on eth0`,
      });
    return def ? all.slice(1) : all;
  } catch (err) {
    if (!(err instanceof InvalidNetworkSelectionError)) throw err;
    // reported by the central IPAM controller too; the default network goes on
    ctx.log.debug({ pod: pod.metadata?.name, err: err.message }, 'invalid network selection');
    return [];
  }
}

export function planPodAttachments(
  networks: NetworkController,
  ctx: ControllerContext,
  nsName: string,
  pod: V1Pod | undefined,
): AttachmentPlan {
  const [namespace, name] = nsName.split('/') as [string, string];
  const owners = new Map<string, OwnerRef>();
  const rows: DesiredRow[] = [];
  const entries: Record<string, PodNetworkEntry> = {};
  const problems: AttachmentPlan['problems'] = [];
  const fresh: { state: NetworkState; key: string; owner: string }[] = [];
  const wanted = new Set<string>();
  const node = pod?.spec?.nodeName;
  const recorded = pod ? recordedAttachments(pod) : new Map();

  for (const sel of pod && node ? attachmentSelections(pod, ctx, networks, problems) : []) {
    const nad = selectionKey(sel);
    const state = networks.networkOfNad(nad, recorded.has(nad));
    if (!state) continue; // not an OVN network of ours (another CNI's, or unknown)
    const owner = attachmentOwner(namespace, name, nad);
    if (wanted.has(owner.id)) {
      problems.push({ reason: 'InvalidNetworkSelection', message: `network ${nad} is selected twice` });
      continue;
    }
    wanted.add(owner.id);
    try {
      const att = attachmentOf(networks, state, nsName, pod!, node!, sel, recorded.get(nad), fresh, owner.id);
      rows.push(...podAttachmentRows(state.info, att));
      const ann = podAttachmentAnnotation(state.info, att, networks.nodeSubnets(state, node!) ?? []);
      entries[ann.key] = ann.entry;
      owners.set(owner.id, owner);
    } catch (err) {
      if (err instanceof DependencyNotReadyError) throw err;
      wanted.delete(owner.id);
      problems.push({ reason: 'AttachmentFailed', message: `network ${nad}: ${(err as Error).message}` });
    }
  }
  // attachments in NB or in memory that the pod no longer wants
  const removed: { owner: OwnerRef; nad: string }[] = [];
  for (const o of networks.attachmentOwnersInNb(namespace, name)) {
    if (wanted.has(o.id)) continue;
    owners.set(o.id, o);
    removed.push({ owner: o, nad: o.id.slice(o.id.indexOf('@') + 1) });
  }
  for (const nad of networks.allNadKeys()) {
    const id = attachmentOwner(namespace, name, nad).id;
    if (wanted.has(id) || owners.has(id)) continue;
    const st = networks.stateOfNad(nad);
    if (st?.placed.has(id)) removed.push({ owner: attachmentOwner(namespace, name, nad), nad });
  }
  return {
    owners: [...owners.values()],
    rows,
    entries,
    problems,
    rollback() {
      for (const f of fresh) {
        f.state.allocators.get(f.key)?.alloc.release(f.owner, { quarantine: false });
        f.state.placed.delete(f.owner);
      }
    },
    committed() {
      for (const r of removed) {
        const st = networks.stateOfNad(r.nad);
        const where = st?.placed.get(r.owner.id);
        if (st && where !== undefined) {
          st.allocators.get(where)?.alloc.release(r.owner.id, { quarantine: true });
          st.placed.delete(r.owner.id);
        }
        if (st) ctx.enqueue(networkKey(st.config.name));
      }
    },
  };
}

function attachmentOf(
  networks: NetworkController,
  state: NetworkState,
  nsName: string,
  pod: V1Pod,
  node: string,
  sel: NetworkSelection,
  rec: { ips: string[]; mac?: string } | undefined,
  fresh: { state: NetworkState; key: string; owner: string }[],
  ownerId: string,
): PodAttachmentInfo {
  const [namespace, name] = nsName.split('/') as [string, string];
  const nad = selectionKey(sel);
  const net = state.config;
  let ips: string[];
  if (net.topology === 'layer3' || net.subnets.length > 0) {
    if (net.topology === 'layer3' && !networks.nodeSubnets(state, node))
      throw new DependencyNotReadyError(`network ${net.name} has no subnet on node ${node} yet`);
    if (
      net.topology === 'layer3' &&
      networks.ctx.view.byName('Logical_Switch', networkSwitchFor(net.name, net.topology, node)).length === 0
    )
      throw new DependencyNotReadyError(`network ${net.name} has no switch on node ${node} yet`);
    const a = networks.podAllocator(state, node)!;
    const prev = state.placed.get(ownerId);
    if (prev !== undefined && prev !== a.key) {
      state.allocators.get(prev)?.alloc.release(ownerId, { quarantine: true });
      state.placed.delete(ownerId);
    }
    let bare = a.alloc.get(ownerId);
    if (!bare) {
      const want = (list: string[]) => list.map((i) => i.split('/')[0]!);
      const recordedIps = want(rec?.ips ?? []).filter((ip) => a.alloc.allocators.some((x) => x.contains(ip)));
      if (recordedIps.length > 0) {
        try {
          bare = a.alloc.allocate(ownerId, { ips: recordedIps });
        } catch {
          /* taken meanwhile: a new one below */
        }
      }
      if (!bare && sel.ips && sel.ips.length > 0) {
        const statics = want(sel.ips);
        const outside = statics.filter((ip) => !a.alloc.allocators.some((x) => x.contains(ip)));
        if (outside.length > 0)
          throw new AttachmentError(`static IPs ${outside.join(',')} are outside ${a.subnets.join(',')}`);
        bare = a.alloc.allocate(ownerId, { ips: statics });
      }
      if (!bare) bare = a.alloc.allocate(ownerId);
      if (!rec) fresh.push({ state, key: a.key, owner: ownerId });
    }
    state.placed.set(ownerId, a.key);
    ips = bare.map((ip) => lengthIn(ip, a.subnets));
  } else {
    // no subnets: the addresses are the user's (static) or there are none (L2 only)
    ips = (sel.ips ?? rec?.ips ?? []).map(withLength);
  }
  let mac = sel.mac ?? rec?.mac;
  if (mac && !isValidMac(mac)) throw new AttachmentError(`MAC ${mac} is not valid`);
  mac = mac ? normalizeMac(mac) : ips[0] ? macFromIp(ips[0]) : stableMac(pod.metadata?.uid ?? nsName, nad);
  const att: PodAttachmentInfo = { namespace, name, node, nad, ips, mac };
  if (pod.metadata?.uid) att.uid = pod.metadata.uid;
  if (sel.defaultRoute && sel.defaultRoute.length > 0) att.defaultRoute = sel.defaultRoute;
  return att;
}

/** Reconciles the plan's owners (one reconcile, so one submission) through the batcher. */
export async function applyAttachments(
  ctx: ControllerContext,
  key: string,
  plan: AttachmentPlan,
): Promise<void> {
  if (plan.owners.length === 0) return;
  const result = reconcile(ctx.view, plan.rows, {
    owners: plan.owners,
    uuidNamePrefix: ctx.batcher.uuidPrefix(),
  });
  await ctx.batcher.submit(key, result.operations);
  if (result.skipped.length > 0) {
    const s = result.skipped[0]!;
    throw new DependencyNotReadyError(`${key}: ${s.table} ${s.key} skipped: ${s.reason}`);
  }
}

/**
 * The pod key's secondary part: plans, commits and reports the pod's attachments; returns the
 * `k8s.ovn.org/pod-networks` entries to write with the default network's. `pod` undefined (gone,
 * finished, unscheduled) removes every attachment.
 */
export async function syncPodAttachments(
  networks: NetworkController,
  key: string,
  nsName: string,
  pod: V1Pod | undefined,
): Promise<Record<string, PodNetworkEntry>> {
  const plan = planPodAttachments(networks, networks.ctx, nsName, pod);
  try {
    await applyAttachments(networks.ctx, key, plan);
  } catch (err) {
    plan.rollback();
    throw err;
  }
  plan.committed();
  if (pod) for (const p of plan.problems) networks.warnPod(pod, p.reason, p.message);
  return plan.entries;
}
