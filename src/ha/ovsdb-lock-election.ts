/**
 * Leader election through an OVSDB lock (RFC 7047 section 4.1.8), for deployments without a
 * Kubernetes Lease (a watcher running as a systemd service on several masters, all talking to
 * the same NB cluster). The server grants the lock to one connection at a time and hands it to
 * the next waiter when the holder's connection dies, so takeover needs no lease timer: it happens
 * as soon as ovsdb-server notices the dead connection (at once for a killed process, within the
 * inactivity probe for a vanished host).
 *
 * Works on anything with OvsdbDatabase's lock API (the reconnecting handle re-requests the lock
 * after every reconnection). OVSDB does not say who holds a lock, so onNewLeader only reports us.
 */
import type { LeaderCallbacks, ElectorLogger } from '../k8s/leader-election.js';

/** The part of OvsdbDatabase this needs. */
export interface LockingDatabase {
  acquireLock(lockId: string): Promise<boolean>;
  releaseLock(lockId: string): Promise<void>;
  hasLock(lockId: string): boolean;
  on(event: 'lock-acquired', fn: (lockId: string) => void): unknown;
  on(
    event: 'lock-lost',
    fn: (lockId: string, reason: 'stolen' | 'disconnected' | 'released') => void,
  ): unknown;
  off(event: 'lock-acquired', fn: (lockId: string) => void): unknown;
  off(
    event: 'lock-lost',
    fn: (lockId: string, reason: 'stolen' | 'disconnected' | 'released') => void,
  ): unknown;
}

export interface OvsdbLockElectorOptions {
  db: LockingDatabase;
  /** lock name, e.g. "ovn-k8s-watcher" */
  lockName: string;
  identity?: string;
  callbacks?: LeaderCallbacks;
  logger?: ElectorLogger;
}

/**
 * OVSDB lock names must be <id>s ([A-Za-z_][A-Za-z0-9_]*, RFC 7047 section 3.1), so the
 * configured name (e.g. the Lease name "ovn-k8s-watcher") becomes "ovn_k8s_watcher".
 */
export function ovsdbLockId(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(id) ? id : `_${id}`;
}

export class OvsdbLockElector {
  readonly identity: string;
  /** the lock id sent to the server */
  readonly lockId: string;
  private leading: AbortController | undefined;
  private known = false;
  private started = false;
  private readonly onAcquired = (id: string) => {
    if (id === this.lockId) this.startLeading();
  };
  private readonly onLost = (id: string, reason: string) => {
    if (id !== this.lockId) return;
    this.opts.logger?.warn({ lock: id, reason }, 'lost the OVSDB lock');
    this.stopLeading();
  };

  constructor(private readonly opts: OvsdbLockElectorOptions) {
    this.identity = opts.identity ?? `pid-${process.pid}`;
    this.lockId = ovsdbLockId(opts.lockName);
  }

  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** True once the server answered our lock request (held by us, or by someone else). */
  get leadershipKnown(): boolean {
    return this.known;
  }

  /** Asks for the lock; resolves with whether we lead right away (if not, we wait in line). */
  async start(): Promise<boolean> {
    if (!this.started) {
      this.started = true;
      this.opts.db.on('lock-acquired', this.onAcquired);
      this.opts.db.on('lock-lost', this.onLost);
    }
    const locked = await this.opts.db.acquireLock(this.lockId);
    this.known = true;
    // the event may have fired already inside acquireLock; this covers a handle that does not emit
    if (locked || this.opts.db.hasLock(this.lockId)) this.startLeading();
    return this.isLeader;
  }

  /** Gives the lock up (the next waiter gets it at once) and stops listening. */
  async stop(): Promise<void> {
    await this.opts.db.releaseLock(this.lockId);
    this.stopLeading();
    this.opts.db.off('lock-acquired', this.onAcquired);
    this.opts.db.off('lock-lost', this.onLost);
    this.started = false;
  }

  private startLeading(): void {
    this.known = true;
    if (this.leading) return;
    this.leading = new AbortController();
    this.opts.logger?.info(
      { lock: this.lockId, identity: this.identity },
      'acquired the OVSDB lock; leading',
    );
    this.opts.callbacks?.onNewLeader?.(this.identity);
    this.opts.callbacks?.onStartedLeading?.(this.leading.signal);
  }

  private stopLeading(): void {
    const was = this.leading;
    this.leading = undefined;
    if (was) {
      was.abort();
      this.opts.callbacks?.onStoppedLeading?.();
    }
  }
}
