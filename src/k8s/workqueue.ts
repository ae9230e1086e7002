/**
 * A keyed work queue with the semantics of client-go's rate-limited workqueue:
 *
 * - `add(key)` coalesces: a key that is already waiting is not queued twice.
 * - A key is never handled twice at the same time: a key re-added while its handler runs is
 *   marked dirty and queued again once the current run finishes.
 * - Different keys run in parallel, up to `concurrency`.
 * - A handler that throws is retried after a capped, jittered exponential backoff per key; a
 *   success forgets the key's failure count.
 * - `addAfter` delays an add; `shutdown` stops it (optionally draining what is queued).
 *
 * p-queue was considered for the concurrency limit, but the hard part here is the keyed
 * dirty/processing bookkeeping, which p-queue cannot express; with that in place the limit is one
 * counter, so the queue has no dependency.
 */
import { backoffDelay, type BackoffOptions } from './backoff.js';

export type WorkHandler = (key: string) => Promise<void> | void;

/** Hooks for metrics (prom-client gauges and histograms can be attached here) and logs. */
export interface WorkQueueObserver {
  /** A key entered the queue (not called when the add coalesced). */
  onAdd?(key: string): void;
  /** A handler run starts; `waitMs` is the time since the key was first added in this round. */
  onStart?(key: string, waitMs: number): void;
  /** A handler run ended; `error` is set when it threw. */
  onDone?(key: string, durationMs: number, error: unknown): void;
  /** A failed key is scheduled again after `delayMs` (attempt counts failures so far). */
  onRetry?(key: string, attempt: number, delayMs: number, error: unknown): void;
  /** A key failed more than `maxRetries` times and was dropped. */
  onDrop?(key: string, attempts: number, error: unknown): void;
}

export interface WorkQueueOptions {
  /** Name for logs and metrics. */
  name?: string;
  /** Most handler runs at one time (different keys). Default 4. */
  concurrency?: number;
  /** Backoff of failed keys. Default 100 ms doubling to 60 s, 10% jitter. */
  retry?: BackoffOptions;
  /** Failures after which a key is dropped (reported through `onDrop`). Default: never. */
  maxRetries?: number;
  /** Start without running handlers until `start()` (keys added meanwhile wait). */
  paused?: boolean;
  observer?: WorkQueueObserver;
  /** Clock for latency measurements; injectable for tests. */
  now?: () => number;
}

export interface WorkQueueStats {
  added: number;
  coalesced: number;
  processed: number;
  failed: number;
  retried: number;
  dropped: number;
}

const DEFAULT_RETRY: BackoffOptions = { initialMs: 100, maxMs: 60_000, factor: 2, jitter: 0.1 };

interface DelayedAdd {
  at: number;
  timer: NodeJS.Timeout;
  /** True when scheduled by a failure (cancelled by a later success), false for `addAfter`. */
  retry: boolean;
}

export class WorkQueue {
  readonly name: string;
  private readonly handler: WorkHandler;
  private readonly concurrency: number;
  private readonly retry: BackoffOptions;
  private readonly maxRetries: number;
  private readonly observer: WorkQueueObserver;
  private readonly now: () => number;

  /** FIFO of waiting keys; `head` avoids O(n) shifts. Every key in it is also in `dirty`. */
  private queue: string[] = [];
  private head = 0;
  /** Keys that need a run, with the time they were first added in this round. */
  private readonly dirty = new Map<string, number>();
  /** Keys whose handler is running now. */
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, DelayedAdd>();
  private paused: boolean;
  private shuttingDown = false;
  private idleWaiters: Array<() => void> = [];
  private readonly counters: WorkQueueStats = {
    added: 0,
    coalesced: 0,
    processed: 0,
    failed: 0,
    retried: 0,
    dropped: 0,
  };

  constructor(handler: WorkHandler, opts: WorkQueueOptions = {}) {
    this.handler = handler;
    this.name = opts.name ?? 'workqueue';
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.maxRetries = opts.maxRetries ?? Infinity;
    this.observer = opts.observer ?? {};
    this.now = opts.now ?? (() => performance.now());
    this.paused = opts.paused ?? false;
  }

  /** Keys waiting to run (not counting running ones or delayed adds). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Handler runs in progress. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Delayed adds and retries not yet due. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Failures of `key` since its last success. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  stats(): WorkQueueStats {
    return { ...this.counters };
  }

  /** Queue `key` for a run. Returns false when it coalesced with a pending run or the queue is shut down. */
  add(key: string): boolean {
    if (this.shuttingDown) return false;
    if (this.dirty.has(key)) {
      this.counters.coalesced++;
      return false;
    }
    this.dirty.set(key, this.now());
    this.counters.added++;
    this.observer.onAdd?.(key);
    // A running key stays out of the FIFO; `finish` queues it again, so it never runs twice at once.
    if (!this.processing.has(key)) {
      this.queue.push(key);
      this.pump();
    }
    return true;
  }

  /** Queue `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    this.schedule(key, delayMs, false);
  }

  /** Forget the failure count of `key` (the next failure starts the backoff again). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Start running handlers (only needed with `paused: true`). */
  start(): void {
    this.paused = false;
    this.pump();
  }

  /**
   * Resolves when nothing is queued or running. With `includeDelayed`, also waits until no delayed
   * add or retry is pending (this never resolves while a key keeps failing).
   */
  whenIdle(opts: { includeDelayed?: boolean } = {}): Promise<void> {
    const check = (): boolean =>
      this.depth === 0 && this.processing.size === 0 && (!opts.includeDelayed || this.delayed.size === 0);
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (): void => {
        if (check()) resolve();
        else this.idleWaiters.push(waiter);
      };
      this.idleWaiters.push(waiter);
    });
  }

  /**
   * Stop accepting keys and cancel delayed adds. With `drain`, keys already queued still run;
   * otherwise they are dropped. Resolves when no handler is running any more.
   */
  async shutdown(opts: { drain?: boolean } = {}): Promise<void> {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    if (!opts.drain) {
      for (let i = this.head; i < this.queue.length; i++) this.dirty.delete(this.queue[i]!);
      this.queue = [];
      this.head = 0;
      // Keys re-added while running would be queued again by `finish`; drop them too.
      this.dirty.clear();
    } else {
      this.paused = false;
      this.pump();
    }
    await this.whenIdle();
  }

  private schedule(key: string, delayMs: number, retry: boolean): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) {
      // Keep the earlier one; it still counts as a retry if either was one.
      existing.retry = existing.retry || retry;
      return;
    }
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
      this.notifyIdle();
    }, delayMs);
    // A pending retry must not keep a process alive that is otherwise done.
    timer.unref?.();
    this.delayed.set(key, { at, timer, retry });
  }

  private pump(): void {
    if (this.paused) return;
    while (this.processing.size < this.concurrency && this.head < this.queue.length) {
      const key = this.queue[this.head++]!;
      this.compact();
      const addedAt = this.dirty.get(key) ?? this.now();
      this.dirty.delete(key);
      this.processing.add(key);
      void this.run(key, addedAt);
    }
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private async run(key: string, addedAt: number): Promise<void> {
    const started = this.now();
    this.safeObserve(() => this.observer.onStart?.(key, started - addedAt));
    let error: unknown = undefined;
    let failed = false;
    try {
      await this.handler(key);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.safeObserve(() => this.observer.onDone?.(key, this.now() - started, failed ? error : undefined));
    this.finish(key, failed, error);
  }

  private finish(key: string, failed: boolean, error: unknown): void {
    this.processing.delete(key);
    this.counters.processed++;
    // Re-added while running: queue it now that the previous run is over. This must come before
    // the retry below, whose add() then coalesces with it instead of queueing the key twice.
    if (this.dirty.has(key)) this.queue.push(key);
    if (failed) {
      this.counters.failed++;
      const attempts = (this.failures.get(key) ?? 0) + 1;
      if (attempts > this.maxRetries) {
        this.failures.delete(key);
        this.counters.dropped++;
        this.safeObserve(() => this.observer.onDrop?.(key, attempts, error));
      } else if (!this.shuttingDown) {
        this.failures.set(key, attempts);
        const delay = backoffDelay(this.retry, attempts);
        this.counters.retried++;
        this.safeObserve(() => this.observer.onRetry?.(key, attempts, delay, error));
        this.schedule(key, delay, true);
      }
    } else {
      this.failures.delete(key);
      const pending = this.delayed.get(key);
      if (pending?.retry) {
        clearTimeout(pending.timer);
        this.delayed.delete(key);
      }
    }
    this.pump();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private safeObserve(fn: () => void): void {
    try {
      fn();
    } catch {
      // A broken metrics hook must not break the queue.
    }
  }
}
