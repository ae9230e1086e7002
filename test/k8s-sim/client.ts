/** Plain-fetch helpers for the simulator tests (no client library: we test the wire protocol). */
import type { K8sSim } from '../../src/k8s/sim/index.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function call(
  sim: K8sSim,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(sim.url + path, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': contentType } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function pod(
  name: string,
  labels: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra },
  };
}

export interface WatchEvent {
  type: string;
  object: any;
}

/** An open watch collecting its events; close() aborts the request. */
export interface OpenWatch {
  status: number;
  events: WatchEvent[];
  ended: Promise<void>;
  waitFor(pred: (evs: WatchEvent[]) => boolean, what: string, timeoutMs?: number): Promise<WatchEvent[]>;
  close(): void;
}

export async function openWatch(
  sim: K8sSim,
  path: string,
  headers: Record<string, string> = {},
): Promise<OpenWatch> {
  const ac = new AbortController();
  const res = await fetch(sim.url + path, { headers, signal: ac.signal });
  const events: WatchEvent[] = [];
  const waiters: (() => void)[] = [];
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
        }
        for (const w of waiters.splice(0)) w();
      }
    } catch {
      // aborted
    }
    for (const w of waiters.splice(0)) w();
  })();
  let done = false;
  void ended.then(() => (done = true));
  return {
    status: res.status,
    events,
    ended,
    async waitFor(pred, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(events)) {
        if (done)
          throw new Error(
            `watch ended before ${what}; events: ${JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name]))}`,
          );
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name]))}`,
          );
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return events;
    },
    close: () => ac.abort(),
  };
}
