/**
 * Secondary OVN networks (NADs with `"type": "ovn-k8s-cni-overlay"`): the networks' shared rows
 * (queue key `net:<name>`) and the pods' attachments to them (run by the pod controller, inside the
 * pod's own key, so the pod's `k8s.ovn.org/pod-networks` gets the default network and every
 * attachment in one patch).
 *
 * State, all rebuilt from Kubernetes and NB, never trusted from a previous run:
 *  - layer3: one HostSubnetAllocator per network carving per-node subnets, published on the Node
 *    in `k8s.ovn.org/node-subnets` under the network's name (ovn-k's layout, next to "default"),
 *    rebuilt from that annotation and from the network's node switches in NB;
 *  - pod addresses: layer3 one allocator per network and node, layer2/localnet one per network
 *    (none without subnets: the pods' static IPs are then the user's), rebuilt from the pods'
 *    annotations and the attachment ports in NB.
 *
 * A deleted NAD keeps its network (and the attachments of pods that already have one) until no pod
 * uses it; then the network's rows go. A malformed or disagreeing NAD gets a Warning Event and is
 * left out; nothing else is disturbed. Which of several disagreeing configs defines a network is
 * sticky: the config it is built with (known exactly for what this run wrote, else read from NB by
 * network-built.ts) keeps it while a NAD of that config exists; then the oldest takes over.
 */
import type { KubeConfig, KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { annotateObject } from '../k8s/annotations.js';
import { EventRecorder } from '../k8s/events.js';
import type { InformerFactory } from '../k8s/factory.js';
import type { Informer } from '../k8s/informer.js';
import { httpStatusOf } from '../k8s/errors.js';
import {
  NETWORK_ATTACHMENT_DEFINITIONS,
  objectKey,
  resourceClient,
  type NetworkAttachmentDefinition,
} from '../k8s/resources.js';
import type { ReadonlyStore } from '../k8s/store.js';
import {
  HostSubnetAllocator,
  IpAllocator,
  MultiFamilyAllocator,
  createNodeIpAllocator,
  formatClusterSubnet,
  formatCidr,
  type MultiAllocation,
} from '../ipam/index.js';
import {
  InvalidNetworkConfigError,
  NETWORKS_ANNOTATION,
  isOvnNetworkConfig,
  networkIdentity,
  parseOvnNetworkConfig,
  podNetworkSelections,
  resolveClaims,
  selectionKey,
  type BuiltNetworks,
  type NetworkClaim,
  type OvnNetworkConfig,
} from '../multinet/index.js';
import {
  SecondaryIntentError,
  checkNetworkName,
  networkNodeSwitch,
  networkOfOwner,
  networkOwner,
  attachmentOfOwner,
  secondaryNetworkRows,
  type SecondaryNetworkInfo,
  type SecondaryNodeInfo,
} from '../ovn/intent/secondary.js';
import {
  NETWORK_KEY,
  NODE_SUBNETS_ANNOTATION,
  OWNER_KEY,
  POD_NETWORKS_ANNOTATION,
  ownerOf,
  type OwnerRef,
} from '../ovn/names.js';
import { staleOwners } from '../ovn/reconcile/index.js';
import { applyOwned, podKey, type ControllerContext } from './context.js';
import { podWantsPort } from './convert.js';
import { nbAgreesWith } from './network-built.js';
import {
  mergeNodeSubnets,
  recordedAttachments,
  secondaryNodeSubnetsFromAnnotation,
} from './secondary-annotations.js';
import { compareCreation, creationTimeMs } from '../k8s/order.js';

export const networkKey = (name: string): string => `net:${name}`;

/** NAD event handlers as the network controller attaches them. */
export interface NadHandlers {
  onAdd?(o: NetworkAttachmentDefinition): void;
  onUpdate?(a: NetworkAttachmentDefinition, b: NetworkAttachmentDefinition): void;
  onDelete?(o: NetworkAttachmentDefinition): void;
}

/** The NAD informer, or a store that stays empty until the NAD CRD is installed. */
export interface NadSource {
  store: Pick<ReadonlyStore<NetworkAttachmentDefinition>, 'list' | 'get'>;
  addHandlers(h: NadHandlers): () => void;
  /** Stops looking for a NAD CRD installed later (sources that never look have none). */
  close?(): void;
}

export interface NadSourceOptions {
  /** how often to look again for a NAD CRD missing at start (default 30 s, jittered ±20 %) */
  recheckMs?: number;
  /**
   * Called once a NAD CRD missing at start appeared and its informer synced; the handlers added so
   * far have by then received an add for every NAD.
   */
  onInstalled?(): void;
}

const DEFAULT_NAD_RECHECK_MS = 30_000;
/** an unreachable API backs off up to this many recheck intervals */
const MAX_RECHECK_BACKOFF = 8;

type NadLogger = { info(o: object, m: string): void; debug?(o: object, m: string): void };

const jittered = (ms: number): number => Math.round(ms * (0.8 + Math.random() * 0.4));

/**
 * NADs when the CRD was not installed at start: empty, while a cheap `list limit=1` looks again
 * every `recheckMs`. Once the CRD answers, the factory's NAD informer starts; after its first sync
 * the store reads from it and every handler added here is attached to it (attaching replays each
 * NAD as an add, which is what makes the network controller build the networks and queue their
 * pods). Handlers come only from an active watcher, so a standby may prepare the informer but
 * nothing it does writes. Timers are unref'd: the re-check never keeps the process alive.
 */
class LateNadSource implements NadSource {
  private informer: Informer<NetworkAttachmentDefinition> | undefined;
  private readonly handlers = new Set<{ h: NadHandlers; detach?: () => void }>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;

  readonly store: NadSource['store'] = {
    list: () => this.informer?.store.list() ?? [],
    get: (key: string) => this.informer?.store.get(key),
  };

  constructor(
    private readonly factory: InformerFactory,
    private readonly kubeConfig: KubeConfig,
    private readonly log: NadLogger,
    private readonly opts: NadSourceOptions,
  ) {
    this.schedule();
  }

  addHandlers(h: NadHandlers): () => void {
    const entry: { h: NadHandlers; detach?: () => void } = { h };
    if (this.informer) entry.detach = this.informer.addHandlers(h);
    this.handlers.add(entry);
    return () => {
      this.handlers.delete(entry);
      entry.detach?.();
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    const base = this.opts.recheckMs ?? DEFAULT_NAD_RECHECK_MS;
    const delay = jittered(base * Math.min(2 ** this.failures, MAX_RECHECK_BACKOFF));
    this.timer = setTimeout(() => void this.check(), delay);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    let installed: boolean;
    try {
      installed = await nadCrdInstalled(this.kubeConfig);
      this.failures = 0;
    } catch (err) {
      installed = false;
      this.failures++;
      this.log.debug?.(
        { err: (err as Error).message },
        'cannot look for the NetworkAttachmentDefinition CRD',
      );
    }
    if (!installed) {
      this.schedule();
      return;
    }
    if (this.closed) return;
    // created now, the informer is still the factory's: stopAll() on watcher stop stops it too
    const informer = this.factory.networkAttachmentDefinitions().start();
    try {
      await informer.synced();
    } catch {
      return; // stopped before its first sync: the watcher is stopping
    }
    if (this.closed) return;
    this.informer = informer;
    for (const entry of this.handlers) entry.detach = informer.addHandlers(entry.h);
    this.log.info(
      { nads: informer.store.list().length },
      'NetworkAttachmentDefinition CRD installed; secondary OVN networks are on',
    );
    this.opts.onInstalled?.();
  }
}

/**
 * The NAD informer of `factory` (call before the factory starts), or, when the API has no
 * NetworkAttachmentDefinition resource (no Multus yet; a list of a missing CRD would never sync),
 * a source that stays empty until the CRD is installed (see LateNadSource).
 */
export async function nadSource(
  factory: InformerFactory,
  kubeConfig: KubeConfig,
  log: NadLogger,
  opts: NadSourceOptions = {},
): Promise<NadSource> {
  let installed: boolean;
  try {
    installed = await nadCrdInstalled(kubeConfig);
  } catch {
    // anything but "no such resource" (an unreachable API...) is for the informers' sync to report
    installed = true;
  }
  if (installed) return factory.networkAttachmentDefinitions();
  log.info({}, 'NetworkAttachmentDefinition CRD not installed; secondary OVN networks are off until it is');
  return new LateNadSource(factory, kubeConfig, log, opts);
}

/** Whether the API serves NetworkAttachmentDefinitions (a 404 says no; other failures throw). */
async function nadCrdInstalled(kubeConfig: KubeConfig): Promise<boolean> {
  try {
    await resourceClient(kubeConfig, NETWORK_ATTACHMENT_DEFINITIONS).list({ limit: 1 });
    return true;
  } catch (err) {
    if (httpStatusOf(err) === 404) return false;
    throw err;
  }
}

/** Where Warning Events go (tests pass their own). */
export interface NetworkEventSink {
  warning(obj: KubernetesObject, reason: string, message: string): void;
}

/** One allocator of pod addresses and the subnets it was built on. */
interface PodAllocator {
  subnets: string[];
  alloc: MultiFamilyAllocator;
}

/** What the watcher holds for one network (defined by a NAD, or retired but still in use). */
export interface NetworkState {
  config: OvnNetworkConfig;
  info: SecondaryNetworkInfo;
  identity: string;
  /** layer3 only */
  hostSubnets?: HostSubnetAllocator;
  /** layer3: per node; layer2/localnet: one under FLAT when the network has subnets */
  allocators: Map<string, PodAllocator>;
  /** attachment owner id -> allocator key holding its addresses */
  placed: Map<string, string>;
}

export const FLAT = '';

export function networkInfoOf(c: OvnNetworkConfig): SecondaryNetworkInfo {
  const info: SecondaryNetworkInfo = {
    name: c.name,
    topology: c.topology,
    subnets: c.subnets,
    excludeSubnets: c.excludeSubnets,
    role: c.role,
  };
  if (c.mtu !== undefined) info.mtu = c.mtu;
  if (c.vlanID !== undefined) info.vlanID = c.vlanID;
  if (c.physicalNetworkName !== undefined) info.physicalNetworkName = c.physicalNetworkName;
  return info;
}

const byCreation = (a: KubernetesObject, b: KubernetesObject): number =>
  compareCreation(a, b) || objectKey(a).localeCompare(objectKey(b));

export type NadProblemReason = 'InvalidNetworkConfig' | 'NetworkConfigConflict';

export interface NadProblem {
  nad: NetworkAttachmentDefinition;
  reason: NadProblemReason;
  message: string;
}

export interface DefinedNetwork {
  config: OvnNetworkConfig;
  /** `<ns>/<nad>` of every NAD carrying the defining config, oldest first */
  nads: string[];
}

export interface ResolvedNetworks {
  /** `<ns>/<nad>` -> its config, for the NADs that define (or join) a network */
  byNad: Map<string, OvnNetworkConfig>;
  byNetwork: Map<string, DefinedNetwork>;
  problems: NadProblem[];
}

/**
 * The networks the NADs define and what is wrong with the NADs that define none. A NAD whose config
 * `type` is `ovn-k8s-cni-overlay` claims the network its config names; NADs of other types are not
 * ours and are not looked at. A malformed config is reported and left out. Among disagreeing NADs
 * of one network, the built config keeps the network while one of its NADs is left, else the
 * oldest wins (src/multinet/network-claims.ts); the others are reported and left out.
 */
export function resolveNadNetworks(
  nads: readonly NetworkAttachmentDefinition[],
  built: BuiltNetworks = {},
): ResolvedNetworks {
  const problems: NadProblem[] = [];
  const claims: NetworkClaim[] = [];
  const byKey = new Map<string, NetworkAttachmentDefinition>();
  for (const nad of [...nads].sort(byCreation)) {
    const text = nad.spec?.config;
    if (!isOvnNetworkConfig(text)) continue;
    const key = objectKey(nad);
    try {
      const config = parseOvnNetworkConfig(text, nad.metadata?.namespace ?? '', nad.metadata?.name ?? '');
      checkNetworkName(config.name);
      claims.push({ nad: key, createdMs: creationTimeMs(nad), config });
      byKey.set(key, nad);
    } catch (err) {
      if (!(err instanceof InvalidNetworkConfigError) && !(err instanceof SecondaryIntentError)) throw err;
      problems.push({ nad, reason: 'InvalidNetworkConfig', message: err.message });
    }
  }
  const resolution = resolveClaims(claims, built);
  for (const r of resolution.rejected) {
    const why = r.reason === 'built' ? ' (the network is built with that config)' : '';
    problems.push({
      nad: byKey.get(r.claim.nad)!,
      reason: 'NetworkConfigConflict',
      message: `NetworkAttachmentDefinition ${r.claim.nad}: network ${r.claim.config.name} is already defined differently by ${r.definedBy}${why}; NADs of one network must agree`,
    });
  }
  const byNetwork = new Map<string, DefinedNetwork>();
  for (const [name, n] of resolution.byNetwork) byNetwork.set(name, { config: n.config, nads: n.nads });
  return { byNad: resolution.byNad, byNetwork, problems };
}

export class NetworkController {
  private resolved: ResolvedNetworks = { byNad: new Map(), byNetwork: new Map(), problems: [] };
  private readonly states = new Map<string, NetworkState>();
  /**
   * network -> identity of the config its rows were last written with in this run. Exact, unlike
   * NB (which does not show mtu, for one); NB answers for networks not written since the start.
   */
  private readonly builtIdentity = new Map<string, string>();
  /** every NAD key ever seen defining a network, with its config: a deleted NAD's pods keep it */
  private readonly knownNads = new Map<string, OvnNetworkConfig>();
  /** NAD keys of attachment ports found in NB whose NAD we never saw (deleted while we were down) */
  private readonly orphanNads = new Set<string>();
  /** problems already reported, so an unchanged bad NAD is not reported on every run */
  private readonly reported = new Map<string, string>();
  private readonly events: NetworkEventSink;

  constructor(
    readonly ctx: ControllerContext,
    readonly nads: NadSource,
    opts: { kubeConfig?: KubeConfig; events?: NetworkEventSink } = {},
  ) {
    this.events = opts.events ?? this.defaultEvents(opts.kubeConfig);
    this.refresh();
  }

  private defaultEvents(kubeConfig: KubeConfig | undefined): NetworkEventSink {
    const recorder = kubeConfig
      ? new EventRecorder({
          kubeConfig,
          component: 'ovn-k8s-watcher',
          onError: (err) => this.ctx.log.debug({ err: err.message }, 'event not recorded'),
        })
      : undefined;
    return {
      warning: (obj, reason, message) => {
        this.ctx.log.warn({ object: objectKey(obj), kind: obj.kind, reason }, message);
        void recorder?.warn(obj, reason, message);
      },
    };
  }

  // ---- NADs -----------------------------------------------------------------------------------

  /** Recomputes the networks from the NAD store; reports new problems. Returns changed networks. */
  refresh(): Set<string> {
    const before = this.resolved;
    this.resolved = resolveNadNetworks(this.nads.store.list(), {
      identity: (network) => this.builtIdentity.get(network),
      agrees: (_network, config) => nbAgreesWith(this.ctx.view, networkInfoOf(config)),
    });
    const changed = new Set<string>();
    for (const [name, def] of this.resolved.byNetwork) {
      const old = before.byNetwork.get(name);
      if (!old || networkIdentity(old.config) !== networkIdentity(def.config)) changed.add(name);
    }
    for (const name of before.byNetwork.keys()) if (!this.resolved.byNetwork.has(name)) changed.add(name);
    for (const [nad, cfg] of this.resolved.byNad) {
      const old = this.knownNads.get(nad);
      if (old && old.name !== cfg.name) changed.add(old.name);
      this.knownNads.set(nad, cfg);
    }
    const now = new Map<string, string>();
    for (const p of this.resolved.problems) {
      const k = objectKey(p.nad);
      now.set(k, p.message);
      if (this.reported.get(k) === p.message) continue;
      this.events.warning(
        { ...p.nad, apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition' },
        p.reason,
        p.message,
      );
    }
    this.reported.clear();
    for (const [k, m] of now) this.reported.set(k, m);
    return changed;
  }

  /** Networks a NAD defines now. */
  definedNetworks(): string[] {
    return [...this.resolved.byNetwork.keys()];
  }

  /** Network keys to queue on a full resync: defined networks and networks with rows in NB. */
  keys(): string[] {
    // NB may have changed under us (a standby becoming active: the leader built the networks)
    this.refresh();
    const names = new Set([...this.resolved.byNetwork.keys(), ...this.states.keys()]);
    for (const row of this.ctx.view.rows('Logical_Router')) {
      const n = networkOfOwner(ownerOf(row.external_ids) ?? { type: 'Cluster', id: '' });
      if (n) names.add(n);
    }
    for (const row of this.ctx.view.rows('Logical_Switch')) {
      const n = networkOfOwner(ownerOf(row.external_ids) ?? { type: 'Cluster', id: '' });
      if (n) names.add(n);
    }
    return [...names].map(networkKey);
  }

  /**
   * Keys of a full resync: every network, plus the pods whose attachment ports are in NB but that
   * no longer exist (their run removes the ports).
   */
  resyncKeys(pods: { has(key: string): boolean }): string[] {
    const out = new Set(this.keys());
    for (const o of staleOwners(this.ctx.view, (o) => this.attachmentLive(o, pods), ['PodNetwork'])) {
      const a = attachmentOfOwner(o);
      if (!a) continue;
      if (!this.knownNads.has(a.nad)) this.orphanNads.add(a.nad);
      out.add(podKey(`${a.namespace}/${a.pod}`));
    }
    return [...out];
  }

  private attachmentLive(o: OwnerRef, pods: { has(key: string): boolean }): boolean {
    const a = attachmentOfOwner(o);
    if (!a) return true;
    if (!this.knownNads.has(a.nad)) this.orphanNads.add(a.nad);
    return pods.has(`${a.namespace}/${a.pod}`);
  }

  /** Every NAD key a pod may have an attachment port for. */
  allNadKeys(): string[] {
    return [...new Set([...this.knownNads.keys(), ...this.orphanNads])];
  }

  /**
   * The network of NAD `nadKey` for a pod: the NAD's network while the NAD defines one; after the
   * NAD is gone (or broken), only for a pod that already has the attachment (`recorded`).
   */
  networkOfNad(nadKey: string, recorded: boolean): NetworkState | undefined {
    const cfg = this.resolved.byNad.get(nadKey) ?? (recorded ? this.knownNads.get(nadKey) : undefined);
    if (!cfg) return undefined;
    const state = this.stateOf(cfg);
    return state;
  }

  /** True when the NAD key is one of ours (defining or having defined a secondary OVN network). */
  isOvnNad(nadKey: string): boolean {
    return this.knownNads.has(nadKey);
  }

  /** The state of the config's network, (re)built when the network is new or its config changed. */
  private stateOf(cfg: OvnNetworkConfig): NetworkState {
    const defined = this.resolved.byNetwork.get(cfg.name)?.config;
    const config = defined ?? cfg;
    const identity = networkIdentity(config);
    const cur = this.states.get(config.name);
    if (cur && (cur.identity === identity || !defined)) return cur;
    const state: NetworkState = {
      config,
      info: networkInfoOf(config),
      identity,
      allocators: new Map(),
      placed: new Map(),
    };
    if (config.topology === 'layer3') {
      state.hostSubnets = new HostSubnetAllocator(config.subnets.map(formatClusterSubnet));
      const report = state.hostSubnets.rebuild(
        this.ctx.informers.nodes.store
          .list()
          .sort(byCreation)
          .map((n) => ({ owner: n.metadata!.name!, subnets: this.recordedNodeSubnets(config.name, n) })),
      );
      for (const r of report.rejected)
        this.ctx.log.warn(
          { network: config.name, node: r.owner, subnet: r.subnet, err: r.error.message },
          'recorded network node subnet unusable',
        );
    }
    this.states.set(config.name, state);
    return state;
  }

  /** A node's subnets in a layer3 network: its annotation, else its switch in NB. */
  private recordedNodeSubnets(network: string, node: V1Node): string[] {
    const recorded = secondaryNodeSubnetsFromAnnotation(node, network);
    if (recorded.length > 0) return recorded;
    const sw = this.ctx.view.byName('Logical_Switch', networkNodeSwitch(network, node.metadata!.name!))[0];
    const cfg = sw?.other_config as Record<string, unknown> | undefined;
    return typeof cfg?.subnet === 'string' && cfg.subnet !== '' ? [cfg.subnet] : [];
  }

  /** A layer3 network's subnets on `node`, if allocated. */
  nodeSubnets(state: NetworkState, node: string): string[] | undefined {
    return state.hostSubnets?.get(node);
  }

  /**
   * The pod-address allocator of the network (layer3: of `node`), built on first use from the
   * pods' recorded attachments and the attachment ports in NB; undefined without subnets.
   */
  podAllocator(
    state: NetworkState,
    node: string,
  ): { key: string; alloc: MultiFamilyAllocator; subnets: string[] } | undefined {
    let key: string;
    let subnets: string[];
    if (state.config.topology === 'layer3') {
      const s = state.hostSubnets?.get(node);
      if (!s) return undefined;
      key = node;
      subnets = s;
    } else {
      if (state.config.subnets.length === 0) return undefined;
      key = FLAT;
      subnets = state.config.subnets.map((s) => formatCidr(s.cidr));
    }
    const cur = state.allocators.get(key);
    if (cur && cur.subnets.join(',') === subnets.join(',')) return { key, alloc: cur.alloc, subnets };
    const alloc =
      state.config.topology === 'layer3'
        ? createNodeIpAllocator(`${node} (network ${state.config.name})`, subnets)
        : new MultiFamilyAllocator(
            subnets.map(
              (s) =>
                new IpAllocator({
                  subnet: s,
                  exclude: state.config.excludeSubnets,
                  name: `network ${state.config.name} subnet ${s}`,
                }),
            ),
          );
    const report = alloc.rebuild(this.existing(state, alloc));
    for (const d of report.duplicates)
      this.ctx.log.warn({ network: state.config.name, ...d }, 'attachment address claimed twice');
    state.allocators.set(key, { subnets, alloc });
    return { key, alloc, subnets };
  }

  /** Addresses in use on the network: recorded on live pods (oldest first), then NB ports. */
  private *existing(state: NetworkState, alloc: MultiFamilyAllocator): Iterable<MultiAllocation> {
    const nads = new Set([...this.knownNads].filter(([, c]) => c.name === state.config.name).map(([k]) => k));
    const inAlloc = (ip: string) => alloc.allocators.some((a) => a.contains(ip));
    const seen = new Set<string>();
    const pods = this.ctx.informers.pods.store.list().filter(podWantsPort).sort(byCreation);
    for (const pod of pods) {
      for (const [nad, entry] of recordedAttachments(pod)) {
        if (!nads.has(nad)) continue;
        const id = `${objectKey(pod)}@${nad}`;
        const ips = entry.ips.map((i) => i.split('/')[0]!).filter(inAlloc);
        if (ips.length === 0 || seen.has(id)) continue;
        seen.add(id);
        yield { key: id, ips };
      }
    }
    for (const lsp of this.ctx.view.rows('Logical_Switch_Port')) {
      const ids = lsp.external_ids as Record<string, unknown> | undefined;
      if (ids?.[NETWORK_KEY] !== state.config.name) continue;
      const owner = ownerOf(ids);
      if (owner?.type !== 'PodNetwork' || seen.has(owner.id)) continue;
      const addrs = Array.isArray(lsp.addresses) ? lsp.addresses : [];
      const ips = String(addrs[0] ?? '')
        .split(' ')
        .slice(1)
        .filter((ip) => ip !== '' && inAlloc(ip));
      if (ips.length === 0) continue;
      seen.add(owner.id);
      yield { key: owner.id, ips };
    }
  }

  // ---- the network's shared rows ----------------------------------------------------------------

  /** True while some pod still has an attachment port on the network. */
  private inUse(name: string): boolean {
    for (const lsp of this.ctx.view.rows('Logical_Switch_Port')) {
      const ids = lsp.external_ids as Record<string, unknown> | undefined;
      if (ids?.[NETWORK_KEY] === name && ownerOf(ids)?.type === 'PodNetwork') return true;
    }
    return false;
  }

  async sync(name: string): Promise<void> {
    const { ctx } = this;
    const key = networkKey(name);
    const def = this.resolved.byNetwork.get(name);
    if (!def) {
      if (this.inUse(name)) {
        ctx.log.info({ network: name }, 'network has no NAD any more but pods still use it; kept');
        return;
      }
      await applyOwned(ctx, key, networkOwner(name), []);
      const state = this.states.get(name);
      this.states.delete(name);
      this.builtIdentity.delete(name);
      for (const [nad, c] of this.knownNads)
        if (c.name === name && !this.resolved.byNad.has(nad)) this.knownNads.delete(nad);
      if (state?.config.topology === 'layer3' || this.nodesAnnotatedFor(name).length > 0)
        await this.annotateNodes(name, new Map());
      ctx.log.info({ network: name }, 'network removed');
      return;
    }
    const state = this.stateOf(def.config);
    const nodes: SecondaryNodeInfo[] = [];
    const perNode = new Map<string, string[] | null>();
    if (state.hostSubnets) {
      const live = new Set<string>();
      for (const n of ctx.informers.nodes.store.list().sort(byCreation)) {
        const node = n.metadata!.name!;
        live.add(node);
        let subnets = state.hostSubnets.get(node);
        if (!subnets) {
          try {
            subnets = state.hostSubnets.allocate(node);
          } catch (err) {
            ctx.log.warn({ network: name, node, err: (err as Error).message }, 'no subnet left for node');
            continue;
          }
        }
        nodes.push({ name: node, subnets });
        perNode.set(node, subnets);
      }
      for (const a of state.hostSubnets.allocations())
        if (!live.has(a.owner)) {
          state.hostSubnets.release(a.owner);
          state.allocators.delete(a.owner);
        }
    }
    const result = await applyOwned(ctx, key, networkOwner(name), secondaryNetworkRows(state.info, nodes));
    this.builtIdentity.set(name, state.identity);
    if (state.hostSubnets) await this.annotateNodes(name, perNode);
    // pods waiting for the network's switches can go now
    if (result.inserted.size > 0 || result.operations.length > 0) this.enqueuePodsOf(name);
  }

  private nodesAnnotatedFor(network: string): V1Node[] {
    return this.ctx.informers.nodes.store
      .list()
      .filter((n) => secondaryNodeSubnetsFromAnnotation(n, network).length > 0);
  }

  /** Writes the network's entry of every node's `k8s.ovn.org/node-subnets` (removes it when absent). */
  private async annotateNodes(network: string, perNode: Map<string, string[] | null>): Promise<void> {
    for (const n of this.ctx.informers.nodes.store.list()) {
      const subnets = perNode.get(n.metadata!.name!) ?? null;
      const value = mergeNodeSubnets(n, network, subnets);
      if (value === undefined) continue;
      await annotateObject(
        this.ctx.clients.nodes,
        n,
        { [NODE_SUBNETS_ANNOTATION]: value },
        {
          guardResourceVersion: true,
        },
      );
    }
  }

  /** Queues the pods that select a NAD of the network (or still have an attachment to it). */
  enqueuePodsOf(network: string): void {
    const nads = new Set([...this.knownNads].filter(([, c]) => c.name === network).map(([k]) => k));
    if (nads.size === 0) return;
    for (const pod of this.ctx.informers.pods.store.list()) {
      const ann = pod.metadata?.annotations;
      if (!ann?.[NETWORKS_ANNOTATION] && !ann?.[POD_NETWORKS_ANNOTATION]) continue;
      let selected: string[] = [];
      try {
        selected = podNetworkSelections(ann, pod.metadata?.namespace ?? 'default').map(selectionKey);
      } catch {
        /* malformed: only what it recorded */
      }
      if ([...selected, ...recordedAttachments(pod).keys()].some((k) => nads.has(k)))
        this.ctx.enqueue(podKey(objectKey(pod)));
    }
  }

  /** Event handlers on NADs and nodes; returns their detachers. */
  attach(enqueue: (key: string) => void): Array<() => void> {
    const nadChanged = () => {
      for (const name of this.refresh()) {
        enqueue(networkKey(name));
        this.enqueuePodsOf(name);
      }
    };
    const nodeKeys = () => {
      for (const name of this.resolved.byNetwork.keys())
        if (this.resolved.byNetwork.get(name)!.config.topology === 'layer3') enqueue(networkKey(name));
    };
    return [
      this.nads.addHandlers({ onAdd: nadChanged, onUpdate: nadChanged, onDelete: nadChanged }),
      this.ctx.informers.nodes.addHandlers({
        onAdd: nodeKeys,
        onDelete: nodeKeys,
        onUpdate: (a: V1Node, b: V1Node) => {
          if (
            a.metadata?.annotations?.[NODE_SUBNETS_ANNOTATION] !==
            b.metadata?.annotations?.[NODE_SUBNETS_ANNOTATION]
          )
            nodeKeys();
        },
      }),
    ];
  }

  /** Owner ids (`<ns>/<pod>@<nad>`) of the pod's attachment ports now in NB. */
  attachmentOwnersInNb(namespace: string, pod: string): OwnerRef[] {
    const out: OwnerRef[] = [];
    for (const nad of this.allNadKeys()) {
      const id = `${namespace}/${pod}@${nad}`;
      if (
        this.ctx.view
          .byExternalId('Logical_Switch_Port', OWNER_KEY, id)
          .some((r) => ownerOf(r.external_ids)?.type === 'PodNetwork')
      )
        out.push({ type: 'PodNetwork', id });
    }
    return out;
  }

  /** The network state a NAD key belonged to (for releasing addresses), if any. */
  stateOfNad(nadKey: string): NetworkState | undefined {
    const cfg = this.knownNads.get(nadKey);
    return cfg ? this.states.get(cfg.name) : undefined;
  }

  /** A Warning Event on a pod whose attachment cannot be served. */
  warnPod(pod: V1Pod, reason: string, message: string): void {
    this.events.warning({ ...pod, apiVersion: 'v1', kind: 'Pod' }, reason, message);
  }
}
