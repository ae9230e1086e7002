/**
 * Named errors of the Kubernetes access layer. Callers branch on the class (instanceof), never on
 * the message text.
 */

/** Base class of every error raised by src/k8s (outside the simulator). */
export class K8sAccessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No source (flags, environment, service account, Open_vSwitch external_ids) named an API server. */
export class K8sConfigError extends K8sAccessError {}

/** The work queue was shut down; no more keys are accepted. */
export class WorkQueueShutDownError extends K8sAccessError {}

/** An informer was stopped before its first list completed, so `synced()` can never resolve. */
export class InformerStoppedError extends K8sAccessError {}

/** A request to the API server failed with an HTTP status (or a transport error when `status` is 0). */
export class K8sRequestError extends K8sAccessError {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(what: string, status: number, reason: string | undefined, options?: { cause?: unknown }) {
    super(`${what} failed${status ? ` with HTTP ${status}` : ''}${reason ? `: ${reason}` : ''}`, options);
    this.status = status;
    this.reason = reason;
  }
}

/** An annotation patch kept hitting 409 Conflict beyond the retry budget. */
export class AnnotationConflictError extends K8sAccessError {}

/**
 * The HTTP status of an error thrown by @kubernetes/client-node: `ApiException.code` for typed
 * API calls, `statusCode` for `Watch`, or a Kubernetes `Status` body's `code`. 0 when there is none
 * (connection refused, reset, parse failure).
 */
export function httpStatusOf(err: unknown): number {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
    for (const v of [e.code, e.statusCode, e.status]) {
      if (typeof v === 'number' && v >= 100 && v < 600) return v;
    }
  }
  return 0;
}

/** The Kubernetes Status `reason`/`message` of a client-node ApiException body, when it carries one. */
export function statusReasonOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  let body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return text.slice(0, 200);
    }
  }
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; reason?: unknown };
    if (typeof b.message === 'string') return b.message;
    if (typeof b.reason === 'string') return b.reason;
  }
  return err instanceof Error ? err.message : undefined;
}
