/**
 * One interface over the two leader-election mechanisms, so the watcher can pick one by
 * configuration (`leader_election = none | lease | ovsdb-lock`).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { LeaseElector, type ElectorLogger, type LeaderCallbacks } from '../k8s/leader-election.js';
import { OvsdbLockElector, type LockingDatabase } from './ovsdb-lock-election.js';

export interface Elector {
  readonly identity: string;
  readonly isLeader: boolean;
  /** readiness: leadership is known (we lead, or we know someone else does) */
  readonly leadershipKnown: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type ElectionMode = 'none' | 'lease' | 'ovsdb-lock';

export interface ElectorSettings {
  mode: ElectionMode;
  identity: string;
  /** Lease namespace and name, or the OVSDB lock name */
  namespace: string;
  name: string;
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  kubeConfig?: KubeConfig;
  db?: LockingDatabase;
  callbacks: LeaderCallbacks;
  logger?: ElectorLogger;
}

export class UnknownElectionModeError extends Error {
  constructor(mode: string) {
    super(`leader_election must be none, lease or ovsdb-lock, got "${mode}"`);
    this.name = 'UnknownElectionModeError';
  }
}

export class ElectorSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElectorSetupError';
  }
}

/** Always the leader: a single watcher without election. */
class SoleLeader implements Elector {
  isLeader = false;
  leadershipKnown = false;
  private ctl: AbortController | undefined;
  constructor(
    readonly identity: string,
    private readonly callbacks: LeaderCallbacks,
  ) {}
  async start(): Promise<void> {
    this.isLeader = true;
    this.leadershipKnown = true;
    this.ctl = new AbortController();
    this.callbacks.onNewLeader?.(this.identity);
    this.callbacks.onStartedLeading?.(this.ctl.signal);
  }
  async stop(): Promise<void> {
    if (!this.isLeader) return;
    this.isLeader = false;
    this.ctl?.abort();
    this.callbacks.onStoppedLeading?.();
  }
}

export function parseElectionMode(v: string | undefined): ElectionMode {
  const m = v ?? 'none';
  if (m === 'none' || m === 'lease' || m === 'ovsdb-lock') return m;
  throw new UnknownElectionModeError(m);
}

export function createElector(s: ElectorSettings): Elector {
  switch (s.mode) {
    case 'none':
      return new SoleLeader(s.identity, s.callbacks);
    case 'lease': {
      const e = new LeaseElector({
        ...(s.kubeConfig ? { kubeConfig: s.kubeConfig } : {}),
        namespace: s.namespace,
        name: s.name,
        identity: s.identity,
        leaseDurationSeconds: s.leaseDurationSeconds,
        renewDeadlineMs: s.renewDeadlineMs,
        retryPeriodMs: s.retryPeriodMs,
        callbacks: s.callbacks,
        ...(s.logger ? { logger: s.logger } : {}),
      });
      return {
        identity: e.identity,
        get isLeader() {
          return e.isLeader;
        },
        get leadershipKnown() {
          return e.leadershipKnown;
        },
        start: async () => e.start(),
        stop: () => e.stop(),
      };
    }
    case 'ovsdb-lock': {
      if (!s.db) throw new ElectorSetupError('leader_election=ovsdb-lock needs the NB database handle');
      const e = new OvsdbLockElector({
        db: s.db,
        lockName: s.name,
        identity: s.identity,
        callbacks: s.callbacks,
        ...(s.logger ? { logger: s.logger } : {}),
      });
      return {
        identity: e.identity,
        get isLeader() {
          return e.isLeader;
        },
        get leadershipKnown() {
          return e.leadershipKnown;
        },
        start: async () => {
          await e.start();
        },
        stop: () => e.stop(),
      };
    }
  }
}
