/**
 * prom-client metrics for work queues, named after client-go's workqueue metrics
 * (workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds, ...), labelled by
 * queue name. Create one `WorkQueueMetrics` per registry and pass `observerFor(name)` to each queue.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueue, WorkQueueObserver } from './workqueue.js';

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60];

export class WorkQueueMetrics {
  private readonly queues = new Map<string, WorkQueue>();
  private readonly adds: Counter<'name'>;
  private readonly retries: Counter<'name'>;
  private readonly failures: Counter<'name'>;
  private readonly drops: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;

  constructor(registry: Registry, prefix = 'ovnk8s_') {
    const registers = [registry];
    const queues = this.queues;
    new Gauge({
      name: `${prefix}workqueue_depth`,
      help: 'Keys waiting in the work queue',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name }, q.depth);
      },
    });
    new Gauge({
      name: `${prefix}workqueue_in_flight`,
      help: 'Keys being handled now',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name }, q.inFlight);
      },
    });
    this.adds = new Counter({
      name: `${prefix}workqueue_adds_total`,
      help: 'Keys added (not coalesced)',
      labelNames: ['name'],
      registers,
    });
    this.retries = new Counter({
      name: `${prefix}workqueue_retries_total`,
      help: 'Failed keys scheduled again',
      labelNames: ['name'],
      registers,
    });
    this.failures = new Counter({
      name: `${prefix}workqueue_failures_total`,
      help: 'Handler runs that threw',
      labelNames: ['name'],
      registers,
    });
    this.drops = new Counter({
      name: `${prefix}workqueue_drops_total`,
      help: 'Keys dropped after too many failures',
      labelNames: ['name'],
      registers,
    });
    this.queueDuration = new Histogram({
      name: `${prefix}workqueue_queue_duration_seconds`,
      help: 'Time a key waited before its handler ran',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: `${prefix}workqueue_work_duration_seconds`,
      help: 'Time a handler run took',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS,
      registers,
    });
  }

  /** The observer to pass as `WorkQueueOptions.observer` for the queue called `name`. */
  observerFor(name: string): WorkQueueObserver {
    return {
      onAdd: () => this.adds.inc({ name }),
      onStart: (_k, waitMs) => this.queueDuration.observe({ name }, waitMs / 1000),
      onDone: (_k, durationMs, error) => {
        this.workDuration.observe({ name }, durationMs / 1000);
        if (error !== undefined) this.failures.inc({ name });
      },
      onRetry: () => this.retries.inc({ name }),
      onDrop: () => this.drops.inc({ name }),
    };
  }

  /** Registers the queue for the depth and in-flight gauges (read at scrape time). */
  track(queue: WorkQueue): void {
    this.queues.set(queue.name, queue);
  }
}
