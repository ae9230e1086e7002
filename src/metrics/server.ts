/**
 * The HTTP endpoint of a daemon: /metrics (Prometheus text), /healthz (liveness: the event loop
 * answers and the optional health check passes) and /readyz (readiness: caller's callback, e.g.
 * caches synced and leadership known). Loopback by default; a Deployment sets 0.0.0.0:PORT so
 * kubelet probes and Prometheus reach it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** why not ready (shown in the 503 body) */
  reason?: string;
}

export interface MetricsServerOptions {
  /** HOST:PORT, [V6]:PORT or :PORT (all addresses); port 0 = any free port. Default 127.0.0.1:9410 */
  address?: string;
  registry: Registry;
  readiness?: () => Readiness;
  health?: () => Readiness;
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export class MetricsAddressError extends Error {
  constructor(value: string) {
    super(`metrics address must be HOST:PORT, [IPv6]:PORT or :PORT, got "${value}"`);
    this.name = 'MetricsAddressError';
  }
}

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9410';

export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw new MetricsAddressError(value);
  const port = Number(m[3]);
  if (port > 65535) throw new MetricsAddressError(value);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(opts.address ?? DEFAULT_METRICS_ADDRESS);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => reply(200, text, opts.registry.contentType),
        (err: unknown) => reply(500, `collecting metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      const h = opts.health?.() ?? { ready: true };
      return h.ready ? reply(200, 'ok\n') : reply(503, `unhealthy: ${h.reason ?? 'unknown'}\n`);
    }
    if (path === '/readyz') {
      const r = opts.readiness?.() ?? { ready: true };
      return r.ready ? reply(200, 'ok\n') : reply(503, `not ready: ${r.reason ?? 'starting'}\n`);
    }
    reply(404, 'not found; try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${urlHost}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
