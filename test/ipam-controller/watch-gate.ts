/**
 * An HTTP proxy in front of the simulator that can hold back the watch streams of chosen resources.
 *
 * Watches of different resources are independent streams: a real API server gives no ordering
 * between them, so a controller may see a pod event long before the StatefulSet event that
 * happened earlier. The proxy makes that lag deterministic: while a resource is held, the events
 * of its watch streams are buffered (nothing is lost), and `release` delivers them in order.
 * Lists, gets and writes always pass straight through.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WatchGate {
  /** The proxy's URL, to use as the API server. */
  url: string;
  /** Buffers the watch events of `plural` (e.g. "statefulsets") from now on. */
  hold(plural: string): void;
  /** Delivers what was buffered for `plural` and lets its events through again. */
  release(plural: string): void;
  stop(): Promise<void>;
}

/** The plural a watch request is for, or undefined when the request is not a watch. */
function watchedPlural(url: string): string | undefined {
  const u = new URL(url, 'http://proxy');
  if (u.searchParams.get('watch') !== 'true' && u.searchParams.get('watch') !== '1') return undefined;
  const parts = u.pathname.split('/').filter(Boolean);
  // .../<plural> (collection watch) is all the informers use
  return parts.at(-1);
}

interface Stream {
  plural: string;
  out: http.ServerResponse;
  /** Events that arrived while held. */
  pending: Buffer[];
  /** The upstream stream ended while held: end it once the pending events are out. */
  ended: boolean;
}

export async function startWatchGate(target: string): Promise<WatchGate> {
  const upstream = new URL(target);
  const held = new Set<string>();
  const streams = new Set<Stream>();
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const plural = watchedPlural(req.url ?? '/');
    const proxied = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (plural === undefined) {
          up.pipe(res);
          return;
        }
        const stream: Stream = { plural, out: res, pending: [], ended: false };
        streams.add(stream);
        up.on('data', (chunk: Buffer) => {
          if (held.has(plural)) stream.pending.push(chunk);
          else res.write(chunk);
        });
        up.on('end', () => {
          if (held.has(plural)) {
            stream.ended = true;
            return;
          }
          streams.delete(stream);
          res.end();
        });
        up.on('error', () => res.destroy());
        res.on('close', () => {
          streams.delete(stream);
          up.destroy();
        });
      },
    );
    proxied.on('error', () => res.destroy());
    req.pipe(proxied);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    hold(plural) {
      held.add(plural);
    },
    release(plural) {
      held.delete(plural);
      for (const s of [...streams]) {
        if (s.plural !== plural) continue;
        for (const chunk of s.pending) s.out.write(chunk);
        s.pending = [];
        if (s.ended) {
          streams.delete(s);
          s.out.end();
        }
      }
    },
    async stop() {
      for (const s of streams) s.out.destroy();
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
