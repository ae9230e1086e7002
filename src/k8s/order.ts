/**
 * Ordering of Kubernetes objects by age. client-node's typed APIs hand out `creationTimestamp` as a
 * Date while raw watch payloads carry the RFC 3339 string, so compare instants, never text
 * (`String(date)` starts with the weekday and sorts nonsense).
 */
interface WithCreation {
  metadata?: { creationTimestamp?: Date | string | null } | null;
}

/** The object's creation instant in ms; objects without one sort last. */
export function creationTimeMs(obj: WithCreation): number {
  const t = obj.metadata?.creationTimestamp;
  if (t === undefined || t === null || t === '') return Number.POSITIVE_INFINITY;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Oldest first; 0 for objects created in the same instant (callers add their own tie-break). */
export function compareCreation(a: WithCreation, b: WithCreation): number {
  const ta = creationTimeMs(a);
  const tb = creationTimeMs(b);
  return ta === tb ? 0 : ta < tb ? -1 : 1;
}
