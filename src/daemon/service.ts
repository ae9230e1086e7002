/**
 * The production harness of a long-running ovn-k8s service, composed from the parts in this
 * repository: process life cycle (daemon.ts: --detach, --pidfile, --log-file, sd_notify, control
 * socket), Prometheus metrics and /healthz /readyz (src/metrics), leader election by Lease or
 * OVSDB lock (src/ha), Kubernetes Events (src/k8s/events.ts), all configured from the layered
 * configuration (src/config).
 *
 * Readiness (/readyz, READY=1): the caller's caches are synced (markSynced) AND leadership is
 * known (we lead, or we know who does). A standby is therefore ready too: it serves metrics and
 * stays synced so it can take over at once.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EffectiveConfig } from '../config/load.js';
import {
  ElectorSetupError,
  createElector,
  parseElectionMode,
  type ElectionMode,
  type Elector,
  type ElectorSettings,
} from '../ha/elector.js';
import type { LockingDatabase } from '../ha/ovsdb-lock-election.js';
import { EventRecorder } from '../k8s/events.js';
import { defaultIdentity, type LeaderCallbacks } from '../k8s/leader-election.js';
import { createMetrics, type OvnK8sMetrics } from '../metrics/registry.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { startDaemon, type Daemon } from './daemon.js';
import { daemonPaths, type DaemonFlags } from './flags.js';
import { isLogLevel } from './log.js';

export interface ServiceOptions {
  /** program name: default file names, Event source, log name */
  name: string;
  config: EffectiveConfig;
  daemon: DaemonFlags;
  /** API access for Lease election and Events */
  kubeConfig?: KubeConfig;
  /** NB database handle, required when leader_election = ovsdb-lock */
  lockDatabase?: LockingDatabase;
  /** tests: do not exit the process on shutdown */
  exitProcess?: boolean;
}

export class Service {
  private currentElector: Elector | undefined;
  private readonly electorSettings: ElectorSettings;
  readonly events: EventRecorder | undefined;
  private synced = false;
  private resyncHandler: (() => Promise<unknown> | unknown) | undefined;
  private statusExtra: () => Record<string, unknown> = () => ({});

  private constructor(
    readonly daemon: Daemon,
    readonly metrics: OvnK8sMetrics,
    readonly metricsServer: MetricsServer | undefined,
    private readonly callbacks: LeaderCallbacks[],
    opts: ServiceOptions,
  ) {
    const cfg = opts.config;
    const identity = cfg.string('leader_election_identity') ?? defaultIdentity();
    this.electorSettings = {
      mode: parseElectionMode(cfg.string('leader_election')),
      identity,
      namespace: cfg.string('leader_election_namespace') ?? 'ovn-kubernetes',
      name: cfg.string('leader_election_lease_name') ?? opts.name,
      leaseDurationSeconds: cfg.int('lease_duration') ?? 15,
      renewDeadlineMs: (cfg.int('renew_deadline') ?? 10) * 1000,
      retryPeriodMs: (cfg.int('retry_period') ?? 2) * 1000,
      ...(opts.kubeConfig ? { kubeConfig: opts.kubeConfig } : {}),
      ...(opts.lockDatabase ? { db: opts.lockDatabase } : {}),
      logger: daemon.logger,
      callbacks: {
        onStartedLeading: (signal) => {
          this.metrics.setLeader(true);
          for (const c of this.callbacks) c.onStartedLeading?.(signal);
        },
        onStoppedLeading: () => {
          this.metrics.setLeader(false);
          for (const c of this.callbacks) c.onStoppedLeading?.();
        },
        onNewLeader: (id) => {
          this.daemon.logger.info({ leader: id }, 'leader observed');
          for (const c of this.callbacks) c.onNewLeader?.(id);
        },
      },
    };
    // with an OVSDB lock the elector needs the NB handle, which may be opened after start():
    // then it is made by setLockDatabase()
    if (this.electorSettings.mode !== 'ovsdb-lock' || opts.lockDatabase)
      this.currentElector = createElector(this.electorSettings);
    this.events = opts.kubeConfig
      ? new EventRecorder({
          kubeConfig: opts.kubeConfig,
          component: opts.name,
          onRecorded: (reason, type) => this.metrics.eventsRecorded.inc({ reason, type }),
          onError: (err) =>
            this.daemon.logger.warn({ err: err.message }, 'could not record a Kubernetes Event'),
        })
      : undefined;
    daemon.control?.register(
      'resync',
      async () => {
        if (!this.resyncHandler) throw new Error('resync is not available');
        return (await this.resyncHandler()) ?? 'resync started';
      },
      'resync: compare Kubernetes and the NB database again and repair differences',
    );
    daemon.setStatusProvider(() => ({
      synced: this.synced,
      leader: this.elector.isLeader,
      identity: this.elector.identity,
      leadershipKnown: this.elector.leadershipKnown,
      metrics: this.metricsServer?.url,
      ...this.statusExtra(),
    }));
    daemon.onShutdown(async () => {
      // stop writing first, then release leadership, then the endpoint
      await this.currentElector?.stop();
      await this.metricsServer?.close();
    });
  }

  /**
   * Starts the process side (detaching if asked: the parent waits until markSynced) and the
   * metrics endpoint. Leader election starts with startElection().
   */
  static async start(opts: ServiceOptions): Promise<Service> {
    const cfg = opts.config;
    const level = cfg.string('log_level') ?? 'info';
    const paths = daemonPaths(opts.name, opts.daemon, {
      rundir: cfg.string('rundir'),
      logdir: cfg.string('logdir'),
    });
    const daemon = await startDaemon({
      name: opts.name,
      ...paths,
      logLevel: isLogLevel(level) ? level : 'info',
      ...(opts.exitProcess === false ? { exitProcess: false } : {}),
    });
    const metrics = createMetrics();
    let server: MetricsServer | undefined;
    const callbacks: LeaderCallbacks[] = [];
    let service: Service | undefined;
    try {
      const address = cfg.string('metrics_address');
      if (address) {
        server = await startMetricsServer({
          address,
          registry: metrics.registry,
          readiness: () => service?.readiness() ?? { ready: false, reason: 'starting' },
        });
      }
      await daemon.listenControl();
      service = new Service(daemon, metrics, server, callbacks, opts);
    } catch (err) {
      await server?.close();
      daemon.fail(err);
    }
    return service!;
  }

  get logger(): Logger {
    return this.daemon.logger;
  }

  /** Adds leadership callbacks (call before startElection). */
  onLeadership(callbacks: LeaderCallbacks): void {
    this.callbacks.push(callbacks);
  }

  /** What `ovn-k8s-util ctl resync` runs. */
  onResync(handler: () => Promise<unknown> | unknown): void {
    this.resyncHandler = handler;
  }

  /** Extra fields for `ovn-k8s-util ctl status`. */
  setStatus(provider: () => Record<string, unknown>): void {
    this.statusExtra = provider;
  }

  /** The elector; before it exists (ovsdb-lock without a database yet) a placeholder that knows nothing. */
  get elector(): Elector {
    return (
      this.currentElector ?? {
        identity: this.electorSettings.identity,
        isLeader: false,
        leadershipKnown: false,
        start: () =>
          Promise.reject(new ElectorSetupError('leader_election=ovsdb-lock needs the NB database handle')),
        stop: () => Promise.resolve(),
      }
    );
  }

  /** The election mode in effect. */
  get electionMode(): ElectionMode {
    return this.electorSettings.mode;
  }

  /** The NB handle for leader_election=ovsdb-lock when it was not available at start(). */
  setLockDatabase(db: LockingDatabase): void {
    if (this.currentElector) return;
    this.electorSettings.db = db;
    this.currentElector = createElector(this.electorSettings);
  }

  async startElection(): Promise<void> {
    await this.elector.start();
  }

  readiness(): { ready: boolean; reason?: string } {
    const r = !this.synced
      ? { ready: false, reason: 'caches not synced' }
      : !this.elector.leadershipKnown
        ? { ready: false, reason: 'leadership not known yet' }
        : { ready: true };
    this.metrics.ready.set(r.ready ? 1 : 0);
    return r;
  }

  /**
   * Caches are synced: the detaching parent exits 0, systemd gets READY=1, /readyz turns 200 once
   * leadership is known too.
   */
  async markSynced(status = 'synced'): Promise<void> {
    this.synced = true;
    this.readiness();
    await this.daemon.ready(status);
  }

  /** Start-up error: printed (or reported to the detaching parent) and exit 1. */
  fail(err: unknown): never {
    return this.daemon.fail(err);
  }

  shutdown(reason: string): Promise<void> {
    return this.daemon.shutdown(reason);
  }
}
