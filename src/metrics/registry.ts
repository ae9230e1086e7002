/**
 * The watcher's Prometheus metrics (prom-client), all in one Registry so one /metrics serves them:
 * pod port creation latency (event to annotation), reconcile counts/errors/durations per
 * controller, OVSDB transaction latency and failures, reconnects, leadership, work queues,
 * cache sizes and IPAM pool usage. Names follow ovn-kubernetes where it has one
 * (pod_creation_latency_seconds) under our `ovnk8s_` prefix.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { WorkQueueMetrics } from '../k8s/metrics.js';

export const METRIC_PREFIX = 'ovnk8s_';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface IpamPoolUsage {
  allocated: number;
  total: number;
}

/** Anything that emits OvsdbDatabase's connection events. */
export interface ConnectionEvents {
  on(event: 'connected', fn: (info: { remote: string; resumed: boolean }) => void): unknown;
  on(event: 'disconnected', fn: (info: { remote: string; reason: string }) => void): unknown;
}

export interface CreateMetricsOptions {
  /** process_* and nodejs_* metrics (default true) */
  defaultMetrics?: boolean;
  registry?: Registry;
}

export class OvnK8sMetrics {
  readonly registry: Registry;
  readonly workQueues: WorkQueueMetrics;
  readonly podCreationLatency: Histogram;
  readonly reconciles: Counter<'controller'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly ovsdbTransactionDuration: Histogram<'database'>;
  readonly ovsdbTransactionFailures: Counter<'database' | 'reason'>;
  readonly ovsdbReconnects: Counter<'database'>;
  readonly ovsdbConnected: Gauge<'database'>;
  readonly leaderChanges: Counter;
  readonly isLeader: Gauge;
  readonly ready: Gauge;
  readonly eventsRecorded: Counter<'reason' | 'type'>;
  private readonly cacheSizes = new Map<string, () => number>();
  private readonly ipamPools = new Map<string, () => IpamPoolUsage>();

  constructor(opts: CreateMetricsOptions = {}) {
    const registry = opts.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
    this.workQueues = new WorkQueueMetrics(registry, METRIC_PREFIX);
    this.podCreationLatency = new Histogram({
      name: `${METRIC_PREFIX}pod_creation_latency_seconds`,
      help: 'Time from the pod event (scheduled) to its logical switch port and annotation being written',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.reconciles = new Counter({
      name: `${METRIC_PREFIX}reconcile_total`,
      help: 'Reconcile runs per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: `${METRIC_PREFIX}reconcile_errors_total`,
      help: 'Reconcile runs that failed, per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: `${METRIC_PREFIX}reconcile_duration_seconds`,
      help: 'Duration of reconcile runs per controller',
      labelNames: ['controller'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ovsdbTransactionDuration = new Histogram({
      name: `${METRIC_PREFIX}ovsdb_transaction_duration_seconds`,
      help: 'OVSDB transaction latency (request to reply)',
      labelNames: ['database'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ovsdbTransactionFailures = new Counter({
      name: `${METRIC_PREFIX}ovsdb_transaction_failures_total`,
      help: 'OVSDB transactions that failed, by error class',
      labelNames: ['database', 'reason'],
      registers,
    });
    this.ovsdbReconnects = new Counter({
      name: `${METRIC_PREFIX}ovsdb_reconnects_total`,
      help: 'OVSDB connections re-established after the first',
      labelNames: ['database'],
      registers,
    });
    this.ovsdbConnected = new Gauge({
      name: `${METRIC_PREFIX}ovsdb_connected`,
      help: '1 while monitoring a server',
      labelNames: ['database'],
      registers,
    });
    this.leaderChanges = new Counter({
      name: `${METRIC_PREFIX}leader_changes_total`,
      help: 'Times this process started or stopped leading',
      registers,
    });
    this.isLeader = new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: '1 while this process is the leader',
      registers,
    });
    this.ready = new Gauge({
      name: `${METRIC_PREFIX}ready`,
      help: '1 once caches synced and leadership known',
      registers,
    });
    this.eventsRecorded = new Counter({
      name: `${METRIC_PREFIX}kubernetes_events_total`,
      help: 'Kubernetes Events recorded (new or repeated)',
      labelNames: ['reason', 'type'],
      registers,
    });
    const caches = this.cacheSizes;
    new Gauge({
      name: `${METRIC_PREFIX}cache_objects`,
      help: 'Objects held per cache (informer stores, OVSDB tables)',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        for (const [cache, size] of caches) this.set({ cache }, size());
      },
    });
    const pools = this.ipamPools;
    new Gauge({
      name: `${METRIC_PREFIX}ipam_pool_addresses`,
      help: 'IPAM pool addresses by state (allocated, free, total)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [pool, usage] of pools) {
          const u = usage();
          this.set({ pool, state: 'allocated' }, u.allocated);
          this.set({ pool, state: 'free' }, u.total - u.allocated);
          this.set({ pool, state: 'total' }, u.total);
        }
      },
    });
  }

  /** A cache whose size is read at scrape time (e.g. `() => store.size`). */
  registerCacheSize(name: string, size: () => number): void {
    this.cacheSizes.set(name, size);
  }

  unregisterCacheSize(name: string): void {
    this.cacheSizes.delete(name);
  }

  /** An IPAM pool (node subnet, CRD pool) read at scrape time. */
  registerIpamPool(name: string, usage: () => IpamPoolUsage): void {
    this.ipamPools.set(name, usage);
  }

  unregisterIpamPool(name: string): void {
    this.ipamPools.delete(name);
  }

  /** Pod event time (ms since epoch, e.g. when the scheduled pod was seen) to annotation written. */
  observePodCreated(eventAtMs: number, nowMs = Date.now()): void {
    this.podCreationLatency.observe(Math.max(0, (nowMs - eventAtMs) / 1000));
  }

  /** Counts and times one reconcile of `controller`; rethrows its error after counting it. */
  async timeReconcile<T>(controller: string, fn: () => Promise<T>): Promise<T> {
    const end = this.reconcileDuration.startTimer({ controller });
    this.reconciles.inc({ controller });
    try {
      return await fn();
    } catch (err) {
      this.reconcileErrors.inc({ controller });
      throw err;
    } finally {
      end();
    }
  }

  /** Times one OVSDB transaction; a failure is counted under its error class name. */
  async timeTransaction<T>(database: string, fn: () => Promise<T>): Promise<T> {
    const end = this.ovsdbTransactionDuration.startTimer({ database });
    try {
      return await fn();
    } catch (err) {
      this.ovsdbTransactionFailures.inc({ database, reason: err instanceof Error ? err.name : 'unknown' });
      throw err;
    } finally {
      end();
    }
  }

  /**
   * Counts reconnects (every `connected` after the first) and tracks the connected state. Pass
   * `alreadyConnected` when the handle was opened before (OvsdbDatabase.open): its first
   * `connected` event is then already past and the next one is a reconnect.
   */
  instrumentDatabase(database: string, db: ConnectionEvents, alreadyConnected = false): void {
    let connections = alreadyConnected ? 1 : 0;
    this.ovsdbConnected.set({ database }, alreadyConnected ? 1 : 0);
    db.on('connected', () => {
      if (connections++ > 0) this.ovsdbReconnects.inc({ database });
      this.ovsdbConnected.set({ database }, 1);
    });
    db.on('disconnected', () => this.ovsdbConnected.set({ database }, 0));
  }

  /** Call from the elector's callbacks: leadership gauge and change counter. */
  setLeader(leading: boolean): void {
    this.leaderChanges.inc();
    this.isLeader.set(leading ? 1 : 0);
  }
}

export function createMetrics(opts: CreateMetricsOptions = {}): OvnK8sMetrics {
  return new OvnK8sMetrics(opts);
}
