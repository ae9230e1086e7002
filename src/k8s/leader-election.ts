/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
 *  - a Lease held by someone else is taken over only after it has not changed for
 *    leaseDurationSeconds, measured on OUR clock from when we last saw it change (no clock-skew
 *    trust in the holder's renewTime);
 *  - every write is a replace carrying the resourceVersion we read (optimistic concurrency), so
 *    of two candidates racing for an expired Lease exactly one wins, the other gets 409;
 *  - the leader renews every retryPeriod and gives up leadership when it could not renew for
 *    renewDeadline (shorter than the lease duration, so it stops writing before anyone else may
 *    start);
 *  - stop() releases the Lease (empty holder) so a standby takes over at once.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { httpStatusOf } from './errors.js';
import { makeApiClient } from './api-client.js';

export interface LeaderCallbacks {
  /** We lead; `signal` aborts when we stop leading. */
  onStartedLeading?(signal: AbortSignal): void;
  onStoppedLeading?(): void;
  /** The observed holder changed (also our own identity; '' when released). */
  onNewLeader?(identity: string): void;
}

export interface ElectorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface LeaseElectorOptions {
  kubeConfig?: KubeConfig;
  /** the API to use instead of `makeApiClient(kubeConfig, CoordinationV1Api)` */
  api?: CoordinationV1Api;
  namespace: string;
  name: string;
  /** unique per candidate; default `hostname_pid` */
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  callbacks?: LeaderCallbacks;
  /** release the Lease on stop() (default true) */
  releaseOnStop?: boolean;
  logger?: ElectorLogger;
}

export class LeaderElectionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaderElectionConfigError';
  }
}

export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}`;
}

const NOOP_LOG: ElectorLogger = { info() {}, warn() {}, debug() {} };

export class LeaseElector {
  readonly identity: string;
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: ElectorLogger;
  private leading: AbortController | undefined;
  private observedHolder: string | undefined;
  private observedRecord = '';
  private observedAt = 0;
  private lastRenewAt = 0;
  private lastLease: V1Lease | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopCtl = new AbortController();
  private knownHolder = false;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.identity = opts.identity ?? defaultIdentity();
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationSeconds * 1000)
      throw new LeaderElectionConfigError('renewDeadline must be shorter than leaseDuration');
    if (this.retryPeriodMs >= this.renewDeadlineMs)
      throw new LeaderElectionConfigError('retryPeriod must be shorter than renewDeadline');
    if (opts.api) this.api = opts.api;
    else if (opts.kubeConfig) this.api = makeApiClient(opts.kubeConfig, CoordinationV1Api);
    else throw new LeaderElectionConfigError('LeaseElector needs kubeConfig or api');
    this.log = opts.logger ?? NOOP_LOG;
  }

  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** The holder we last saw ('' = released, undefined = not read yet). */
  get leader(): string | undefined {
    return this.observedHolder;
  }

  /** True once the first read of the Lease told us who leads (readiness: "leadership known"). */
  get leadershipKnown(): boolean {
    return this.knownHolder;
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Stops campaigning; releases the Lease when leading (unless releaseOnStop is false). */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.loop;
    if (this.leading && this.opts.releaseOnStop !== false) await this.release();
    this.stepDown();
  }

  /**
   * Stops all activity at once without releasing or calling back, as a crashed process would
   * (tests and chaos drills).
   */
  abandon(): void {
    this.stopCtl.abort();
    clearInterval(this.watchdog);
    this.leading = undefined;
  }

  private async run(): Promise<void> {
    const signal = this.stopCtl.signal;
    while (!signal.aborted) {
      const ok = await this.tryAcquireOrRenew();
      if (signal.aborted) return;
      const now = Date.now();
      if (ok) {
        this.lastRenewAt = now;
        if (!this.leading) {
          this.leading = new AbortController();
          this.startWatchdog();
          this.log.info({ lease: this.leaseName(), identity: this.identity }, 'became leader');
          this.opts.callbacks?.onStartedLeading?.(this.leading.signal);
        }
      } else if (this.leading && now - this.lastRenewAt >= this.renewDeadlineMs) {
        this.log.warn(
          { lease: this.leaseName() },
          'could not renew the lease within renewDeadline; stepping down',
        );
        this.stepDown();
      }
      await sleep(this.retryPeriodMs, signal);
    }
  }

  /**
   * A renewal that hangs (partitioned API server) must not keep us leading past renewDeadline:
   * this timer checks the deadline independently of the request in flight.
   */
  private startWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = setInterval(
      () => {
        if (this.leading && Date.now() - this.lastRenewAt >= this.renewDeadlineMs) {
          this.log.warn({ lease: this.leaseName() }, 'lease renewal overdue; stepping down');
          this.stepDown();
        }
      },
      Math.max(50, Math.min(this.retryPeriodMs, this.renewDeadlineMs / 4)),
    );
    this.watchdog.unref();
  }

  private stepDown(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    const was = this.leading;
    this.leading = undefined;
    if (was) {
      was.abort();
      this.opts.callbacks?.onStoppedLeading?.();
    }
  }

  private leaseName(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  private observe(lease: V1Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const record = `${holder}|${String(lease.spec?.renewTime?.valueOf() ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = Date.now();
    }
    this.knownHolder = true;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.opts.callbacks?.onNewLeader?.(holder);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name } = this.opts;
    const now = new V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (httpStatusOf(err) !== 404) {
        this.log.debug({ err: String(err) }, 'reading the lease failed');
        return false;
      }
      try {
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: this.identity,
              leaseDurationSeconds: this.leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        this.lastLease = created;
        this.observe(created);
        return true;
      } catch (createErr) {
        this.log.debug({ err: String(createErr) }, 'creating the lease failed (someone else did?)');
        return false;
      }
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.identity;
    const duration = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    if (!mine && holder !== '' && this.observedAt + duration > Date.now()) return false;
    // ours to renew, released, or expired: write with the resourceVersion we read
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        renewTime: now,
        acquireTime: mine ? spec.acquireTime : now,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await this.api.replaceNamespacedLease({ name, namespace, body });
      this.lastLease = updated;
      this.observe(updated);
      return true;
    } catch (err) {
      // 409: someone wrote in between (a renewal or another candidate); we lost this round
      this.log.debug({ err: String(err), status: httpStatusOf(err) }, 'updating the lease failed');
      return false;
    }
  }

  private async release(): Promise<void> {
    const lease = this.lastLease;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    try {
      const now = new V1MicroTime();
      const released = await this.api.replaceNamespacedLease({
        name: this.opts.name,
        namespace: this.opts.namespace,
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
        },
      });
      this.observe(released);
      this.log.info({ lease: this.leaseName() }, 'released the lease');
    } catch (err) {
      this.log.warn(
        { err: String(err) },
        'releasing the lease failed; a standby takes over after the lease duration',
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
