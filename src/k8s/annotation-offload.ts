/**
 * Annotation writes sent from a worker thread, so their HTTP and client-node work runs on another
 * core than the controllers'.
 *
 * Why: a cold start annotates every pod. Each write is a PATCH through @kubernetes/client-node
 * (request building, node-fetch, the socket, the answer's JSON and model decoding); on a
 * 100,000-pod cluster that was a quarter of the watcher's main thread, which also has to decode
 * the watch events and reconcile. The worker builds its own client-node clients from the same
 * kubeconfig (credentials, exec plugins and token files work as in the main thread) and uses the
 * same `setAnnotations` rules: no request when the values are already there, the uid as a
 * precondition, 404/409/429/5xx handled there.
 *
 * Failures come back as the same named errors (AnnotationConflictError, K8sRequestError). If the
 * worker dies, the writes it held fail with a K8sRequestError (status 0, retried by the caller's
 * queue like any transport error) and the next write starts a new worker.
 */
import { Worker } from 'node:worker_threads';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  annotateObject,
  annotationsSatisfied,
  type AnnotateResult,
  type AnnotationChanges,
} from './annotations.js';
import { AnnotationConflictError, K8sRequestError } from './errors.js';
import { resourceClients, type ResourceType } from './resources.js';

/** What the main thread keeps of an annotate result (the object stays in the worker). */
export interface OffloadedAnnotateResult {
  status: AnnotateResult<KubernetesObject>['status'];
  requests: number;
}

/** Writes annotations; `AnnotationWorker` or the in-thread `directAnnotator`. */
export interface Annotator {
  /** Like `annotateObject`: sets/removes `changes` on `obj`, guarded by its uid. */
  annotate<T extends KubernetesObject>(
    type: ResourceType<T>,
    obj: T,
    changes: AnnotationChanges,
  ): Promise<OffloadedAnnotateResult>;
  close(): Promise<void>;
}

// ---- the messages (also used by annotation-worker.ts) ----

export interface AnnotationWorkerData {
  /** `KubeConfig.exportConfig()` of the main thread's connection */
  kubeconfig: string;
}

export interface AnnotateRequest {
  id: number;
  type: ResourceType;
  name: string;
  namespace: string | undefined;
  uid: string | undefined;
  /** what the main thread knows of the object: enough for the uid check and a no-op test */
  current: KubernetesObject;
  changes: AnnotationChanges;
}

export type AnnotateResponse =
  | { id: number; ok: true; status: OffloadedAnnotateResult['status']; requests: number }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; status: number; reason: string | undefined };
    };

interface Pending {
  resolve(r: OffloadedAnnotateResult): void;
  reject(err: unknown): void;
}

function errorFrom(e: Extract<AnnotateResponse, { ok: false }>['error']): Error {
  if (e.name === AnnotationConflictError.name) return new AnnotationConflictError(e.message);
  const err = new K8sRequestError('annotate', e.status, e.reason);
  // keep the worker's full message (it names the object and the operation)
  err.message = e.message;
  return err;
}

/**
 * Starts the worker: the compiled JS next to this file, or (running from the TypeScript sources,
 * as under vitest) the .ts module through tsx's loader, registered inside the worker first.
 */
function spawnWorker(data: AnnotationWorkerData): Worker {
  // The worker holds no state beyond the writes in flight, only garbage: a small old generation
  // makes it collect early instead of growing the process's memory (its live set is the module
  // code and a few hundred pending requests, far below the limit).
  const options = { workerData: data, resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB } };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./annotation-worker.js', import.meta.url), options);
  const source = new URL('./annotation-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** Old-generation limit of the worker's heap, MiB. */
export const WORKER_OLD_SPACE_MB = 256;

export class AnnotationWorker implements Annotator {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** workers started (1 unless one died) */
  started = 0;

  constructor(private readonly kubeConfig: KubeConfig) {}

  annotate<T extends KubernetesObject>(
    type: ResourceType<T>,
    obj: T,
    changes: AnnotationChanges,
  ): Promise<OffloadedAnnotateResult> {
    const name = obj.metadata?.name;
    if (!name) return Promise.reject(new TypeError('object has no metadata.name'));
    // the common converged case needs no message at all
    if (annotationsSatisfied(obj, changes)) return Promise.resolve({ status: 'unchanged', requests: 0 });
    if (this.closed) return Promise.reject(new K8sRequestError('annotate (worker closed)', 0, undefined));
    const meta = obj.metadata!;
    const req: AnnotateRequest = {
      id: this.nextId++,
      type: { ...type },
      name,
      namespace: meta.namespace,
      uid: meta.uid,
      current: {
        metadata: {
          name,
          ...(meta.namespace ? { namespace: meta.namespace } : {}),
          ...(meta.uid ? { uid: meta.uid } : {}),
          ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
          annotations: { ...meta.annotations },
        },
      },
      changes,
    };
    return new Promise<OffloadedAnnotateResult>((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.ensureWorker().postMessage(req);
    });
  }

  /** Lets the writes in flight finish (at most `graceMs`), then stops the worker. */
  async close(graceMs = 5_000): Promise<void> {
    this.closed = true;
    const deadline = performance.now() + graceMs;
    while (this.pending.size > 0 && this.worker && performance.now() < deadline) {
      await new Promise<void>((r) => setTimeout(r, 10));
    }
    const w = this.worker;
    if (w) {
      await w.terminate(); // 'exit' fails whatever was still pending
      this.worker = undefined;
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnWorker({ kubeconfig: this.kubeConfig.exportConfig() });
    this.started++;
    // an idle worker must not keep the process alive; a write in flight keeps its promise pending
    w.unref();
    w.on('message', (res: AnnotateResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (res.ok) p.resolve({ status: res.status, requests: res.requests });
      else p.reject(errorFrom(res.error));
    });
    const fail = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      const err = new K8sRequestError(`annotate (${why})`, 0, undefined);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', (err) => fail(`annotation worker failed: ${err.message}`));
    w.on('exit', (code) => fail(`annotation worker exited with code ${code}`));
    this.worker = w;
    return w;
  }
}

/** The same writes on the calling thread (small clusters, tools, or when workers are unwanted). */
export function directAnnotator(kc: KubeConfig): Annotator {
  const clientFor = resourceClients(kc);
  return {
    async annotate(type, obj, changes) {
      const res = await annotateObject(clientFor(type as ResourceType), obj, changes);
      return { status: res.status, requests: res.requests };
    },
    async close() {},
  };
}
