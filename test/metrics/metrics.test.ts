import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMetrics,
  parseListenAddress,
  startMetricsServer,
  MetricsAddressError,
  type MetricsServer,
} from '../../src/metrics/index.js';
import { WorkQueue } from '../../src/k8s/workqueue.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { startOvsdbServer, NB_SCHEMA } from '../../src/runtime/ovsdb-server.js';
import { waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

describe('metrics registry and endpoint', () => {
  const metrics = createMetrics();
  let server: MetricsServer;
  let ready = false;
  beforeAll(async () => {
    server = await startMetricsServer({
      address: '127.0.0.1:0',
      registry: metrics.registry,
      readiness: () => (ready ? { ready: true } : { ready: false, reason: 'caches not synced' }),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on loopback and serves every metric family with its values', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    metrics.observePodCreated(Date.now() - 1500);
    await metrics.timeReconcile('pods', async () => 1);
    await expect(
      metrics.timeReconcile('services', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    class OvsdbTimeoutError extends Error {
      override name = 'OvsdbTimeoutError';
    }
    await expect(
      metrics.timeTransaction('OVN_Northbound', async () => {
        throw new OvsdbTimeoutError('slow');
      }),
    ).rejects.toThrow('slow');
    await metrics.timeTransaction('OVN_Northbound', async () => []);
    metrics.setLeader(true);
    metrics.registerCacheSize('pods', () => 42);
    metrics.registerIpamPool('node-a', () => ({ allocated: 3, total: 253 }));
    const q = new WorkQueue(() => undefined, {
      name: 'pods',
      observer: metrics.workQueues.observerFor('pods'),
    });
    metrics.workQueues.track(q);
    q.add('ns/p1');

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/ovnk8s_pod_creation_latency_seconds_bucket\{le="2.5"\} 1/);
    expect(text).toMatch(/ovnk8s_pod_creation_latency_seconds_bucket\{le="1"\} 0/);
    expect(text).toContain('ovnk8s_reconcile_total{controller="pods"} 1');
    expect(text).toContain('ovnk8s_reconcile_errors_total{controller="services"} 1');
    expect(text).toContain(
      'ovnk8s_ovsdb_transaction_failures_total{database="OVN_Northbound",reason="OvsdbTimeoutError"} 1',
    );
    expect(text).toContain('ovnk8s_ovsdb_transaction_duration_seconds_count{database="OVN_Northbound"} 2');
    expect(text).toContain('ovnk8s_leader 1');
    expect(text).toContain('ovnk8s_leader_changes_total 1');
    expect(text).toContain('ovnk8s_cache_objects{cache="pods"} 42');
    expect(text).toContain('ovnk8s_ipam_pool_addresses{pool="node-a",state="free"} 250');
    expect(text).toMatch(/ovnk8s_workqueue_depth\{name="pods"\} \d/);
    expect(text).toContain('ovnk8s_process_resident_memory_bytes');
  });

  it('/readyz follows the readiness callback, /healthz answers, others 404', async () => {
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('caches not synced');
    ready = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:9410')).toEqual({ host: '127.0.0.1', port: 9410 });
    expect(parseListenAddress(':9410')).toEqual({ host: '0.0.0.0', port: 9410 });
    expect(parseListenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListenAddress('localhost')).toThrow(MetricsAddressError);
    expect(() => parseListenAddress('1.2.3.4:99999')).toThrow(MetricsAddressError);
  });
});

describe('OVSDB reconnect counting against a real server', () => {
  const tmp = tempDir('met-');
  afterAll(() => tmp.cleanup());

  it('counts a reconnect after the server restarts', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
    const db = new OvsdbDatabase({
      remotes: nb.unix,
      database: 'OVN_Northbound',
      tables: { NB_Global: { columns: ['name'] } },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    metrics.instrumentDatabase('OVN_Northbound', db);
    try {
      db.start();
      await db.ready();
      const value = async (name: string) =>
        (await metrics.registry.getSingleMetric(name)!.get()).values.find(
          (v) => v.labels.database === 'OVN_Northbound',
        )?.value ?? 0;
      expect(await value('ovnk8s_ovsdb_connected')).toBe(1);
      expect(await value('ovnk8s_ovsdb_reconnects_total')).toBe(0);
      await nb.stop();
      await waitFor('disconnected', async () => (await value('ovnk8s_ovsdb_connected')) === 0);
      nb = await startOvsdbServer({
        dir: tmp.dir,
        name: 'nb',
        schema: NB_SCHEMA,
        existingDb: true,
        port: nb.port,
      });
      await waitFor('reconnected', async () => (await value('ovnk8s_ovsdb_reconnects_total')) === 1);
      expect(await value('ovnk8s_ovsdb_connected')).toBe(1);
    } finally {
      await db.close();
      await nb.stop();
    }
  });
});
