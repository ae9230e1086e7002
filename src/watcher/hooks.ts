/**
 * Optional observation points of the watcher, so production concerns (metrics, Kubernetes Events)
 * plug in from outside (src/watcher/service-wiring.ts) without the controllers knowing about them.
 * Every hook is optional; a watcher without hooks behaves exactly as before.
 */
import type { WorkQueueObserver } from '../k8s/workqueue.js';
import type { BatchTransport } from './batcher.js';

export interface WatcherHooks {
  /** Wraps each key's run; `controller` is the key's kind (cluster, node, pod, svc). */
  aroundKey?<T>(controller: string, run: () => Promise<T>): Promise<T>;
  /** A key's run failed (it will be retried or dropped by the queue). */
  keyFailed?(key: string, error: unknown, attempt: number): void;
  /** Extra observer of the watcher's work queue (queue metrics). */
  queueObserver?: WorkQueueObserver;
  /** Wraps the NB transport of the transaction batcher (transaction latency and failures). */
  transport?(inner: BatchTransport): BatchTransport;
}

/** Calls every observer of the list for each event. */
export function combineObservers(...list: (WorkQueueObserver | undefined)[]): WorkQueueObserver {
  const obs = list.filter((o): o is WorkQueueObserver => o !== undefined);
  return {
    onAdd: (k) => obs.forEach((o) => o.onAdd?.(k)),
    onStart: (k, w) => obs.forEach((o) => o.onStart?.(k, w)),
    onDone: (k, d, e) => obs.forEach((o) => o.onDone?.(k, d, e)),
    onRetry: (k, a, d, e) => obs.forEach((o) => o.onRetry?.(k, a, d, e)),
    onDrop: (k, a, e) => obs.forEach((o) => o.onDrop?.(k, a, e)),
  };
}
