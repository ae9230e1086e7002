/**
 * Runs controller work for a set of keys on the next turn of the event loop, so a burst of events
 * for one key is handled once and controller writes never re-enter the store while it is emitting.
 */
export class DeferredKeys {
  private readonly pending = new Set<string>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly handle: (key: string) => void) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.scheduled ??= setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    for (const k of keys) {
      try {
        this.handle(k);
      } catch {
        // A stand-in controller retries on the next event for the key, as a level-triggered one would.
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.pending.clear();
  }
}
