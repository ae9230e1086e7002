/** Capped exponential backoff with jitter, shared by the work queue (per key) and the informers. */

export interface BackoffOptions {
  /** Delay after the first failure, ms. */
  initialMs: number;
  /** Upper bound of the delay before jitter, ms. */
  maxMs: number;
  /** Growth per consecutive failure (2 doubles). */
  factor?: number;
  /**
   * Share of the delay that is randomised: 0.2 gives a delay in [0.8d, 1.2d]. Jitter spreads the
   * retries of many clients (or keys) that failed together, so they do not hit the server in step.
   */
  jitter?: number;
}

/** The delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(
  opts: BackoffOptions,
  failures: number,
  random: () => number = Math.random,
): number {
  const factor = opts.factor ?? 2;
  const exp = Math.max(0, failures - 1);
  // Bound the exponent so factor ** exp never overflows to Infinity before the cap is applied.
  const raw = opts.initialMs * factor ** Math.min(exp, 64);
  const capped = Math.min(opts.maxMs, raw);
  const jitter = opts.jitter ?? 0;
  if (jitter <= 0) return capped;
  const spread = capped * jitter;
  return Math.max(0, capped - spread + random() * 2 * spread);
}

/** Promise that resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
