/**
 * The watcher: Kubernetes objects become the OVN logical network.
 *
 * Path of one change: informer event -> key on the keyed work queue (coalesced, one run at a time
 * per key, many keys in parallel) -> the key's controller reads the informer stores and the NB
 * cache -> intent -> reconcile -> operations batched with other keys' into few transactions ->
 * annotations patched once committed. Level-triggered: a key's run depends only on current state.
 *
 * Convergence: at start, after every OVSDB reconnection and after every watch relist, every key is
 * queued again, plus the keys of owners that still have rows in NB but no object any more (their
 * run removes the rows). A run on a converged key sends nothing, so a restart writes nothing.
 */
import type { KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { AnnotationWorker, directAnnotator } from '../k8s/annotation-offload.js';
import { SERVICE_NAME_LABEL, InformerFactory } from '../k8s/factory.js';
import { NODES, PODS, objectKey, resourceClient } from '../k8s/resources.js';
import { WorkQueue, type WorkQueueStats } from '../k8s/workqueue.js';
import { parseClusterSubnets, formatCidr } from '../ipam/cidr.js';
import { clusterRows, type ClusterConfig } from '../ovn/intent/index.js';
import { DEFAULT_JOIN_SUBNET_V4, CLUSTER_OWNER, type OwnerRef } from '../ovn/names.js';
import { MANAGED_TABLES, staleOwners } from '../ovn/reconcile/index.js';
import { OvsdbDatabase } from '../ovsdb/database.js';
import type { TlsOptions } from '../ovsdb/remote/connect.js';
import { TxnBatcher, type BatcherOptions, type BatcherStats } from './batcher.js';
import {
  CLUSTER_KEY,
  DependencyNotReadyError,
  applyOwned,
  nodeKey,
  podKey,
  serviceKey,
  type ControllerContext,
  type Informers,
  type WatcherLogger,
} from './context.js';
import { ClusterIpam } from './ipam-state.js';
import { liveNbView, type LiveNbView } from './nb-view.js';
import { NodeController } from './node-controller.js';
import { PodController } from './pod-controller.js';
import { NetworkController, nadSource, type NadSource } from './network-controller.js';
import { ServiceController } from './service-controller.js';
import { combineObservers, type WatcherHooks } from './hooks.js';

export interface WatcherOptions {
  /** NB remotes (`unix:...`, `tcp:IP:PORT`, `ssl:IP:PORT`, comma list) unless `db` is given */
  nbRemotes?: string | readonly string[];
  tls?: TlsOptions;
  /** an open NB handle to use instead (not closed by stop) */
  db?: OvsdbDatabase;
  kubeConfig: KubeConfig;
  /** cluster subnets with host prefix, e.g. ["10.128.0.0/14/23", "fd00:10:128::/48/64"] */
  clusterSubnets: readonly string[];
  /** join subnets, one per family (default 100.64.0.0/16) */
  joinSubnets?: readonly string[];
  logger?: WatcherLogger;
  /** keys handled at the same time (default 512: many keys feed one batch, and their annotation
   * writes overlap; 64 made a 100,000-pod cold sync wait on round trips: 90 s against 65 s) */
  concurrency?: number;
  batch?: BatcherOptions;
  /** how long start-up waits for NB (default 10 s) */
  nbOpenTimeoutMs?: number;
  /** how long start-up waits for the first complete list of every watched resource (default 60 s) */
  k8sSyncTimeoutMs?: number;
  /**
   * Hot standby (leader election): caches are synced but nothing is written and no key runs until
   * activate() (on becoming the leader), which then rebuilds IPAM from the NB state of that moment.
   */
  standby?: boolean;
  /** metrics and Events observation points */
  hooks?: WatcherHooks;
  /**
   * Send pod annotation writes from a worker thread (default true): on a large cluster they are a
   * large share of the work, and the controllers' thread is the one every key waits for.
   */
  annotationWorker?: boolean;
  /** how often to look again for a NetworkAttachmentDefinition CRD missing at start (default 30 s) */
  nadRecheckMs?: number;
}

export class KubernetesUnreachableError extends Error {
  override name = 'KubernetesUnreachableError';
}

async function syncWithin(
  factory: InformerFactory,
  timeoutMs: number,
  server: string | undefined,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new KubernetesUnreachableError(
            `cannot list from the Kubernetes API at ${server ?? '(unknown)'} within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([factory.waitForSync(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WatcherStats {
  batcher: BatcherStats;
  queue: WorkQueueStats;
  resyncs: number;
}

const NOOP_LOGGER: WatcherLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** ClusterConfig for intent from the CLI's cluster subnets (the host prefix is IPAM's business). */
export function clusterConfigOf(
  clusterSubnets: readonly string[],
  joinSubnets?: readonly string[],
): ClusterConfig {
  return {
    clusterSubnets: parseClusterSubnets(clusterSubnets).map((c) => formatCidr(c.cidr)),
    joinSubnets: joinSubnets && joinSubnets.length > 0 ? [...joinSubnets] : [DEFAULT_JOIN_SUBNET_V4],
  };
}

export class Watcher {
  readonly queue: WorkQueue;
  private readonly detachers: Array<() => void> = [];
  private resyncs = 0;
  private stopped = false;
  private activated = false;

  private constructor(
    readonly db: OvsdbDatabase,
    private readonly ownsDb: boolean,
    private readonly factory: InformerFactory,
    /** the informer stores (read-only use outside: metrics, Events) */
    readonly informers: Informers,
    private readonly view: LiveNbView,
    private readonly batcher: TxnBatcher,
    private readonly ctx: ControllerContext,
    private readonly nodes: NodeController,
    private readonly pods: PodController,
    private readonly services: ServiceController,
    private readonly log: WatcherLogger,
    concurrency: number,
    private readonly hooks: WatcherHooks = {},
  ) {
    this.queue = new WorkQueue((key) => this.handle(key), {
      name: 'ovn-k8s-watcher',
      concurrency,
      retry: { initialMs: 50, maxMs: 10_000, factor: 2, jitter: 0.2 },
      observer: combineObservers(hooks.queueObserver, {
        onRetry: (key, attempt, delayMs, error) => {
          hooks.keyFailed?.(key, error, attempt);
          const level = error instanceof DependencyNotReadyError && attempt < 10 ? 'debug' : 'warn';
          this.log[level](
            { key, attempt, delayMs, err: (error as Error)?.message },
            'key failed, will retry',
          );
        },
      }),
    });
  }

  /** Connects to NB and Kubernetes, rebuilds IPAM, and queues every key. */
  static async start(opts: WatcherOptions): Promise<Watcher> {
    const log = opts.logger ?? NOOP_LOGGER;
    const config = clusterConfigOf(opts.clusterSubnets, opts.joinSubnets);
    const ipam = new ClusterIpam(opts.clusterSubnets, config.joinSubnets!, log);
    // NB and Kubernetes load at the same time: each is a few seconds on a large cluster
    const factory = new InformerFactory(opts.kubeConfig, { logger: log });
    const informers: Informers = {
      nodes: factory.nodes(),
      pods: factory.pods(),
      services: factory.services(),
      endpointSlices: factory.endpointSlices(),
    };
    const openDb = async (): Promise<OvsdbDatabase> => {
      if (opts.db) return opts.db;
      if (!opts.nbRemotes) throw new TypeError('Watcher.start: nbRemotes or db is required');
      return OvsdbDatabase.open({
        remotes: opts.nbRemotes,
        database: 'OVN_Northbound',
        tables: Object.fromEntries(MANAGED_TABLES.map((t) => [t, {}])),
        ...(opts.tls ? { tls: opts.tls } : {}),
        openTimeoutMs: opts.nbOpenTimeoutMs ?? 10_000,
        logger: log,
      });
    };
    // the controllers queue keys through the watcher, which needs them to exist first
    const self: { watcher?: Watcher } = {};
    let nadsMade: NadSource | undefined;
    const syncK8s = async (): Promise<NadSource> => {
      // secondary OVN networks; a NAD CRD installed later is picked up then, as a resync
      const nads = await nadSource(factory, opts.kubeConfig, log, {
        ...(opts.nadRecheckMs !== undefined ? { recheckMs: opts.nadRecheckMs } : {}),
        onInstalled: () => self.watcher?.resyncAll('NetworkAttachmentDefinition CRD installed'),
      });
      nadsMade = nads;
      factory.startAll();
      await syncWithin(factory, opts.k8sSyncTimeoutMs ?? 60_000, opts.kubeConfig.getCurrentCluster()?.server);
      return nads;
    };
    const dbOpening = openDb();
    let db: OvsdbDatabase;
    let nads: NadSource;
    try {
      [db, nads] = await Promise.all([dbOpening, syncK8s()]);
    } catch (err) {
      // the first failure ends start-up; the other half is stopped or closed once it settles
      nadsMade?.close?.();
      await factory.stopAll();
      if (!opts.db)
        dbOpening.then(
          (d) => d.close(),
          () => undefined,
        );
      throw err;
    }
    const view = liveNbView(db.cache);
    const batcher = new TxnBatcher(opts.hooks?.transport?.(db) ?? db, opts.batch);
    const ctx: ControllerContext = {
      config,
      informers,
      clients: { nodes: resourceClient(opts.kubeConfig, NODES), pods: resourceClient(opts.kubeConfig, PODS) },
      annotator:
        opts.annotationWorker === false
          ? directAnnotator(opts.kubeConfig)
          : new AnnotationWorker(opts.kubeConfig),
      view,
      batcher,
      ipam,
      log,
      enqueue: (key) => self.watcher?.enqueue(key),
    };
    const nodes = new NodeController(ctx);
    const pods = new PodController(ctx, new NetworkController(ctx, nads, { kubeConfig: opts.kubeConfig }));
    const services = new ServiceController(ctx, () => nodes.allGatewayIps());
    const watcher = new Watcher(
      db,
      !opts.db,
      factory,
      informers,
      view,
      batcher,
      ctx,
      nodes,
      pods,
      services,
      log,
      opts.concurrency ?? 512,
      opts.hooks,
    );
    self.watcher = watcher;
    if (!opts.standby) await watcher.activate();
    return watcher;
  }

  /** The address bookkeeping (read-only use outside: IPAM pool metrics). */
  get ipam(): ClusterIpam {
    return this.ctx.ipam;
  }

  /** True once the watcher writes (always, unless started as a standby and not yet activated). */
  get isActive(): boolean {
    return this.activated;
  }

  /**
   * Starts writing: rebuilds the address bookkeeping from the nodes and NB as they are now (a
   * standby takes over what the previous leader wrote), then converges everything.
   */
  async activate(): Promise<void> {
    if (this.activated || this.stopped) return;
    this.activated = true;
    const informers = this.informers;
    this.nodes.rebuild();
    // cluster rows first, then nodes, then everything: pods and services refer to the rows the
    // earlier phases create, and would otherwise fail and wait for a retry. The handlers come
    // last (attaching replays every stored object as an add); whatever changed meanwhile is in
    // the stores, which the full resync reads.
    this.enqueue(CLUSTER_KEY);
    await this.queue.whenIdle();
    // the nodes' pods run once, after the handlers are attached (the resync below queues them all)
    this.nodes.holdPods = true;
    for (const k of informers.nodes.store.keys()) this.enqueue(nodeKey(k));
    await this.queue.whenIdle();
    this.nodes.holdPods = false;
    for (const k of this.pods.networks?.keys() ?? []) this.enqueue(k);
    await this.queue.whenIdle();
    this.attach();
    this.resyncAll('start');
  }

  enqueue(key: string): void {
    if (!this.stopped) this.queue.add(key);
  }

  /**
   * Queues every key: the cluster, every node, pod and service, and every owner that has rows in
   * NB but no object in Kubernetes.
   */
  resyncAll(reason: string): void {
    if (this.stopped || !this.activated) return;
    this.resyncs++;
    this.log.info({ reason }, 'full resync');
    const { nodes, pods, services } = this.informers;
    this.enqueue(CLUSTER_KEY);
    for (const k of nodes.store.keys()) this.enqueue(nodeKey(k));
    for (const k of pods.store.keys()) this.enqueue(podKey(k));
    for (const k of services.store.keys()) this.enqueue(serviceKey(k));
    const isLive = (o: OwnerRef): boolean =>
      o.type === 'Node'
        ? nodes.store.has(o.id)
        : o.type === 'Pod'
          ? pods.store.has(o.id)
          : o.type === 'Service'
            ? services.store.has(o.id)
            : true;
    for (const o of staleOwners(this.view, isLive, ['Node', 'Pod', 'Service'])) {
      this.enqueue(o.type === 'Node' ? nodeKey(o.id) : o.type === 'Pod' ? podKey(o.id) : serviceKey(o.id));
    }
    for (const k of this.pods.networks?.resyncKeys(pods.store) ?? []) this.enqueue(k);
  }

  /** Resolves when no key is queued, running or waiting for a retry. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle({ includeDelayed: true });
  }

  stats(): WatcherStats {
    return { batcher: this.batcher.stats(), queue: this.queue.stats(), resyncs: this.resyncs };
  }

  /** Stops handling events, lets running keys finish, and closes the connections it opened. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pods.networks?.nads.close?.(); // no more looking for a NAD CRD installed later
    for (const d of this.detachers) d();
    await this.queue.shutdown();
    await this.ctx.annotator.close();
    await this.batcher.close();
    await this.factory.stopAll();
    this.view.detach();
    if (this.ownsDb) await this.db.close();
  }

  private async handle(key: string): Promise<void> {
    const colon = key.indexOf(':');
    const kind = colon < 0 ? key : key.slice(0, colon);
    const id = key.slice(colon + 1);
    if (this.hooks.aroundKey) return this.hooks.aroundKey(kind, () => this.dispatch(kind, id, key));
    return this.dispatch(kind, id, key);
  }

  private async dispatch(kind: string, id: string, key: string): Promise<void> {
    switch (kind) {
      case CLUSTER_KEY:
        await applyOwned(this.ctx, key, CLUSTER_OWNER, clusterRows(this.ctx.config));
        return;
      case 'node':
        return this.nodes.sync(id);
      case 'pod':
        return this.pods.sync(id);
      case 'svc':
        return this.services.sync(id);
      case 'net':
        return this.pods.networks?.sync(id);
      default:
        this.log.warn({ key }, 'unknown key');
    }
  }

  private attach(): void {
    const { nodes, pods, services, endpointSlices } = this.informers;
    const on = <T extends KubernetesObject>(
      inf: { addHandlers(h: object): () => void },
      keyOf: (o: T, old?: T) => string | undefined,
      name: string,
    ) => {
      const add = (o: T, old?: T) => {
        const k = keyOf(o, old);
        if (k) this.enqueue(k);
      };
      this.detachers.push(
        inf.addHandlers({
          onAdd: add,
          onUpdate: (old: T, o: T) => add(o, old),
          onDelete: add,
          onSync: ({ initial }: { initial: boolean }) => {
            if (!initial) this.resyncAll(`${name} relisted`);
          },
        }),
      );
    };
    on(nodes, (n) => nodeKey(objectKey(n)), 'nodes');
    // the echo of the pod controller's own annotation write is not news
    on(
      pods,
      (p: V1Pod, old?: V1Pod) => (old && this.pods.isOwnWrite(old, p) ? undefined : podKey(objectKey(p))),
      'pods',
    );
    on(services, (s) => serviceKey(objectKey(s)), 'services');
    on(
      endpointSlices,
      (s: KubernetesObject) => {
        const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
        return svc && s.metadata?.namespace ? serviceKey(`${s.metadata.namespace}/${svc}`) : undefined;
      },
      'endpointslices',
    );
    const onConnected = (info: { resumed: boolean }) =>
      this.resyncAll(`NB reconnected (resumed=${info.resumed})`);
    this.db.on('connected', onConnected);
    this.detachers.push(() => this.db.off('connected', onConnected));
    this.detachers.push(...(this.pods.networks?.attach((k) => this.enqueue(k)) ?? []));
  }
}
