/** Fault injection for tests: failed requests, latency, dropped watches, forced 410s. */
export interface FaultControls {
  /** Ends every open watch stream (cleanly, as a server-side timeout does). */
  dropWatches(): void;
  /** Forgets all watch history, so every watch resuming from an rv issued so far answers 410 Expired. */
  forceGone(): void;
  /** Fails this share (0..1) of resource requests with 500 (default) or 429 (with Retry-After: 1). */
  setErrorRate(ratio: number, code?: 500 | 429): void;
  /** Delays every request by this many milliseconds. */
  setLatency(ms: number): void;
  /** Back to no faults. */
  reset(): void;
}

export class FaultState {
  errorRate = 0;
  errorCode: 500 | 429 = 500;
  latencyMs = 0;

  shouldFail(): boolean {
    return this.errorRate > 0 && Math.random() < this.errorRate;
  }

  reset(): void {
    this.errorRate = 0;
    this.errorCode = 500;
    this.latencyMs = 0;
  }
}
