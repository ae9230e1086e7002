/**
 * Annotation writes with JSON merge patch (`application/merge-patch+json`):
 *
 * - no request at all when the object (an informer's cached copy, else a GET) already carries the
 *   desired values: a converged controller writes nothing;
 * - `null` removes a key (merge-patch semantics);
 * - an object that vanished (404) or was replaced by another with the same name (uid differs) is a
 *   result, not an exception, so a controller can drop the key instead of retrying forever;
 * - 409 Conflict (a stale resourceVersion guard, or a uid precondition) re-reads the object and
 *   tries again a bounded number of times; 429 and 5xx are retried with a short backoff too.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { AnnotationConflictError, httpStatusOf, K8sRequestError, statusReasonOf } from './errors.js';
import type { ResourceClient } from './resources.js';

/** Keys to set (string) or remove (null). */
export type AnnotationChanges = Readonly<Record<string, string | null>>;

export interface AnnotateOptions<T> {
  /** The object as last seen (an informer's cache); without it the object is read with a GET. */
  current?: T;
  /**
   * Only write to the object with this uid: the patch carries `metadata.uid` as a precondition, and
   * an object re-created under the same name is reported as `replaced` and left alone.
   */
  uid?: string;
  /**
   * Carry the observed `metadata.resourceVersion` in the patch, so a concurrent change makes the
   * server answer 409; the object is then re-read and the patch retried. Default false: a merge
   * patch of annotations touches only its own keys and needs no lock.
   */
  guardResourceVersion?: boolean;
  /** Patch attempts before giving up (conflicts and retryable errors together). Default 5. */
  maxAttempts?: number;
  /** Backoff between retries of 429/5xx answers. Default 50 ms doubling to 1 s. */
  retryBackoff?: BackoffOptions;
  /**
   * Do not read the server's copy of the object from the patch's answer (default false): a
   * `patched` result then carries the object as last seen with the changes applied locally.
   * For writers that only need to know the write took effect.
   */
  skipAnswer?: boolean;
}

export type AnnotateResult<T> =
  /** Already as desired; no request was made beyond an optional GET. */
  | { status: 'unchanged'; object: T; requests: number }
  | { status: 'patched'; object: T; requests: number }
  /** The object does not exist (404 on GET or PATCH). */
  | { status: 'not-found'; requests: number }
  /** An object with this name exists but its uid is not the expected one. */
  | { status: 'replaced'; object: T; requests: number };

const DEFAULT_RETRY: BackoffOptions = { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.2 };

/** The value of annotation `key`, or undefined. */
export function getAnnotation(obj: KubernetesObject | undefined, key: string): string | undefined {
  return obj?.metadata?.annotations?.[key];
}

/** Parses a JSON-valued annotation; undefined when absent or not valid JSON. */
export function parseJsonAnnotation(obj: KubernetesObject | undefined, key: string): unknown {
  const v = getAnnotation(obj, key);
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return undefined;
  }
}

/** True when every change is already in effect on `obj`. */
export function annotationsSatisfied(obj: KubernetesObject, changes: AnnotationChanges): boolean {
  const current = obj.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(changes)) {
    if (v === null ? k in current : current[k] !== v) return false;
  }
  return true;
}

/** Sets/removes annotations on `name` (in `namespace` for namespaced types). */
export async function setAnnotations<T extends KubernetesObject>(
  client: ResourceClient<T>,
  ref: { name: string; namespace?: string },
  changes: AnnotationChanges,
  opts: AnnotateOptions<T> = {},
): Promise<AnnotateResult<T>> {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
  const what = `annotate ${client.type.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
  let current = opts.current;
  let requests = 0;
  let attempts = 0;
  let conflicts = 0;
  for (;;) {
    if (!current) {
      requests++;
      try {
        current = await client.get(ref.name, ref.namespace);
      } catch (err) {
        const status = httpStatusOf(err);
        if (status === 404) return { status: 'not-found', requests };
        if (isRetryable(status) && attempts < maxAttempts) {
          attempts++;
          await sleep(backoffDelay(opts.retryBackoff ?? DEFAULT_RETRY, attempts));
          continue;
        }
        throw new K8sRequestError(what, status, statusReasonOf(err), { cause: err });
      }
    }
    if (opts.uid && current.metadata?.uid !== opts.uid)
      return { status: 'replaced', object: current, requests };
    if (annotationsSatisfied(current, changes)) return { status: 'unchanged', object: current, requests };

    const metadata: Record<string, unknown> = { annotations: changes };
    if (opts.uid) metadata.uid = opts.uid;
    if (opts.guardResourceVersion && current.metadata?.resourceVersion) {
      metadata.resourceVersion = current.metadata.resourceVersion;
    }
    attempts++;
    requests++;
    try {
      if (opts.skipAnswer) {
        await client.patchWithoutAnswer(ref.name, ref.namespace, { metadata });
        return { status: 'patched', object: withChanges(current, changes), requests };
      }
      const object = await client.patch(ref.name, ref.namespace, { metadata });
      return { status: 'patched', object, requests };
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 404) return { status: 'not-found', requests };
      if (status === 409) {
        conflicts++;
        if (attempts >= maxAttempts) {
          throw new AnnotationConflictError(`${what}: still conflicting after ${conflicts} conflicts`, {
            cause: err,
          });
        }
        // Re-read: the object changed (or was replaced); the next round decides again.
        current = undefined;
        continue;
      }
      if (isRetryable(status) && attempts < maxAttempts) {
        await sleep(backoffDelay(opts.retryBackoff ?? DEFAULT_RETRY, attempts));
        continue;
      }
      throw new K8sRequestError(what, status, statusReasonOf(err), { cause: err });
    }
  }
}

/** `setAnnotations` for an object at hand (e.g. from an informer): its name, namespace and uid are used. */
export function annotateObject<T extends KubernetesObject>(
  client: ResourceClient<T>,
  obj: T,
  changes: AnnotationChanges,
  opts: Omit<AnnotateOptions<T>, 'current'> & { checkUid?: boolean } = {},
): Promise<AnnotateResult<T>> {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError('object has no metadata.name');
  const uid = opts.uid ?? (opts.checkUid === false ? undefined : obj.metadata?.uid);
  return setAnnotations(client, { name, namespace: obj.metadata?.namespace }, changes, {
    ...opts,
    uid,
    current: obj,
  });
}

/** `obj` with `changes` applied to a copy of its annotations (what a merge patch of them does). */
function withChanges<T extends KubernetesObject>(obj: T, changes: AnnotationChanges): T {
  const annotations: Record<string, string> = { ...obj.metadata?.annotations };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  }
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

function isRetryable(status: number): boolean {
  return status === 429 || status >= 500 || status === 0;
}
