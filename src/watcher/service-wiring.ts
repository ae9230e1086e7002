/**
 * The watcher as a production service: src/daemon/service.ts (detach, pidfile, log file, control
 * socket, sd_notify, metrics endpoint, leader election, Events) around the Watcher.
 *
 * Life cycle:
 *  1. Service.start: process side (a --detach parent waits here for the child's verdict) and the
 *     metrics endpoint.
 *  2. NB opened, informers synced, the Watcher built as a hot standby (writes nothing).
 *  3. Election started. On leading: Watcher.activate() (IPAM rebuilt from the NB state of that
 *     moment, full reconcile and sweep), the central IpamController, Events and pod latency.
 *  4. READY=1 / the --detach parent exits 0 once caches are synced (and, as the sole leader,
 *     once the cluster and node rows are converged).
 *  5. Losing leadership exits the process (status 1): a watcher that may have stale state must not
 *     write next to the new leader; the supervisor (systemd, the Deployment) starts it again as a
 *     standby.
 */
import type { KubeConfig, KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { describeConfig } from '../config/describe.js';
import type { EffectiveConfig } from '../config/load.js';
import { Service } from '../daemon/service.js';
import type { DaemonFlags } from '../daemon/flags.js';
import { AddressesExhaustedError, IpamError, SubnetsExhaustedError } from '../ipam/errors.js';
import { EventReasons, type EventRecorder } from '../k8s/events.js';
import { objectKey } from '../k8s/resources.js';
import type { OvnK8sMetrics } from '../metrics/registry.js';
import { MANAGED_TABLES } from '../ovn/reconcile/index.js';
import type { OvsdbDatabase } from '../ovsdb/database.js';
import type { TlsOptions } from '../ovsdb/remote/connect.js';
import { gatewayConfigProblem, podAddressProblem, publishedNodeSubnets } from './annotation-problems.js';
import { podNetworkFromAnnotation, podWantsPort } from './convert.js';
import type { WatcherHooks } from './hooks.js';
import { IpamController } from './ipam/index.js';
import { openNb } from './nb-connect.js';
import { Watcher } from './watcher.js';

export const WATCHER_NAME = 'ovn-k8s-watcher';
const NB = 'OVN_Northbound';

export interface WatcherServiceOptions {
  config: EffectiveConfig;
  daemon: DaemonFlags;
  nbRemotes: string;
  tls?: TlsOptions;
  nbOpenTimeoutMs: number;
  k8sSyncTimeoutMs: number;
  kubeConfig: KubeConfig;
  clusterSubnets: string[];
  joinSubnets?: string[];
  /** run the central IPAM controller of other CNIs in the leader (default true) */
  ipamController?: boolean;
}

export class LeadershipLostError extends Error {
  override name = 'LeadershipLostError';
}

/** The hooks that feed the watcher's metrics (reconciles, queue, NB transactions). */
export function metricsHooks(metrics: OvnK8sMetrics): WatcherHooks {
  return {
    aroundKey: (controller, run) => metrics.timeReconcile(controller, run),
    queueObserver: metrics.workQueues.observerFor(WATCHER_NAME),
    transport: (inner) => ({
      get schema() {
        return inner.schema;
      },
      transact: async (txn) => {
        const result = await metrics.timeTransaction(NB, () => inner.transact(txn));
        const failed = result as { ok?: boolean; error?: { error?: string } };
        // a transaction the server refused is an answer, not an exception: count it here
        if (failed.ok === false)
          metrics.ovsdbTransactionFailures.inc({ database: NB, reason: failed.error?.error ?? 'failed' });
        return result;
      },
    }),
  };
}

/** Runs until shutdown (signal, `ctl exit`) or lost leadership; the process exits from Service. */
export async function runWatcherService(opts: WatcherServiceOptions): Promise<void> {
  const service = await Service.start({
    name: WATCHER_NAME,
    config: opts.config,
    daemon: opts.daemon,
    kubeConfig: opts.kubeConfig,
  });
  const log = service.logger;
  const metrics = service.metrics;
  let db: OvsdbDatabase | undefined;
  let watcher: Watcher;
  try {
    db = await openNb(
      { nbAddress: opts.nbRemotes },
      { timeoutMs: opts.nbOpenTimeoutMs, ...(opts.tls ? { tls: opts.tls } : {}) },
    );
    metrics.instrumentDatabase(NB, db, true);
    if (service.electionMode === 'ovsdb-lock') service.setLockDatabase(db);
    watcher = await Watcher.start({
      db,
      kubeConfig: opts.kubeConfig,
      clusterSubnets: opts.clusterSubnets,
      ...(opts.joinSubnets ? { joinSubnets: opts.joinSubnets } : {}),
      k8sSyncTimeoutMs: opts.k8sSyncTimeoutMs,
      logger: log,
      standby: true,
      hooks: { ...metricsHooks(metrics), keyFailed: (key, err) => reportKeyFailure(key, err) },
    });
  } catch (err) {
    await db?.close();
    return service.fail(err);
  }
  const nb = db;
  metrics.workQueues.track(watcher.queue);
  registerCaches(metrics, watcher, nb);
  log.info(
    { nb: opts.nbRemotes, clusterSubnets: opts.clusterSubnets, election: service.electionMode },
    'watcher started',
  );

  let stopping = false;
  let leading = false;
  let ipam: IpamController | undefined;
  /** the central IPAM controller of secondary networks: runs in the leader only */
  let ipamState: 'off' | 'starting' | 'running' | 'failed' | 'disabled' =
    opts.ipamController === false ? 'disabled' : 'off';
  const detachers: (() => void)[] = [];

  /** Warning Events only from the leader (the standby must not write anything, Events included). */
  const warn = (obj: KubernetesObject | undefined, reason: string, message: string): void => {
    if (!leading || !obj || !service.events) return;
    log.warn({ object: objectKey(obj), kind: obj.kind, reason }, message);
    void service.events.warn(withKind(obj), reason, message);
  };

  function reportKeyFailure(key: string, err: unknown): void {
    if (!(err instanceof IpamError)) return;
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const id = key.slice(colon + 1);
    const reason =
      err instanceof AddressesExhaustedError || err instanceof SubnetsExhaustedError
        ? EventReasons.SubnetExhausted
        : EventReasons.InvalidNetworkConfig;
    if (kind === 'pod') warn(watcher.informers.pods.store.get(id), reason, err.message);
    else if (kind === 'node') warn(watcher.informers.nodes.store.get(id), reason, err.message);
  }

  const takeOver = async (): Promise<void> => {
    leading = true;
    log.info({ identity: service.elector.identity }, 'leading: taking over the NB database');
    watchAnnotations(watcher, warn, detachers);
    trackPodLatency(watcher, metrics, detachers);
    await watcher.activate();
    if (opts.ipamController !== false) {
      ipam = new IpamController({
        kubeConfig: opts.kubeConfig,
        logger: log,
        componentName: WATCHER_NAME,
        ...(service.events ? { events: eventSink(service.events, log) } : {}),
      });
      ipamState = 'starting';
      // in the background: readiness and the primary network must not wait for (or fail with)
      // the optional secondary-network IPAM
      void ipam.start().then(
        () => {
          ipamState = 'running';
        },
        (err: unknown) => {
          ipamState = 'failed';
          log.error({ err: (err as Error).message }, 'central IPAM controller did not start');
        },
      );
    }
    log.info(watcher.stats(), 'leader: caught up with the NB database');
  };

  let takingOver: Promise<void> | undefined;
  service.onLeadership({
    onStartedLeading: () => {
      takingOver = takeOver().catch((err: unknown) => service.fail(err));
    },
    onStoppedLeading: () => {
      if (stopping) return;
      service.fail(new LeadershipLostError('lost leadership; exiting so that only the new leader writes'));
    },
  });
  service.daemon.control?.register(
    'config',
    () => describeConfig(opts.config),
    'config: the effective configuration and where each value came from (secrets masked)',
  );
  service.onResync(() => {
    if (!watcher.isActive) return 'standby: caches are synced, nothing to write';
    watcher.resyncAll('requested on the control socket');
    return 'full resync queued';
  });
  service.setStatus(() => {
    const s = watcher.stats();
    return {
      nb: opts.nbRemotes,
      nbRemote: nb.remote ?? null,
      nbConsistent: nb.isConsistent,
      electionMode: service.electionMode,
      writing: watcher.isActive,
      queue: { depth: watcher.queue.depth, inFlight: watcher.queue.inFlight, ...s.queue },
      transactions: s.batcher,
      resyncs: s.resyncs,
      ipamController: ipamState,
      caches: {
        nodes: watcher.informers.nodes.store.size,
        pods: watcher.informers.pods.store.size,
        services: watcher.informers.services.store.size,
        endpointSlices: watcher.informers.endpointSlices.store.size,
      },
    };
  });
  service.daemon.onShutdown(async () => {
    // stop writing before the elector releases leadership (its hook runs after this one)
    stopping = true;
    for (const d of detachers) d();
    await ipam?.stop();
    await watcher.stop();
    await nb.close();
    log.info(watcher.stats(), 'watcher stopped');
  });
  try {
    await service.startElection();
  } catch (err) {
    return service.fail(err);
  }
  // the sole leader converges cluster and node rows before saying it is ready
  if (takingOver) await takingOver;
  await service.markSynced(leading ? 'synced, leading' : 'synced, standby');
}

/** Informer objects carry no apiVersion/kind; Events need them in involvedObject. */
function withKind(obj: KubernetesObject): KubernetesObject {
  if (obj.kind) return obj;
  const isNode = !obj.metadata?.namespace;
  return { ...obj, apiVersion: 'v1', kind: isNode ? 'Node' : 'Pod' };
}

function eventSink(events: EventRecorder, log: { warn(o: object, m: string): void }) {
  return {
    warning: (obj: KubernetesObject, reason: string, message: string) => {
      log.warn({ object: objectKey(obj), kind: obj.kind, reason }, message);
      void events.warn(obj, reason, message);
    },
  };
}

/** Events for annotations we cannot use: a node's gateway config, a pod's requested address. */
function watchAnnotations(
  watcher: Watcher,
  warn: (obj: KubernetesObject, reason: string, message: string) => void,
  detachers: (() => void)[],
): void {
  const { nodes, pods } = watcher.informers;
  const lastNode = new Map<string, string | undefined>();
  const checkNode = (n: V1Node) => {
    const problem = gatewayConfigProblem(n);
    const name = n.metadata?.name ?? '';
    if (problem && lastNode.get(name) !== problem)
      warn({ ...n, apiVersion: 'v1', kind: 'Node' }, EventReasons.BadAnnotation, problem);
    lastNode.set(name, problem);
  };
  detachers.push(
    nodes.addHandlers({
      onAdd: checkNode,
      onUpdate: (_o: V1Node, n: V1Node) => checkNode(n),
      onDelete: (n: V1Node) => lastNode.delete(n.metadata?.name ?? ''),
    }),
  );
  const checkPod = (p: V1Pod) => {
    if (!podWantsPort(p)) return;
    const problem = podAddressProblem(p, publishedNodeSubnets(nodes.store.get(p.spec!.nodeName!)));
    if (problem) warn({ ...p, apiVersion: 'v1', kind: 'Pod' }, EventReasons.BadAnnotation, problem);
  };
  detachers.push(pods.addHandlers({ onAdd: checkPod, onUpdate: (_o: V1Pod, p: V1Pod) => checkPod(p) }));
}

/** Pod port creation latency: from the first event of a pod needing a port to its annotation. */
function trackPodLatency(watcher: Watcher, metrics: OvnK8sMetrics, detachers: (() => void)[]): void {
  const waiting = new Map<string, number>();
  const seen = (p: V1Pod) => {
    const key = objectKey(p);
    if (!podWantsPort(p)) {
      waiting.delete(key);
      return;
    }
    if (podNetworkFromAnnotation(p)) {
      const since = waiting.get(key);
      if (since !== undefined) metrics.observePodCreated(since);
      waiting.delete(key);
    } else if (!waiting.has(key)) waiting.set(key, Date.now());
  };
  detachers.push(
    watcher.informers.pods.addHandlers({
      onAdd: seen,
      onUpdate: (_o: V1Pod, p: V1Pod) => seen(p),
      onDelete: (p: V1Pod) => waiting.delete(objectKey(p)),
    }),
  );
}

/** Informer stores and NB tables by size, and the pod address pools per node, at scrape time. */
function registerCaches(metrics: OvnK8sMetrics, watcher: Watcher, db: OvsdbDatabase): void {
  const inf = watcher.informers;
  metrics.registerCacheSize('k8s/nodes', () => inf.nodes.store.size);
  metrics.registerCacheSize('k8s/pods', () => inf.pods.store.size);
  metrics.registerCacheSize('k8s/services', () => inf.services.store.size);
  metrics.registerCacheSize('k8s/endpointslices', () => inf.endpointSlices.store.size);
  for (const t of MANAGED_TABLES) metrics.registerCacheSize(`nb/${t}`, () => db.cache.table(t).size);
  const pools = new Set<string>();
  const track = (n: V1Node) => {
    const node = n.metadata?.name;
    if (!node || pools.has(node)) return;
    pools.add(node);
    metrics.registerIpamPool(`node/${node}`, () => {
      let allocated = 0n;
      let total = 0n;
      for (const u of watcher.ipam.podAllocatorIfBuilt(node)?.usage().values() ?? []) {
        allocated += u.used;
        total += u.size - u.excluded;
      }
      return { allocated: Number(allocated), total: Number(total) };
    });
  };
  inf.nodes.addHandlers({
    onAdd: track,
    onDelete: (n: V1Node) => {
      const node = n.metadata?.name ?? '';
      pools.delete(node);
      metrics.unregisterIpamPool(`node/${node}`);
    },
  });
  const subnets = watcher.ipam.hostSubnets;
  metrics.registerIpamPool('cluster/host-subnets', () => {
    const all = subnets.usage();
    return {
      allocated: all.reduce((n, u) => n + u.allocated, 0),
      total: Number(all.reduce((n, u) => n + u.total, 0n)),
    };
  });
}
