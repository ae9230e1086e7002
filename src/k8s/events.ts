/**
 * Kubernetes Events (core/v1 Event) on the objects we fail (or succeed) to realise, as client-go's
 * EventRecorder writes them: involvedObject, reason, message, type, source.component, and repeats
 * of the same (object, type, reason, message) folded into one Event whose `count` and
 * `lastTimestamp` grow (a merge patch) instead of a new Event per occurrence.
 */
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { httpStatusOf, statusReasonOf } from './errors.js';
import { makeApiClient } from './api-client.js';

export type EventType = 'Normal' | 'Warning';

/** Reasons the watcher uses (free-form in Kubernetes; fixed here so users can grep for them). */
export const EventReasons = {
  BadAnnotation: 'BadAnnotation',
  SubnetExhausted: 'SubnetExhausted',
  InvalidNetworkConfig: 'InvalidNetworkConfig',
  LogicalPortCreated: 'LogicalPortCreated',
  ReconcileFailed: 'ReconcileFailed',
  LeaderElected: 'LeaderElected',
} as const;

export interface EventRecorderOptions {
  kubeConfig?: KubeConfig;
  api?: CoreV1Api;
  /** source.component, e.g. "ovn-k8s-watcher" */
  component: string;
  /** source.host (default: this host name) */
  host?: string;
  /** remembered (object, reason, message) series; oldest forgotten first. Default 4096 */
  cacheSize?: number;
  /** called after each successful write (metrics) */
  onRecorded?(reason: string, type: EventType): void;
  /** errors are reported here, never thrown: an Event is best-effort */
  onError?(err: Error): void;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
}

/** Namespace an Event about `obj` goes into: the object's, or "default" for cluster-scoped ones (as client-go). */
function eventNamespace(obj: KubernetesObject): string {
  return obj.metadata?.namespace || 'default';
}

export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly host: string;
  private readonly cacheSize: number;
  private readonly series = new Map<string, Series>();
  private seq = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    if (opts.api) this.api = opts.api;
    else if (opts.kubeConfig) this.api = makeApiClient(opts.kubeConfig, CoreV1Api);
    else throw new Error('EventRecorder needs kubeConfig or api');
    this.host = opts.host ?? hostname();
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  /** Warning about an object we could not realise (bad annotation, exhausted subnet, ...). */
  warn(obj: KubernetesObject, reason: string, message: string): Promise<CoreV1Event | undefined> {
    return this.record(obj, 'Warning', reason, message);
  }

  normal(obj: KubernetesObject, reason: string, message: string): Promise<CoreV1Event | undefined> {
    return this.record(obj, 'Normal', reason, message);
  }

  /** Creates the Event or bumps the count of the identical earlier one. Never throws. */
  async record(
    obj: KubernetesObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<CoreV1Event | undefined> {
    const meta = obj.metadata ?? {};
    const key = [
      obj.apiVersion,
      obj.kind,
      meta.namespace ?? '',
      meta.name,
      meta.uid ?? '',
      type,
      reason,
      message,
    ].join('\u0000');
    const now = new Date();
    try {
      const known = this.series.get(key);
      if (known) {
        try {
          const patched = await this.api.patchNamespacedEvent(
            {
              name: known.name,
              namespace: known.namespace,
              body: { count: known.count + 1, lastTimestamp: now.toISOString() },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          known.count = patched.count ?? known.count + 1;
          this.touch(key, known);
          this.opts.onRecorded?.(reason, type);
          return patched;
        } catch (err) {
          // the Event expired (TTL) or was deleted: start a new series
          if (httpStatusOf(err) !== 404) throw err;
          this.series.delete(key);
        }
      }
      const namespace = eventNamespace(obj);
      const name = `${meta.name ?? 'unknown'}.${(now.getTime() * 1000 + (this.seq++ % 1000)).toString(16)}`;
      const body: CoreV1Event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.opts.component, host: this.host },
        reportingComponent: this.opts.component,
        reportingInstance: this.host,
      };
      const created = await this.api.createNamespacedEvent({ namespace, body });
      this.touch(key, { name, namespace, count: 1 });
      this.opts.onRecorded?.(reason, type);
      return created;
    } catch (err) {
      const e = new Error(
        `recording event ${reason} on ${obj.kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}: ${statusReasonOf(err) ?? String(err)}`,
        { cause: err },
      );
      this.opts.onError?.(e);
      return undefined;
    }
  }

  private touch(key: string, s: Series): void {
    this.series.delete(key);
    this.series.set(key, s);
    while (this.series.size > this.cacheSize) this.series.delete(this.series.keys().next().value!);
  }
}
