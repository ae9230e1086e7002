/**
 * The central IPAM for other CNIs (macvlan, ipvlan, ovs-cni, host-device): one writer in the
 * watcher process, allocation in memory, persistence in Kubernetes objects.
 *
 * - Pools: Kube-OVN Subnets (kubeovn.io/v1) and SpiderIPPools (spiderpool.spidernet.io/v2beta1).
 * - Keys: `<pod uid>/<provider or interface>`, or a StatefulSet ordinal for StatefulSet pods, so
 *   addresses survive pod restarts and rescheduling until the ordinal is scaled away or the
 *   StatefulSet is deleted or re-created (IPReservation objects record them).
 * - Records: Kube-OVN pod annotations (`<provider>.kubernetes.io/ip_address`... `allocated`),
 *   Spiderpool `ipam.spidernet.io/assigned-<iface>`, our `ovn-k8s.io/ipam-allocations` (what the
 *   CNI IPAM plugin reads), IPReservations; pool status counts for users.
 * - Start: informers sync, then the state is rebuilt from IPReservations and live pods (oldest pod
 *   first, so on a recorded duplicate the older pod keeps the address), leaks are collected, and
 *   only then does the queue run. No address is handed out before the rebuild: duplicates across
 *   restarts are impossible, and within a run the allocator is synchronous (no await between
 *   decision and record) and each pod key is handled by one worker at a time.
 */
import type { KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import {
  AddressesExhaustedError,
  IpamError,
  InvalidAddressError,
  kubeOvnSubnetStatus,
  parseIp,
  parseIpPoolList,
  randomMac,
  spiderIpPoolStatus,
  statefulSetKey,
  type PoolAllocation,
  type PoolRebuildEntry,
  type PoolRequest,
  type StatefulSetRef,
} from '../../ipam/index.js';
import { annotateObject, type AnnotationChanges } from '../../k8s/annotations.js';
import { EventRecorder } from '../../k8s/events.js';
import { InformerFactory } from '../../k8s/factory.js';
import { httpStatusOf } from '../../k8s/errors.js';
import type { EventHandlers } from '../../k8s/informer.js';
import { Store, type ReadonlyStore } from '../../k8s/store.js';
import {
  NETWORK_ATTACHMENT_DEFINITIONS,
  objectKey,
  PODS,
  resourceClient,
  type NetworkAttachmentDefinition,
  type ResourceClient,
  type ResourceType,
} from '../../k8s/resources.js';
import { WorkQueue } from '../../k8s/workqueue.js';
import {
  allocatedProviders,
  formatIpamAllocations,
  formatSpiderAssigned,
  IPAM_ALLOCATIONS_ANNOTATION,
  kubeOvnAllocation,
  kubeOvnAllocationAnnotations,
  kubeOvnRequest,
  multusConfigToNadConfig,
  MultinetError,
  parseIpamAllocations,
  podNetworkSelections,
  spiderAssignedKey,
  spiderAssignedRecords,
  spiderPoolSelections,
  spiderPoolsForInterface,
  type InterfaceAllocation,
  type IpamAllocations,
  type IpamRoute,
} from '../../multinet/index.js';
import { ownerFor, podAttachments, podIsDone, statefulSetOf, type Attachment } from './attachments.js';
import { PoolRegistry, poolId, type PoolEntry } from './pool-registry.js';
import {
  IP_RESERVATIONS,
  SPIDER_IPPOOLS,
  SPIDER_MULTUS_CONFIGS,
  STATEFULSETS,
  SUBNETS,
  type IpReservation,
  type IpReservationSpec,
  type KubeOvnSubnet,
  type SpiderIpPool,
  type SpiderMultusConfig,
  type StatefulSetLike,
} from './resources.js';
import { IpamWriter } from './writer.js';
import { compareCreation } from '../../k8s/order.js';

export interface IpamLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where Warning events go; the default writes Kubernetes Events (and logs them). */
export interface IpamEventSink {
  warning(obj: KubernetesObject, reason: string, message: string): void;
}

export interface IpamControllerOptions {
  kubeConfig: KubeConfig;
  /** Share the watcher's informers; a private factory is made otherwise. */
  factory?: InformerFactory;
  logger?: IpamLogger;
  /** Default: core/v1 Events through EventRecorder, component `componentName`. */
  events?: IpamEventSink;
  /** source.component of the Events. Default "ovn-k8s-watcher". */
  componentName?: string;
  /** Period of the leak collection, ms. Default 60 s; 0 disables the timer. */
  gcIntervalMs?: number;
  /** Kubeconfig path written into SpiderMultusConfig-generated NADs for the IPAM plugin. */
  ipamKubeconfig?: string;
  /**
   * Pods served at once. Each pod waits for its annotation PATCH, so a low limit makes the
   * attachments lag the primary network under a burst (the ipam-load bench: p50 6-12 s at 8,
   * 1-2 s at 64). Default 64, like the watcher's own pod queue.
   */
  concurrency?: number;
}

/** An interface could not be served; retried with backoff and reported as an Event. */
export class AttachmentNotReadyError extends MultinetError {}

const silentLogger: IpamLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface HolderSts {
  ref: StatefulSetRef;
  stsUid?: string;
  reservation: string;
  /**
   * JSON of the IPReservation spec the API server is known to hold (written by us, or read at
   * rebuild); unset while it is not written yet or after it was deleted. Kept here rather than
   * read from the IPReservation informer: that cache lags our own writes (it may still show a
   * reservation we have just deleted).
   */
  persisted?: string;
}

interface Holder {
  poolId: string;
  /** `ns/name` of the pod that holds it now (or last held it). */
  podKey: string;
  podUid: string;
  sts?: HolderSts;
  mac?: string;
}

const POD = 'pod:';
const POOL = 'pool:';
const SMC = 'smc:';
const GC = 'gc';
/** `reservation:<holder key>`: write the IPReservation of a held StatefulSet ordinal again. */
const RESERVATION = 'reservation:';

/** A DNS-1123 subdomain for an IPReservation name. */
function reservationName(ref: StatefulSetRef, poolIdText: string): string {
  const raw = `${ref.name}-${ref.ordinal}.${ref.interface ?? ''}.${poolIdText}`.toLowerCase();
  const clean = raw
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/\.+/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '');
  return clean.slice(0, 253);
}

const defaultDst = (gw: string): string => (parseIp(gw).family === 4 ? '0.0.0.0/0' : '::/0');

export class IpamController {
  readonly pools = new PoolRegistry();
  private readonly holders = new Map<string, Holder>();
  private readonly byPod = new Map<string, Set<string>>();
  private readonly factory: InformerFactory;
  private readonly ownsFactory: boolean;
  private readonly log: IpamLogger;
  private readonly events: IpamEventSink;
  private readonly writer: IpamWriter;
  private readonly podClient: ResourceClient<V1Pod>;
  private readonly statefulSetClient: ResourceClient<StatefulSetLike>;
  /**
   * Per IPReservation (`ns/name`), the last write queued: creates and deletes of one reservation
   * reach the API server in the order they were decided in memory, so a delete still in flight
   * cannot remove the reservation of an ordinal allocated again meanwhile.
   */
  private readonly reservationWrites = new Map<string, Promise<void>>();
  private readonly queue: WorkQueue;
  private inf: {
    pods: Source<V1Pod>;
    nads: Source<NetworkAttachmentDefinition>;
    subnets: Source<KubeOvnSubnet>;
    spiderPools: Source<SpiderIpPool>;
    multusConfigs: Source<SpiderMultusConfig>;
    reservations: Source<IpReservation>;
    statefulSets: Source<StatefulSetLike>;
  };
  /** Plurals of custom resources whose CRD is not installed. */
  private readonly absent = new Set<string>();
  private gcTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: IpamControllerOptions) {
    this.ownsFactory = !opts.factory;
    this.factory = opts.factory ?? new InformerFactory(opts.kubeConfig);
    this.log = opts.logger ?? silentLogger;
    this.events = opts.events ?? this.defaultEvents(opts);
    this.writer = new IpamWriter(opts.kubeConfig);
    this.podClient = resourceClient(opts.kubeConfig, PODS);
    this.statefulSetClient = resourceClient(opts.kubeConfig, STATEFULSETS);
    this.queue = new WorkQueue((key) => this.handle(key), {
      name: 'ipam',
      concurrency: opts.concurrency ?? 64,
      paused: true,
      retry: { initialMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 },
    });
    // Custom resources get their informers in start(), once it is known which CRDs are installed.
    this.inf = {
      pods: this.factory.pods(),
      nads: emptySource(),
      subnets: emptySource(),
      spiderPools: emptySource(),
      multusConfigs: emptySource(),
      reservations: emptySource(),
      statefulSets: this.factory.informerFor(STATEFULSETS),
    };
  }

  /**
   * The informer of a custom resource, or an empty source when its CRD is not installed (a
   * cluster without Spiderpool's or Kube-OVN's CRDs): an informer on a missing resource would
   * never sync and hold up the start. Installing the CRD later needs a watcher restart.
   */
  private async optionalInformer<T extends KubernetesObject>(type: ResourceType<T>): Promise<Source<T>> {
    try {
      await resourceClient(this.opts.kubeConfig, type).list({ limit: 1 });
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
      this.log.info(
        { resource: `${type.plural}.${type.group}` },
        'CRD not installed; its objects are ignored',
      );
      this.absent.add(type.plural);
      return emptySource();
    }
    return this.factory.informerFor(type);
  }

  private defaultEvents(opts: IpamControllerOptions): IpamEventSink {
    const recorder = new EventRecorder({
      kubeConfig: opts.kubeConfig,
      component: opts.componentName ?? 'ovn-k8s-watcher',
      onError: (err) => this.log.debug({ error: err.message }, 'event not recorded'),
    });
    return {
      warning: (obj, reason, message) => {
        this.log.warn({ object: objectKey(obj), kind: obj.kind, reason }, message);
        void recorder.warn(obj, reason, message);
      },
    };
  }

  /** Starts the informers, rebuilds the state, then serves. Resolves once serving. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.inf.nads = await this.optionalInformer(NETWORK_ATTACHMENT_DEFINITIONS);
    this.inf.subnets = await this.optionalInformer(SUBNETS);
    this.inf.spiderPools = await this.optionalInformer(SPIDER_IPPOOLS);
    this.inf.multusConfigs = await this.optionalInformer(SPIDER_MULTUS_CONFIGS);
    this.inf.reservations = await this.optionalInformer(IP_RESERVATIONS);
    const podKeyOf = (p: V1Pod) => `${POD}${objectKey(p)}`;
    this.inf.pods.addHandlers({
      onAdd: (p) => this.queue.add(podKeyOf(p)),
      onUpdate: (_o, p) => this.queue.add(podKeyOf(p)),
      onDelete: (p) => this.queue.add(podKeyOf(p)),
    });
    const poolHandlers = (kind: string) => ({
      onAdd: (o: KubernetesObject) => this.queue.add(`${POOL}${kind}/${o.metadata?.name}`),
      onUpdate: (_o: KubernetesObject, o: KubernetesObject) =>
        this.queue.add(`${POOL}${kind}/${o.metadata?.name}`),
      onDelete: (o: KubernetesObject) => this.queue.add(`${POOL}${kind}/${o.metadata?.name}`),
    });
    this.inf.subnets.addHandlers(poolHandlers('Subnet'));
    this.inf.spiderPools.addHandlers(poolHandlers('SpiderIPPool'));
    const smc = (o: KubernetesObject) => this.queue.add(`${SMC}${objectKey(o)}`);
    this.inf.multusConfigs.addHandlers({ onAdd: smc, onUpdate: (_o, n) => smc(n), onDelete: smc });
    // A NAD appearing or changing may unblock pods waiting for it.
    const nadChanged = (nad: NetworkAttachmentDefinition) => {
      this.enqueuePodsUsing(objectKey(nad));
      // A generated NAD edited or deleted by hand is put back by its SpiderMultusConfig.
      if (this.inf.multusConfigs.store.has(objectKey(nad))) this.queue.add(`${SMC}${objectKey(nad)}`);
    };
    this.inf.nads.addHandlers({
      onAdd: nadChanged,
      onUpdate: (_o, n) => nadChanged(n),
      onDelete: nadChanged,
    });
    this.inf.statefulSets.addHandlers({
      onUpdate: () => this.queue.add(GC),
      onDelete: () => this.queue.add(GC),
    });
    // A reservation deleted under a held ordinal (by hand, or our own earlier delete seen late) is written again.
    this.inf.reservations.addHandlers({ onDelete: (r) => this.reservationDeleted(r) });

    for (const i of Object.values(this.inf)) i.start();
    await Promise.all(Object.values(this.inf).map((i) => i.synced()));
    this.rebuild();
    await this.collectLeaks();
    this.queue.start();
    const every = this.opts.gcIntervalMs ?? 60_000;
    if (every > 0) {
      this.gcTimer = setInterval(() => this.queue.add(GC), every);
      this.gcTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.gcTimer) clearInterval(this.gcTimer);
    await this.queue.shutdown();
    if (this.ownsFactory) await this.factory.stopAll();
  }

  /** Resolves when no key is queued or running (tests). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Queues a leak collection (also runs periodically and on StatefulSet changes). */
  requestGc(): void {
    this.queue.add(GC);
  }

  // -------------------------------------------------------------------------------------------
  // rebuild

  private rebuild(): void {
    for (const s of this.inf.subnets.store.list()) this.tryUpsertPool('Subnet', s);
    for (const s of this.inf.spiderPools.store.list()) this.tryUpsertPool('SpiderIPPool', s);
    const entries = new Map<string, PoolRebuildEntry[]>();
    const pending: { holderKey: string; holder: Holder }[] = [];
    const push = (pool: string, owner: string | StatefulSetRef, ips: string[], holder: Holder) => {
      if (!this.pools.get(pool)) return;
      const list = entries.get(pool) ?? [];
      list.push({ owner, ips });
      entries.set(pool, list);
      pending.push({
        holderKey: `${pool}|${typeof owner === 'string' ? owner : statefulSetKey(owner)}`,
        holder,
      });
    };
    // Reservations first: the retained addresses of StatefulSet ordinals.
    for (const r of this.inf.reservations.store.list()) {
      const s = r.spec;
      const ns = r.metadata?.namespace;
      if (!s || !ns) continue;
      const ref: StatefulSetRef = {
        namespace: ns,
        name: s.statefulSet,
        ordinal: s.ordinal,
        interface: s.interface,
      };
      push(s.pool, ref, s.ips, {
        poolId: s.pool,
        podKey: `${ns}/${s.statefulSet}-${s.ordinal}`,
        podUid: '',
        sts: {
          ref,
          ...(s.statefulSetUid ? { stsUid: s.statefulSetUid } : {}),
          reservation: r.metadata?.name ?? '',
          persisted: JSON.stringify(reservationSpec(s.pool, ref, s.statefulSetUid, s.ips, s.mac)),
        },
        ...(s.mac ? { mac: s.mac } : {}),
      });
    }
    // Then live pods, oldest first.
    const pods = this.inf.pods.store
      .list()
      .filter((p) => !podIsDone(p))
      .sort((a, b) => {
        return compareCreation(a, b) || objectKey(a).localeCompare(objectKey(b));
      });
    for (const pod of pods) {
      const ann = pod.metadata?.annotations ?? {};
      const podKey = objectKey(pod);
      const podUid = pod.metadata?.uid ?? '';
      for (const provider of allocatedProviders(ann)) {
        const rec = kubeOvnAllocation(ann, provider);
        if (!rec) continue;
        const owner = ownerFor(pod, provider);
        const pool = poolId('Subnet', rec.logicalSwitch);
        push(pool, owner, rec.ips, this.holderFor(pod, pool, owner, podKey, podUid, rec.mac));
      }
      for (const rec of spiderAssignedRecords(ann)) {
        const owner = ownerFor(pod, rec.interface);
        for (const [poolName, cidr] of [
          [rec.ipv4pool, rec.ipv4],
          [rec.ipv6pool, rec.ipv6],
        ] as const) {
          if (!poolName || !cidr) continue;
          const pool = poolId('SpiderIPPool', poolName);
          push(pool, owner, [cidr.split('/')[0]!], this.holderFor(pod, pool, owner, podKey, podUid));
        }
      }
    }
    for (const [id, list] of entries) {
      const report = this.pools.get(id)!.pool.rebuild(list);
      for (const d of report.duplicates) {
        this.log.warn(
          { pool: id, ip: d.ip, key: d.key, heldBy: d.heldBy },
          'recorded duplicate address: the earlier holder keeps it',
        );
      }
      for (const c of report.keyConflicts) {
        this.log.warn(
          { pool: id, key: c.key, ip: c.ip, kept: c.kept },
          'two records for one owner: the IPReservation (or older record) is kept',
        );
      }
      for (const r of report.rejected)
        this.log.warn(
          { pool: id, ip: r.ip, key: r.key, error: r.error.message },
          'recorded address rejected',
        );
    }
    // Holders only for what the pools really restored (the same key may appear in several entries).
    for (const { holderKey, holder } of pending) {
      const [pool, key] = splitHolderKey(holderKey);
      if (this.pools.get(pool)?.pool.allocator.get(key) && !this.holders.has(holderKey))
        this.addHolder(holderKey, holder);
      else if (this.holders.has(holderKey) && holder.podUid) {
        // A reservation restored first; the live pod now holds it.
        const h = this.holders.get(holderKey)!;
        this.moveHolder(holderKey, { ...h, podKey: holder.podKey, podUid: holder.podUid });
      }
    }
    this.log.info({ pools: this.pools.all().length, allocations: this.holders.size }, 'ipam state rebuilt');
    for (const p of this.pools.all()) this.queue.add(`${POOL}${p.id}`);
    for (const pod of this.inf.pods.store.list()) this.queue.add(`${POD}${objectKey(pod)}`);
    for (const m of this.inf.multusConfigs.store.list()) this.queue.add(`${SMC}${objectKey(m)}`);
  }

  private holderFor(
    pod: V1Pod,
    pool: string,
    owner: string | StatefulSetRef,
    podKey: string,
    podUid: string,
    mac?: string,
  ): Holder {
    const sts = statefulSetOf(pod);
    return {
      poolId: pool,
      podKey,
      podUid,
      ...(typeof owner !== 'string'
        ? {
            sts: {
              ref: owner,
              ...(sts?.uid ? { stsUid: sts.uid } : {}),
              reservation: reservationName(owner, pool),
            },
          }
        : {}),
      ...(mac ? { mac } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // holders

  private addHolder(holderKey: string, h: Holder): void {
    this.holders.set(holderKey, h);
    let set = this.byPod.get(h.podKey);
    if (!set) this.byPod.set(h.podKey, (set = new Set()));
    set.add(holderKey);
  }

  private moveHolder(holderKey: string, h: Holder): void {
    this.dropHolder(holderKey);
    this.addHolder(holderKey, h);
  }

  private dropHolder(holderKey: string): Holder | undefined {
    const h = this.holders.get(holderKey);
    if (!h) return undefined;
    this.holders.delete(holderKey);
    const set = this.byPod.get(h.podKey);
    set?.delete(holderKey);
    if (set && set.size === 0) this.byPod.delete(h.podKey);
    return h;
  }

  /** Frees one allocation; a StatefulSet one also loses its IPReservation. */
  private async release(holderKey: string): Promise<void> {
    const [pool, key] = splitHolderKey(holderKey);
    const h = this.dropHolder(holderKey);
    this.pools.get(pool)?.pool.release(key);
    this.queue.add(`${POOL}${pool}`);
    if (h?.sts) await this.deleteReservation(h.sts);
    this.log.debug({ pool, key }, 'released');
  }

  // -------------------------------------------------------------------------------------------
  // IPReservations

  /** Runs `op` after every earlier write of the same reservation has finished (or failed). */
  private reservationWrite(namespace: string, name: string, op: () => Promise<void>): Promise<void> {
    const key = `${namespace}/${name}`;
    const next = (this.reservationWrites.get(key) ?? Promise.resolve()).then(op, op);
    this.reservationWrites.set(key, next);
    const forget = () => {
      if (this.reservationWrites.get(key) === next) this.reservationWrites.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  /** Makes the API server's IPReservation of `holder` record `ips` (no request when it does already). */
  private async persistReservation(holder: Holder, ips: string[]): Promise<void> {
    const sts = holder.sts!;
    const { ref, reservation, stsUid } = sts;
    const spec = reservationSpec(holder.poolId, ref, stsUid, ips, holder.mac);
    const signature = JSON.stringify(spec);
    if (sts.persisted === signature) return;
    if (this.absent.has(IP_RESERVATIONS.plural)) {
      // Without the CRD the address is still retained in memory, but not across a restart.
      this.log.warn({ reservation }, 'IPReservation CRD not installed: StatefulSet address not persisted');
      sts.persisted = signature;
      return;
    }
    const body: IpReservation = {
      apiVersion: 'ovn-k8s.io/v1',
      kind: 'IPReservation',
      metadata: { name: reservation, namespace: ref.namespace },
      spec,
    };
    // Fields we do not set are removed from an existing reservation (merge patch null).
    const patch = { spec: { statefulSetUid: null, mac: null, ...spec } };
    await this.reservationWrite(ref.namespace, reservation, async () => {
      if (await this.writer.createNamespaced(IP_RESERVATIONS, ref.namespace, body)) return;
      // One of that name exists (an earlier run wrote it, or someone edited it): make it say what we hold.
      if (await this.writer.patchNamespaced(IP_RESERVATIONS, ref.namespace, reservation, patch)) return;
      await this.writer.createNamespaced(IP_RESERVATIONS, ref.namespace, body);
    });
    sts.persisted = signature;
  }

  private deleteReservation(sts: HolderSts): Promise<void> {
    sts.persisted = undefined;
    if (this.absent.has(IP_RESERVATIONS.plural)) return Promise.resolve();
    return this.reservationWrite(sts.ref.namespace, sts.reservation, async () => {
      await this.writer.deleteNamespaced(IP_RESERVATIONS, sts.ref.namespace, sts.reservation);
    });
  }

  /** The informer saw an IPReservation go: if an ordinal still holds those addresses, it is written again. */
  private reservationDeleted(r: IpReservation): void {
    const s = r.spec;
    const ns = r.metadata?.namespace;
    if (!s || !ns) return;
    const ref: StatefulSetRef = {
      namespace: ns,
      name: s.statefulSet,
      ordinal: s.ordinal,
      interface: s.interface,
    };
    const holderKey = `${s.pool}|${statefulSetKey(ref)}`;
    const h = this.holders.get(holderKey);
    if (!h?.sts || h.sts.reservation !== r.metadata?.name) return;
    h.sts.persisted = undefined;
    this.queue.add(`${RESERVATION}${holderKey}`);
  }

  /** Writes the IPReservation of a held ordinal again (after it was seen deleted). */
  private async syncReservation(holderKey: string): Promise<void> {
    const h = this.holders.get(holderKey);
    if (!h?.sts) return;
    const [pool, key] = splitHolderKey(holderKey);
    const held = this.pools.get(pool)?.pool.get(key);
    if (!held) return;
    const ips = held.addresses.map((a) => a.ip);
    await this.persistReservation(h, ips);
  }

  // -------------------------------------------------------------------------------------------
  // queue

  private async handle(key: string): Promise<void> {
    if (key === GC) {
      await this.collectLeaks();
      return;
    }
    if (key.startsWith(POD)) return this.syncPod(key.slice(POD.length));
    if (key.startsWith(POOL)) return this.syncPool(key.slice(POOL.length));
    if (key.startsWith(SMC)) return this.syncMultusConfig(key.slice(SMC.length));
    if (key.startsWith(RESERVATION)) return this.syncReservation(key.slice(RESERVATION.length));
  }

  private enqueuePodsUsing(network: string): void {
    for (const pod of this.inf.pods.store.list()) {
      try {
        const sels = podNetworkSelections(pod.metadata?.annotations, pod.metadata?.namespace ?? 'default');
        if (sels.some((s) => `${s.namespace}/${s.name}` === network))
          this.queue.add(`${POD}${objectKey(pod)}`);
      } catch {
        // malformed annotations are reported when the pod itself is handled
      }
    }
  }

  private tryUpsertPool(
    kind: 'Subnet' | 'SpiderIPPool',
    obj: KubeOvnSubnet | SpiderIpPool,
  ): PoolEntry | undefined {
    try {
      const change =
        kind === 'Subnet'
          ? this.pools.upsertSubnet(obj as KubeOvnSubnet)
          : this.pools.upsertSpiderPool(obj as SpiderIpPool);
      for (const k of change.dropped) {
        const holderKey = `${change.entry.id}|${k}`;
        const h = this.dropHolder(holderKey);
        if (h) this.queue.add(`${POD}${h.podKey}`);
      }
      return change.entry;
    } catch (err) {
      if (!(err instanceof IpamError)) throw err;
      this.events.warning(
        asKind(obj, kind === 'Subnet' ? 'kubeovn.io/v1' : 'spiderpool.spidernet.io/v2beta1', kind),
        'InvalidPool',
        `${kind} ${obj.metadata?.name}: ${err.message}`,
      );
      return undefined;
    }
  }

  private async syncPool(id: string): Promise<void> {
    const slash = id.indexOf('/');
    const kind = id.slice(0, slash) as 'Subnet' | 'SpiderIPPool';
    const name = id.slice(slash + 1);
    const obj = kind === 'Subnet' ? this.inf.subnets.store.get(name) : this.inf.spiderPools.store.get(name);
    if (!obj) {
      const gone = this.pools.remove(kind, name);
      if (gone) {
        for (const [hk, h] of [...this.holders]) {
          if (h.poolId === id) {
            this.dropHolder(hk);
            this.queue.add(`${POD}${h.podKey}`);
          }
        }
      }
      return;
    }
    const before = this.pools.get(id);
    const entry = this.tryUpsertPool(kind, obj);
    if (!entry) return;
    if (before !== entry) {
      // A new or changed pool may serve pods that were waiting.
      for (const pod of this.inf.pods.store.list()) {
        if (!this.byPod.has(objectKey(pod))) this.queue.add(`${POD}${objectKey(pod)}`);
      }
    }
    if (kind === 'Subnet') {
      const s = kubeOvnSubnetStatus(entry.pool);
      await this.writer.patchClusterStatus(SUBNETS, name, {
        v4availableIPs: Number(s.v4availableIPs),
        v4usingIPs: Number(s.v4usingIPs),
        v4availableIPrange: s.v4availableIPrange,
        v4usingIPrange: s.v4usingIPrange,
        v6availableIPs: Number(s.v6availableIPs),
        v6usingIPs: Number(s.v6usingIPs),
        v6availableIPrange: s.v6availableIPrange,
        v6usingIPrange: s.v6usingIPrange,
      });
    } else {
      const status = spiderIpPoolStatus(entry.pool, (key) => {
        const h = this.holders.get(`${id}|${key}`);
        return h ? { pod: h.podKey, podUid: h.podUid } : undefined;
      });
      await this.writer.patchClusterStatus(SPIDER_IPPOOLS, name, { ...status });
    }
  }

  // -------------------------------------------------------------------------------------------
  // pods

  /** Whether the StatefulSet `sts` (undefined: none) still wants the ordinal of `h`. */
  private static ordinalWanted(h: Holder, sts: StatefulSetLike | undefined): boolean {
    if (!h.sts || !sts) return false;
    const { ref, stsUid } = h.sts;
    if (stsUid && sts.metadata?.uid && sts.metadata.uid !== stsUid) return false;
    const start = sts.spec?.ordinals?.start ?? 0;
    const replicas = sts.spec?.replicas ?? 1;
    return ref.ordinal >= start && ref.ordinal < start + replicas;
  }

  /** Whether the cached StatefulSet wants the ordinal of `h`. A yes is final, a no may be stale. */
  private stsWanted(h: Holder): boolean {
    if (!h.sts) return false;
    const { ref } = h.sts;
    return IpamController.ordinalWanted(h, this.inf.statefulSets.store.getByName(ref.name, ref.namespace));
  }

  /**
   * Whether the ordinal of `h` is still wanted, asking the API server when the cache says no.
   * The StatefulSet cache is fed by its own watch, with no ordering against the pod watch: a pod
   * delete may be seen before the StatefulSet's creation, scale-up or re-creation that came
   * earlier, and releasing on that stale "no" would hand the retained address to someone else.
   */
  private async ordinalRetained(h: Holder): Promise<boolean> {
    if (this.stsWanted(h)) return true;
    return IpamController.ordinalWanted(h, await this.liveStatefulSet(h.sts!.ref));
  }

  private async liveStatefulSet(ref: StatefulSetRef): Promise<StatefulSetLike | undefined> {
    try {
      return await this.statefulSetClient.get(ref.name, ref.namespace);
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  private podLive(podKey: string, uid: string): boolean {
    const pod = this.inf.pods.store.get(podKey);
    return !!pod && pod.metadata?.uid === uid && !podIsDone(pod);
  }

  private async syncPod(podKey: string): Promise<void> {
    const pod = this.inf.pods.store.get(podKey);
    // Allocations of earlier pods under this name (deleted, finished, replaced).
    for (const hk of [...(this.byPod.get(podKey) ?? [])]) {
      const h = this.holders.get(hk);
      if (!h) continue; // released meanwhile by a leak collection
      const current = pod && pod.metadata?.uid === h.podUid && !podIsDone(pod);
      if (current) continue;
      if (h.sts) {
        // A new pod under the name takes the ordinal's addresses over (allocateIn).
        if (pod && !podIsDone(pod)) continue;
        if (await this.ordinalRetained(h)) continue;
        if (this.holders.get(hk) !== h) continue; // changed while the API server was asked
      }
      await this.release(hk);
    }
    if (!pod || podIsDone(pod) || pod.spec?.hostNetwork || !pod.metadata?.uid) return;

    let resolved;
    try {
      resolved = podAttachments(pod, {
        nad: (ns, name) => this.inf.nads.store.getByName(name, ns),
        hasSubnetForProvider: (p) => this.pools.all().some((e) => e.kind === 'Subnet' && e.provider === p),
      });
    } catch (err) {
      if (!(err instanceof MultinetError)) throw err;
      this.events.warning(asKind(pod, 'v1', 'Pod'), 'InvalidNetworkSelection', err.message);
      return;
    }
    const changes: Record<string, string | null> = {};
    const results: IpamAllocations = {};
    const failures: string[] = [];
    for (const p of resolved.problems) {
      if (p.transient) failures.push(`${p.interface}: ${p.message}`);
      else
        this.events.warning(
          asKind(pod, 'v1', 'Pod'),
          'InvalidNetworkAttachment',
          `${p.interface}: ${p.message}`,
        );
    }
    for (const a of resolved.attachments) {
      try {
        const r =
          a.servedBy.model === 'kube-ovn'
            ? await this.serveKubeOvn(pod, a, changes)
            : await this.serveSpider(pod, a, changes);
        results[a.selection.interface] = r;
      } catch (err) {
        if (!(err instanceof IpamError) && !(err instanceof MultinetError)) throw err;
        failures.push(`${a.selection.interface}: ${err.message}`);
        this.events.warning(
          asKind(pod, 'v1', 'Pod'),
          'AddressAllocationFailed',
          `${a.network} on ${a.selection.interface}: ${err.message}`,
        );
      }
    }
    const current = parseIpamAllocationsSafe(pod.metadata?.annotations?.[IPAM_ALLOCATIONS_ANNOTATION]);
    if (Object.keys(results).length > 0 || Object.keys(current).length > 0) {
      changes[IPAM_ALLOCATIONS_ANNOTATION] =
        Object.keys(results).length > 0 ? formatIpamAllocations(results) : null;
    }
    if (Object.keys(changes).length > 0) {
      const res = await annotateObject(this.podClient, pod, changes as AnnotationChanges);
      if (res.status === 'not-found' || res.status === 'replaced') this.queue.add(`${POD}${podKey}`);
    }
    if (failures.length > 0) throw new AttachmentNotReadyError(`pod ${podKey}: ${failures.join('; ')}`);
  }

  /** Allocates in `entry` for `owner`, records the holder and (StatefulSet) the IPReservation. */
  private async allocateIn(
    pod: V1Pod,
    entry: PoolEntry,
    owner: string | StatefulSetRef,
    request: PoolRequest,
    mac?: string,
  ): Promise<{ allocation: PoolAllocation; holder: Holder }> {
    const allocation = entry.pool.allocate(owner, request);
    const holderKey = `${entry.id}|${allocation.key}`;
    const podKey = objectKey(pod);
    const podUid = pod.metadata!.uid!;
    let holder = this.holders.get(holderKey);
    if (!holder) {
      holder = this.holderFor(pod, entry.id, owner, podKey, podUid, mac);
      this.addHolder(holderKey, holder);
      this.queue.add(`${POOL}${entry.id}`);
    } else if (holder.podUid !== podUid || holder.podKey !== podKey) {
      holder = { ...holder, podKey, podUid };
      this.moveHolder(holderKey, holder);
      this.queue.add(`${POOL}${entry.id}`);
    }
    const ips = allocation.addresses.map((a) => a.ip);
    if (holder.sts) await this.persistReservation(holder, ips);
    return { allocation, holder };
  }

  private async serveKubeOvn(
    pod: V1Pod,
    a: Attachment,
    changes: Record<string, string | null>,
  ): Promise<InterfaceAllocation> {
    if (a.servedBy.model !== 'kube-ovn') throw new Error('unreachable');
    const provider = a.servedBy.provider;
    const ann = pod.metadata?.annotations ?? {};
    const ns = pod.metadata?.namespace ?? 'default';
    const req = kubeOvnRequest(ann, provider);
    const recorded = kubeOvnAllocation(ann, provider);
    const owner = ownerFor(pod, provider);
    const subnetName =
      req.logicalSwitch ?? recorded?.logicalSwitch ?? this.pools.subnetsForProvider(provider, ns)[0]?.name;
    const entry = subnetName ? this.pools.get(poolId('Subnet', subnetName)) : undefined;
    if (!entry) {
      throw new AttachmentNotReadyError(
        subnetName ? `Subnet ${subnetName} not found or invalid` : `no Subnet has provider ${provider}`,
      );
    }
    const request: PoolRequest = {};
    const staticIps = req.ips ?? a.selection.ips?.map((ip) => ip.split('/')[0]!);
    if (staticIps && staticIps.length > 0) request.ips = staticIps;
    else if (req.ipPool) {
      try {
        request.candidates = parseIpPoolList(req.ipPool);
      } catch (err) {
        if (!(err instanceof InvalidAddressError)) throw err;
        throw new AttachmentNotReadyError(
          `ip_pool "${req.ipPool}" names an IPPool resource; only address lists are supported`,
        );
      }
    } else if (recorded && !entry.pool.get(owner)) {
      // Recorded but not restored (a duplicate lost at rebuild, a changed Subnet): take it back if free.
      request.ips = recorded.ips;
    }
    const existing = this.holders.get(
      `${entry.id}|${typeof owner === 'string' ? owner : statefulSetKey(owner)}`,
    );
    const mac =
      req.mac ??
      a.selection.mac ??
      existing?.mac ??
      recorded?.mac ??
      (a.servedBy.ovn ? randomMac() : undefined);
    let result;
    try {
      result = await this.allocateIn(pod, entry, owner, request, mac);
    } catch (err) {
      if (request.ips && recorded && !req.ips && err instanceof IpamError) {
        result = await this.allocateIn(pod, entry, owner, {}, mac);
      } else throw err;
    }
    const { allocation, holder } = result;
    const ips = allocation.addresses.map((x) => x.ip);
    const gateway = allocation.addresses.map((x) => x.gateway).filter((g): g is string => !!g);
    Object.assign(
      changes,
      kubeOvnAllocationAnnotations(provider, {
        ips,
        cidr: entry.cidrText,
        ...(gateway.length > 0 ? { gateway: gateway.join(',') } : {}),
        ...(holder.mac ? { mac: holder.mac } : {}),
        logicalSwitch: entry.name,
      }),
    );
    const routes: IpamRoute[] = [];
    for (const r of req.routes ?? []) routes.push({ dst: r.dst ?? defaultDst(r.gw), gw: r.gw });
    for (const gw of a.selection.defaultRoute ?? []) routes.push({ dst: defaultDst(gw), gw });
    return {
      network: a.network,
      pools: [entry.id],
      ips: allocation.addresses.map((x) => `${x.ip}/${x.prefixLength}`),
      ...(gateway.length > 0 ? { gateways: gateway } : {}),
      ...(routes.length > 0 ? { routes } : {}),
      ...(holder.mac ? { mac: holder.mac } : {}),
      podUid: pod.metadata!.uid!,
    };
  }

  /** Candidate SpiderIPPools for an interface, in priority order, filtered by affinity. */
  private spiderCandidates(pod: V1Pod, a: Attachment): { v4: PoolEntry[]; v6: PoolEntry[] } {
    if (a.servedBy.model !== 'spiderpool') throw new Error('unreachable');
    const ns = pod.metadata?.namespace ?? 'default';
    const sel = spiderPoolsForInterface(
      spiderPoolSelections(pod.metadata?.annotations),
      a.selection.interface,
    );
    let v4 = sel?.ipv4 ?? [];
    let v6 = sel?.ipv6 ?? [];
    if (!sel) {
      v4 = a.servedBy.defaultIpv4Pools;
      v6 = a.servedBy.defaultIpv6Pools;
    }
    const usable = (e: PoolEntry | undefined): e is PoolEntry => {
      const s = e?.spider;
      if (!s || s.disabled) return false;
      if (s.multusName.length > 0 && !s.multusName.includes(a.network)) return false;
      if (s.namespaceName.length > 0 && !s.namespaceName.includes(ns)) return false;
      const node = pod.spec?.nodeName;
      if (s.nodeName.length > 0 && node && !s.nodeName.includes(node)) return false;
      return true;
    };
    const byName = (names: string[], family: 4 | 6) =>
      names
        .map((n) => this.pools.get(poolId('SpiderIPPool', n)))
        .filter(usable)
        .filter((e) => e.spider!.family === family);
    if (v4.length === 0 && v6.length === 0) {
      const defaults = this.pools
        .all()
        .filter((e) => e.spider?.isDefault)
        .filter(usable);
      return {
        v4: defaults.filter((e) => e.spider!.family === 4),
        v6: defaults.filter((e) => e.spider!.family === 6),
      };
    }
    return { v4: byName(v4, 4), v6: byName(v6, 6) };
  }

  private async serveSpider(
    pod: V1Pod,
    a: Attachment,
    changes: Record<string, string | null>,
  ): Promise<InterfaceAllocation> {
    const owner = ownerFor(pod, a.keyPart);
    const { v4, v6 } = this.spiderCandidates(pod, a);
    if (v4.length === 0 && v6.length === 0) {
      throw new AttachmentNotReadyError(
        `no usable SpiderIPPool for ${a.network} on ${a.selection.interface}`,
      );
    }
    const staticIps = (a.selection.ips ?? []).map((ip) => ip.split('/')[0]!);
    const got: { entry: PoolEntry; alloc: PoolAllocation }[] = [];
    for (const list of [v4, v6]) {
      if (list.length === 0) continue;
      // Idempotent: a pool that already holds the key answers first.
      const ordered = [...list.filter((e) => e.pool.get(owner)), ...list.filter((e) => !e.pool.get(owner))];
      let last: unknown;
      let done = false;
      for (const entry of ordered) {
        const fixed = staticIps.filter((ip) =>
          entry.pool.allocator.forFamily(parseIp(ip).family)?.contains(ip),
        );
        try {
          const { allocation } = await this.allocateIn(
            pod,
            entry,
            owner,
            fixed.length > 0 ? { ips: fixed } : {},
          );
          got.push({ entry, alloc: allocation });
          done = true;
          break;
        } catch (err) {
          if (!(err instanceof AddressesExhaustedError)) throw err;
          last = err;
        }
      }
      if (!done) throw last instanceof Error ? last : new AttachmentNotReadyError('no address');
    }
    const rec: { ipv4pool?: string; ipv4?: string; ipv6pool?: string; ipv6?: string } = {};
    const ips: string[] = [];
    const gateways: string[] = [];
    const routes: IpamRoute[] = [];
    for (const { entry, alloc } of got) {
      const x = alloc.addresses[0]!;
      const cidr = `${x.ip}/${x.prefixLength}`;
      ips.push(cidr);
      if (x.gateway) gateways.push(x.gateway);
      for (const r of entry.pool.routes) routes.push({ dst: r.dst ?? defaultDst(r.gw), gw: r.gw });
      if (entry.spider!.family === 4) Object.assign(rec, { ipv4pool: entry.name, ipv4: cidr });
      else Object.assign(rec, { ipv6pool: entry.name, ipv6: cidr });
    }
    for (const gw of a.selection.defaultRoute ?? []) routes.push({ dst: defaultDst(gw), gw });
    changes[spiderAssignedKey(a.selection.interface)] = formatSpiderAssigned({
      interface: a.selection.interface,
      ...rec,
    });
    return {
      network: a.network,
      pools: got.map((g) => g.entry.id),
      ips,
      ...(gateways.length > 0 ? { gateways } : {}),
      ...(routes.length > 0 ? { routes } : {}),
      ...(a.selection.mac ? { mac: a.selection.mac } : {}),
      podUid: pod.metadata!.uid!,
    };
  }

  // -------------------------------------------------------------------------------------------
  // leaks

  /**
   * Frees allocations whose pod is gone or finished, and StatefulSet ones whose ordinal is no
   * longer wanted and whose pod is gone. Run at start (after the rebuild), on StatefulSet changes
   * and periodically: it catches deletes missed while the watcher was down.
   */
  async collectLeaks(): Promise<number> {
    // Asked before deciding anything: from the decision to the release there is no await, so no
    // allocation made meanwhile can be mistaken for a leak.
    const unwanted = await this.confirmUnwantedOrdinals();
    let freed = 0;
    const deletes: Promise<void>[] = [];
    for (const entry of this.pools.all()) {
      const keys = new Set<string>();
      const stsAlive = new Map<string, boolean>();
      for (const alloc of entry.pool.allocations()) {
        const holderKey = `${entry.id}|${alloc.key}`;
        const h = this.holders.get(holderKey);
        if (!h) continue;
        if (h.sts) {
          const wanted = this.stsWanted(h) || unwanted.get(holderKey) !== h;
          stsAlive.set(alloc.key, wanted || this.inf.pods.store.has(ordinalPodKey(h.sts.ref)));
        } else if (this.podLive(h.podKey, h.podUid)) keys.add(alloc.key);
      }
      const released = entry.pool.collectLeaks({
        keys,
        statefulSetAlive: (ref) => stsAlive.get(statefulSetKey(ref)) ?? false,
      });
      for (const r of released) {
        const h = this.dropHolder(`${entry.id}|${r.key}`);
        if (h?.sts) deletes.push(this.deleteReservation(h.sts));
        this.log.info(
          { pool: entry.id, key: r.key, ips: r.addresses.map((x) => x.ip) },
          'leaked allocation collected',
        );
        freed++;
      }
      if (released.length > 0) this.queue.add(`${POOL}${entry.id}`);
    }
    const failed = (await Promise.allSettled(deletes)).find((x) => x.status === 'rejected');
    if (failed) throw failed.reason;
    // Reservations without a restored allocation (their pool is gone) are left for the user.
    return freed;
  }

  /**
   * StatefulSet holders (by holder key) whose pod is gone and whose ordinal the API server itself
   * says is no longer wanted. Only those the cache already calls unwanted are asked about, one
   * request per StatefulSet; one that cannot be asked is kept until the next collection.
   */
  private async confirmUnwantedOrdinals(): Promise<Map<string, Holder>> {
    const out = new Map<string, Holder>();
    const live = new Map<string, Promise<StatefulSetLike | undefined>>();
    for (const [holderKey, h] of [...this.holders]) {
      if (!h.sts || this.stsWanted(h) || this.inf.pods.store.has(ordinalPodKey(h.sts.ref))) continue;
      const { ref } = h.sts;
      const stsKey = `${ref.namespace}/${ref.name}`;
      let sts = live.get(stsKey);
      if (!sts) live.set(stsKey, (sts = this.liveStatefulSet(ref)));
      try {
        if (!IpamController.ordinalWanted(h, await sts)) out.set(holderKey, h);
      } catch (err) {
        this.log.warn(
          { statefulSet: stsKey, error: err instanceof Error ? err.message : String(err) },
          'StatefulSet not readable: its retained addresses are kept for now',
        );
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // SpiderMultusConfig -> NAD

  private async syncMultusConfig(key: string): Promise<void> {
    const smc = this.inf.multusConfigs.store.get(key);
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (!smc) {
      const nad = this.inf.nads.store.getByName(name, ns);
      if (nad?.metadata?.ownerReferences?.some((o) => o.kind === 'SpiderMultusConfig' && o.name === name)) {
        await this.writer.deleteNamespaced(NETWORK_ATTACHMENT_DEFINITIONS, ns, name);
      }
      return;
    }
    let config: string;
    try {
      config = multusConfigToNadConfig(ns, name, smc.spec ?? {}, {
        ...(this.opts.ipamKubeconfig ? { ipamKubeconfig: this.opts.ipamKubeconfig } : {}),
      });
    } catch (err) {
      if (!(err instanceof MultinetError)) throw err;
      this.events.warning(
        asKind(smc, 'spiderpool.spidernet.io/v2beta1', 'SpiderMultusConfig'),
        'InvalidSpiderMultusConfig',
        err.message,
      );
      return;
    }
    const nad = this.inf.nads.store.getByName(name, ns);
    const uid = smc.metadata?.uid ?? '';
    if (nad?.spec?.config === config && nad.metadata?.ownerReferences?.some((o) => o.uid === uid)) return;
    const what = await this.writer.ensureNad(ns, name, config, {
      apiVersion: 'spiderpool.spidernet.io/v2beta1',
      kind: 'SpiderMultusConfig',
      name,
      uid,
    });
    this.log.info({ nad: key }, `NetworkAttachmentDefinition ${what} from SpiderMultusConfig`);
  }

  // -------------------------------------------------------------------------------------------
  // introspection (tests, debugging)

  /** Current allocations: pool id -> key -> addresses. */
  snapshot(): Record<string, Record<string, string[]>> {
    const out: Record<string, Record<string, string[]>> = {};
    for (const e of this.pools.all()) {
      out[e.id] = Object.fromEntries(e.pool.allocations().map((a) => [a.key, a.addresses.map((x) => x.ip)]));
    }
    return out;
  }
}

/** What the controller needs of an informer (an Informer, or nothing for an absent CRD). */
interface Source<T> {
  readonly store: ReadonlyStore<T>;
  addHandlers(h: EventHandlers<T>): () => void;
  start(): unknown;
  synced(): Promise<void>;
}

function emptySource<T extends KubernetesObject>(): Source<T> {
  return {
    store: new Store<T>(),
    addHandlers: () => () => undefined,
    start: () => undefined,
    synced: () => Promise.resolve(),
  };
}

/** List items carry no kind; Events need it for involvedObject. */
function asKind<T extends KubernetesObject>(obj: T, apiVersion: string, kind: string): T {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: obj.kind ?? kind };
}

/** `ns/name` of the pod of a StatefulSet ordinal. */
const ordinalPodKey = (ref: StatefulSetRef): string => `${ref.namespace}/${ref.name}-${ref.ordinal}`;

/** The IPReservation spec recording `ips` for a StatefulSet ordinal (also its change signature). */
function reservationSpec(
  pool: string,
  ref: StatefulSetRef,
  stsUid: string | undefined,
  ips: string[],
  mac: string | undefined,
): IpReservationSpec {
  return {
    pool,
    statefulSet: ref.name,
    ...(stsUid ? { statefulSetUid: stsUid } : {}),
    ordinal: ref.ordinal,
    interface: ref.interface ?? '',
    ips,
    ...(mac ? { mac } : {}),
  };
}

function splitHolderKey(hk: string): [string, string] {
  const i = hk.indexOf('|');
  return [hk.slice(0, i), hk.slice(i + 1)];
}

function parseIpamAllocationsSafe(v: string | undefined): IpamAllocations {
  try {
    return parseIpamAllocations(v);
  } catch {
    return {};
  }
}
