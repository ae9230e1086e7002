/**
 * Jittered exponential backoff between connection attempts, with "free" attempts.
 *
 * OVS backs off 1 s → 8 s between attempts (lib/reconnect.h). After a forced reconnect caused by
 * a leadership loss, the backoff is reset so that every remote is tried once at zero delay
 * (OVS commit daf627f45): the new leader is usually one of the other remotes and should be found
 * at once, not after several doubling delays spent on followers that we reject.
 */
export interface BackoffOptions {
  /** delay of the first non-free attempt, ms (default 1000) */
  initialMs?: number;
  /** upper bound of the delay, ms (default 8000) */
  maxMs?: number;
  /** growth per attempt (default 2) */
  factor?: number;
  /** random source in [0, 1); injectable for tests */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;
  private attempt = 0;
  private free = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = Math.max(opts.maxMs ?? 8000, this.initialMs);
    this.factor = opts.factor ?? 2;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs >= 0) || !(this.factor >= 1))
      throw new RangeError('backoff: initialMs >= 0 and factor >= 1 required');
  }

  /** The ceiling of the next jittered delay (before jitter), for logs and tests. */
  get ceilingMs(): number {
    return Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
  }

  /**
   * Delay before the next attempt: 0 while free attempts remain, otherwise "equal jitter":
   * uniformly in [ceiling/2, ceiling], so clients that lost the same server spread out but
   * none retries sooner than half the nominal delay.
   */
  next(): number {
    if (this.free > 0) {
      this.free--;
      return 0;
    }
    const ceiling = this.ceilingMs;
    if (this.ceilingMs < this.maxMs) this.attempt++;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** After a successful connection: start again from the initial delay. */
  reset(): void {
    this.attempt = 0;
    this.free = 0;
  }

  /** Back to the initial delay, and the next `attempts` attempts are immediate (one per remote). */
  resetWithFreeAttempts(attempts: number): void {
    this.attempt = 0;
    this.free = Math.max(0, attempts);
  }
}
