import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WorkQueue } from '../../src/k8s/workqueue.js';
import { backoffDelay } from '../../src/k8s/backoff.js';

/** A promise with its resolve/reject exposed, so a test decides when a handler run ends. */
function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let queued promise callbacks and zero-delay timers run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('coalesces adds of a waiting key into one run', async () => {
    const runs: string[] = [];
    const q = new WorkQueue(
      (k) => {
        runs.push(k);
      },
      { paused: true },
    );
    expect(q.add('a')).toBe(true);
    expect(q.add('a')).toBe(false);
    q.add('b');
    q.add('a');
    expect(q.depth).toBe(2);
    q.start();
    await q.whenIdle();
    expect(runs).toEqual(['a', 'b']);
    expect(q.stats().coalesced).toBe(2);
  });

  it('runs a key re-added during its run once more afterwards, never concurrently', async () => {
    const gates: Array<ReturnType<typeof deferred>> = [];
    let running = 0;
    let maxRunning = 0;
    const q = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const d = deferred();
      gates.push(d);
      await d.promise;
      running--;
    });
    q.add('k');
    await settle();
    expect(q.inFlight).toBe(1);
    q.add('k');
    q.add('k');
    await settle();
    expect(gates.length).toBe(1); // the second run waits for the first
    gates[0]!.resolve();
    await settle();
    expect(gates.length).toBe(2); // exactly one more run for both re-adds
    gates[1]!.resolve();
    await q.whenIdle();
    expect(gates.length).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('runs different keys in parallel up to the concurrency limit', async () => {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    let running = 0;
    let maxRunning = 0;
    const q = new WorkQueue(
      async (k) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const d = deferred();
        gates.set(k, d);
        await d.promise;
        running--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await settle();
    expect(q.inFlight).toBe(3);
    expect(q.depth).toBe(7);
    while (gates.size > 0) {
      const [k, d] = [...gates.entries()][0]!;
      gates.delete(k);
      d.resolve();
      await settle();
      expect(q.inFlight).toBeLessThanOrEqual(3);
    }
    await q.whenIdle();
    expect(maxRunning).toBe(3);
    expect(q.stats().processed).toBe(10);
  });

  it('retries a failing key with growing backoff and forgets it on success', async () => {
    let calls = 0;
    const delays: number[] = [];
    const q = new WorkQueue(
      () => {
        calls++;
        if (calls <= 3) throw new Error(`boom ${calls}`);
      },
      {
        retry: { initialMs: 5, maxMs: 15, factor: 2 },
        observer: { onRetry: (_k, _attempt, delayMs) => delays.push(delayMs) },
      },
    );
    q.add('x');
    await q.whenIdle({ includeDelayed: true });
    expect(calls).toBe(4);
    expect(delays).toEqual([5, 10, 15]); // capped at maxMs
    expect(q.numRequeues('x')).toBe(0);
  });

  it('drops a key after maxRetries failures', async () => {
    const dropped: Array<[string, number]> = [];
    const q = new WorkQueue(
      () => {
        throw new Error('always');
      },
      {
        retry: { initialMs: 1, maxMs: 2 },
        maxRetries: 2,
        observer: { onDrop: (k, n) => dropped.push([k, n]) },
      },
    );
    q.add('y');
    await q.whenIdle({ includeDelayed: true });
    expect(dropped).toEqual([['y', 3]]);
    expect(q.stats().failed).toBe(3);
  });

  it('delays addAfter and keeps the earlier of two delayed adds', async () => {
    const runs: string[] = [];
    const q = new WorkQueue((k) => {
      runs.push(k);
    });
    q.addAfter('late', 30);
    q.addAfter('late', 5);
    q.addAfter('late', 50);
    expect(q.delayedCount).toBe(1);
    expect(runs).toEqual([]);
    await q.whenIdle({ includeDelayed: true });
    expect(runs).toEqual(['late']);
  });

  it('shutdown without drain drops waiting keys; with drain runs them', async () => {
    const runs: string[] = [];
    const q1 = new WorkQueue((k) => void runs.push(k), { paused: true });
    q1.add('a');
    q1.addAfter('b', 10_000);
    await q1.shutdown();
    expect(q1.add('c')).toBe(false);
    expect(runs).toEqual([]);
    expect(q1.delayedCount).toBe(0);

    const q2 = new WorkQueue((k) => void runs.push(k), { paused: true });
    q2.add('a');
    q2.add('b');
    await q2.shutdown({ drain: true });
    expect(runs).toEqual(['a', 'b']);
  });

  it('reports wait and run latency per key through the observer', async () => {
    let t = 0;
    const seen: Array<[string, number, number]> = [];
    let wait = 0;
    const q = new WorkQueue(
      () => {
        t += 7;
      },
      {
        paused: true,
        now: () => t,
        observer: {
          onStart: (_k, w) => (wait = w),
          onDone: (k, d) => seen.push([k, wait, d]),
        },
      },
    );
    q.add('a');
    t += 3;
    q.start();
    await q.whenIdle();
    expect(seen).toEqual([['a', 3, 7]]);
  });

  it('never runs one key twice at once and loses no add (property)', async () => {
    type Cmd = { kind: 'add'; key: number } | { kind: 'finish'; pick: number; fail: boolean };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), fail: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(cmd, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        async (cmds, concurrency) => {
          const running = new Map<string, ReturnType<typeof deferred>>();
          const lastAddSeq = new Map<string, number>();
          const startSeqs = new Map<string, number[]>();
          let seq = 0;
          let violation = '';
          const q = new WorkQueue(
            async (k) => {
              if (running.has(k)) violation = `key ${k} ran twice at once`;
              if (running.size >= concurrency) violation = `more than ${concurrency} runs`;
              startSeqs.set(k, [...(startSeqs.get(k) ?? []), ++seq]);
              const d = deferred();
              running.set(k, d);
              try {
                await d.promise;
              } finally {
                running.delete(k);
              }
            },
            { concurrency, retry: { initialMs: 0, maxMs: 0 } },
          );
          for (const c of cmds) {
            if (c.kind === 'add') {
              lastAddSeq.set(`k${c.key}`, ++seq);
              q.add(`k${c.key}`);
            } else if (running.size > 0) {
              const entries = [...running.values()];
              const d = entries[c.pick % entries.length]!;
              if (c.fail) d.reject(new Error('fail'));
              else d.resolve();
            }
            await settle();
            if (violation) break;
          }
          // Complete everything that is still running (and whatever that starts) successfully.
          for (let i = 0; i < 500 && (running.size > 0 || q.depth > 0 || q.delayedCount > 0); i++) {
            for (const d of running.values()) d.resolve();
            await settle();
          }
          expect(violation).toBe('');
          expect(q.inFlight).toBe(0);
          // Every add is followed by a run that started after it: no wake-up is lost.
          for (const [k, addSeq] of lastAddSeq) {
            const starts = startSeqs.get(k) ?? [];
            expect(starts.some((s) => s > addSeq)).toBe(true);
          }
          await q.shutdown();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('backoffDelay', () => {
  it('grows by the factor, is capped, and jitters within the share', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(o, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const j = { ...o, jitter: 0.5 };
    expect(backoffDelay(j, 1, () => 0)).toBe(50);
    expect(backoffDelay(j, 1, () => 1)).toBe(150);
  });
});

describe('WorkQueueMetrics', () => {
  it('exports depth, adds, failures and durations per queue to a prom-client registry', async () => {
    const { Registry } = await import('prom-client');
    const { WorkQueueMetrics } = await import('../../src/k8s/metrics.js');
    const registry = new Registry();
    const metrics = new WorkQueueMetrics(registry);
    let fail = true;
    const q = new WorkQueue(
      () => {
        if (fail) {
          fail = false;
          throw new Error('once');
        }
      },
      {
        name: 'pods',
        paused: true,
        retry: { initialMs: 1, maxMs: 1 },
        observer: metrics.observerFor('pods'),
      },
    );
    metrics.track(q);
    q.add('a');
    q.add('b');
    q.add('a');
    expect(await registry.getSingleMetricAsString('ovnk8s_workqueue_depth')).toContain(
      'ovnk8s_workqueue_depth{name="pods"} 2',
    );
    q.start();
    await q.whenIdle({ includeDelayed: true });
    const text = await registry.metrics();
    expect(text).toContain('ovnk8s_workqueue_depth{name="pods"} 0');
    expect(text).toContain('ovnk8s_workqueue_adds_total{name="pods"} 3'); // a, b, and a's retry
    expect(text).toContain('ovnk8s_workqueue_failures_total{name="pods"} 1');
    expect(text).toContain('ovnk8s_workqueue_retries_total{name="pods"} 1');
    expect(text).toContain('ovnk8s_workqueue_work_duration_seconds_count{name="pods"} 3');
  });
});
