/**
 * The burst and its observation, over the simulator's HTTP API only: a watch on the namespace's
 * pods opened first, then every pod POSTed with a bounded number of requests in flight; each pod's
 * time is from its POST being sent to the first watch event that shows all its allocations.
 */
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../../src/k8s/sim/index.js';
import { POD_NETWORKS_ANNOTATION } from '../../src/ovn/names.js';
import { IPAM_ALLOCATIONS_ANNOTATION } from '../../src/multinet/index.js';
import { ATTACHMENT_INTERFACES, NAMESPACE, OVN_NETWORK_KEY, type PodShape } from './scenario.js';

export class BurstTimeoutError extends Error {
  override name = 'BurstTimeoutError';
}

export class SimRequestError extends Error {
  override name = 'SimRequestError';
}

type Annotations = Record<string, string> | undefined;

function parseJson(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return undefined;
  }
}

/** A network's addresses in `k8s.ovn.org/pod-networks` (`default` or `<ns>/<nad>`), or undefined. */
export function ovnIps(a: Annotations, network: string): string[] | undefined {
  const nets = parseJson(a?.[POD_NETWORKS_ANNOTATION]) as
    Record<string, { ip_addresses?: string[] }> | undefined;
  const ips = nets?.[network]?.ip_addresses;
  return ips && ips.length > 0 ? ips : undefined;
}

export const primaryIps = (a: Annotations): string[] | undefined => ovnIps(a, 'default');

/** The central IPAM's addresses per interface (`net1`, `net2`), or undefined until all are there. */
export function attachmentIps(a: Annotations): Record<string, string[]> | undefined {
  const all = parseJson(a?.[IPAM_ALLOCATIONS_ANNOTATION]) as Record<string, { ips?: string[] }> | undefined;
  if (!all) return undefined;
  const out: Record<string, string[]> = {};
  for (const iface of ATTACHMENT_INTERFACES) {
    const ips = all[iface]?.ips;
    if (!ips || ips.length === 0) return undefined;
    out[iface] = ips;
  }
  return out;
}

export interface PodTimes {
  sentMs: number;
  primaryMs?: number;
  attachmentsMs?: number;
  ovnSecondaryMs?: number;
}

export interface BurstResult {
  /** From the first POST to the last pod complete, ms. */
  totalMs: number;
  /** From the first POST to the last POST answered, ms. */
  createMs: number;
  /** Per pod: latency to complete, ms (sent -> complete). */
  latenciesMs: number[];
  /** Per pod: latency to the secondary attachments only (when they were asked for), ms. */
  attachmentLatenciesMs: number[];
  /** When the last pod got its attachments, ms after the first POST (when asked for). */
  attachmentsTotalMs?: number;
  /** Primary-network latency per pod, ms. */
  primaryLatenciesMs: number[];
  /** When the last pod got its primary network, ms after the first POST. */
  primaryTotalMs: number;
  /** Per pod: latency to the secondary OVN network (when asked for), ms. */
  ovnSecondaryLatenciesMs: number[];
  /** When the last pod got its secondary OVN network (when asked for), ms after the first POST. */
  ovnSecondaryTotalMs?: number;
}

async function request(url: string, init: RequestInit): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok)
    throw new SimRequestError(`${init.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/** Every pod of the namespace as the API server has it now. */
export async function listPods(base: string): Promise<KubeObject[]> {
  const list = (await request(`${base}/api/v1/namespaces/${NAMESPACE}/pods`, { method: 'GET' })) as {
    items: KubeObject[];
  };
  return list.items;
}

/**
 * Creates `pods` as a burst and waits until each is complete: the primary network's annotation,
 * plus what `shape` asks for (both IPAM attachments, the secondary OVN network).
 */
export async function runBurst(
  base: string,
  pods: KubeObject[],
  opts: { shape: PodShape; concurrency: number; timeoutMs: number },
): Promise<BurstResult> {
  const podsPath = `${base}/api/v1/namespaces/${NAMESPACE}/pods`;
  const start = (await request(`${podsPath}?limit=1`, { method: 'GET' })) as {
    metadata: { resourceVersion: string };
  };
  const times = new Map<string, PodTimes>();
  let complete = 0;
  let lastDoneMs = 0;
  let lastAttachmentsMs = 0;
  let lastPrimaryMs = 0;
  let lastOvnMs = 0;
  const { shape } = opts;
  let resolveAll!: () => void;
  const allDone = new Promise<void>((r) => (resolveAll = r));
  const isComplete = (t: PodTimes) =>
    t.primaryMs !== undefined &&
    (!shape.attachments || t.attachmentsMs !== undefined) &&
    (!shape.ovnSecondary || t.ovnSecondaryMs !== undefined);

  const observe = (obj: KubeObject) => {
    const name = obj.metadata.name!;
    const t = times.get(name);
    if (!t || isComplete(t)) return;
    const now = performance.now();
    const a = obj.metadata.annotations;
    if (t.primaryMs === undefined && primaryIps(a)) {
      t.primaryMs = now;
      lastPrimaryMs = Math.max(lastPrimaryMs, now);
    }
    if (shape.attachments && t.attachmentsMs === undefined && attachmentIps(a)) {
      t.attachmentsMs = now;
      lastAttachmentsMs = Math.max(lastAttachmentsMs, now);
    }
    if (shape.ovnSecondary && t.ovnSecondaryMs === undefined && ovnIps(a, OVN_NETWORK_KEY)) {
      t.ovnSecondaryMs = now;
      lastOvnMs = Math.max(lastOvnMs, now);
    }
    if (isComplete(t)) {
      lastDoneMs = Math.max(lastDoneMs, now);
      if (++complete === pods.length) resolveAll();
    }
  };

  // The watch starts at the list's resourceVersion: no event of the burst can be missed.
  const abort = new AbortController();
  const watchRes = await fetch(
    `${podsPath}?watch=true&resourceVersion=${start.metadata.resourceVersion}&timeoutSeconds=86400`,
    { signal: abort.signal },
  );
  if (!watchRes.ok || !watchRes.body) throw new SimRequestError(`watch pods: ${watchRes.status}`);
  const watching = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of watchRes.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: KubeObject };
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') observe(ev.object);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  })();

  const t0 = performance.now();
  let next = 0;
  let lastCreated = t0;
  const worker = async () => {
    while (next < pods.length) {
      const pod = pods[next++]!;
      // Registered before the POST: the watch event may arrive before the answer.
      times.set(pod.metadata.name!, { sentMs: performance.now() });
      await request(podsPath, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(pod),
      });
      lastCreated = Math.max(lastCreated, performance.now());
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BurstTimeoutError(
            `only ${complete} of ${pods.length} pods complete after ${opts.timeoutMs / 1000} s`,
          ),
        ),
      opts.timeoutMs,
    );
  });
  // Settles only on an unexpected end of the watch (after abort() it resolves quietly).
  const watchEnded = watching.then(() => {
    if (!abort.signal.aborted) throw new SimRequestError('the pod watch ended before every pod was complete');
  });
  try {
    await Promise.race([
      Promise.all([...Array.from({ length: opts.concurrency }, worker), allDone]),
      timeout,
      watchEnded,
    ]);
  } finally {
    clearTimeout(timer);
    abort.abort();
    await watchEnded.catch(() => undefined);
  }
  const all = [...times.values()];
  return {
    totalMs: lastDoneMs - t0,
    createMs: lastCreated - t0,
    latenciesMs: all.map(
      (t) => Math.max(t.primaryMs!, t.attachmentsMs ?? 0, t.ovnSecondaryMs ?? 0) - t.sentMs,
    ),
    primaryLatenciesMs: all.map((t) => t.primaryMs! - t.sentMs),
    primaryTotalMs: lastPrimaryMs - t0,
    attachmentLatenciesMs: shape.attachments ? all.map((t) => t.attachmentsMs! - t.sentMs) : [],
    ...(shape.attachments ? { attachmentsTotalMs: lastAttachmentsMs - t0 } : {}),
    ovnSecondaryLatenciesMs: shape.ovnSecondary ? all.map((t) => t.ovnSecondaryMs! - t.sentMs) : [],
    ...(shape.ovnSecondary ? { ovnSecondaryTotalMs: lastOvnMs - t0 } : {}),
  };
}
