/**
 * Observability of the real `ovn-k8s-watcher`: its /metrics scraped over HTTP (pod port creation
 * latency, reconciles per controller, OVSDB transactions, leadership, queue depth, cache sizes,
 * IPAM pool usage), /healthz and /readyz, and the Kubernetes Events it records on objects it
 * cannot realise (bad gateway annotation, a requested pod address outside the node subnet, an
 * exhausted node subnet). Real NB/SB/northd, the in-process simulator.
 */
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import {
  L3_GATEWAY_CONFIG_ANNOTATION,
  NODE_SUBNETS_ANNOTATION,
  POD_NETWORKS_ANNOTATION,
} from '../../src/ovn/names.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { isAlive, run, stopPid, waitFor } from '../../src/runtime/process.js';
import { createSampleCluster, samplePod, sampleNode } from '../../src/sandbox/sample-cluster.js';
import { podNetworkFromAnnotation } from '../../src/watcher/convert.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureBuilt, spawnWatcher, statusOf, type WatcherProcess } from './watcher-process.js';

const tmp = tempDir('wmt-');
// /29 node subnets: four pod addresses per node, so a node is easy to fill
const CLUSTER = '10.128.0.0/14/29';
let central: OvnCentral;
let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let w: WatcherProcess;
let metricsUrl: string;

const scrape = async (): Promise<string> => (await fetch(`${metricsUrl}/metrics`)).text();

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const eventsFor = async (namespace: string, name: string, reason: string): Promise<CoreV1Event[]> =>
  (await api.listNamespacedEvent({ namespace })).items.filter(
    (e) => e.involvedObject?.name === name && e.reason === reason,
  );

beforeAll(async () => {
  await ensureBuilt();
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  sim = await startK8sSim({ controllers: { endpointSlices: true, kubelet: true }, bookmarkIntervalMs: 200 });
  kc = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  api = kc.makeApiClient(CoreV1Api);
  await createSampleCluster(kc);
  w = spawnWatcher(tmp.dir, 'm', [
    '--nb-address',
    central.nb.unix,
    '--k8s-api-server',
    sim.url,
    '--cluster-subnets',
    CLUSTER,
  ]);
  const s = await waitFor(
    'ready',
    async () => ((await statusOf(w))?.ready ? statusOf(w) : undefined),
    40_000,
  );
  metricsUrl = s!.metrics!;
  await waitFor('sample pods annotated', async () =>
    (await api.listPodForAllNamespaces()).items.every((p) => podNetworkFromAnnotation(p) !== undefined),
  );
}, 120_000);

afterAll(async () => {
  if (w && (await isAlive(w.pid))) await stopPid(w.pid);
  await sim?.stop();
  await central?.stop();
  tmp.cleanup();
});

describe('metrics of the live watcher', () => {
  it('serves /healthz and /readyz (ready: synced and leadership known)', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(200);
  });

  it('exports pod creation latency, reconciles, transactions, leadership, queues, caches and IPAM pools', async () => {
    await api.createNamespacedPod({ namespace: 'web', body: samplePod('web', 'late', 'worker2', 'web') });
    await waitFor('late annotated', async () =>
      podNetworkFromAnnotation(await api.readNamespacedPod({ namespace: 'web', name: 'late' })),
    );
    const text = await waitFor('latency observed', async () => {
      const t = await scrape();
      return (sample(t, 'ovnk8s_pod_creation_latency_seconds_count') ?? 0) >= 1 ? t : undefined;
    });
    for (const controller of ['cluster', 'node', 'pod', 'svc'])
      expect(sample(text, 'ovnk8s_reconcile_total', { controller }), controller).toBeGreaterThan(0);
    expect(sample(text, 'ovnk8s_reconcile_errors_total', { controller: 'pod' }) ?? 0).toBeGreaterThanOrEqual(
      0,
    );
    expect(
      sample(text, 'ovnk8s_ovsdb_transaction_duration_seconds_count', { database: 'OVN_Northbound' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'ovnk8s_ovsdb_connected', { database: 'OVN_Northbound' })).toBe(1);
    expect(sample(text, 'ovnk8s_leader')).toBe(1);
    expect(sample(text, 'ovnk8s_leader_changes_total')).toBe(1);
    expect(sample(text, 'ovnk8s_ready')).toBe(1);
    expect(sample(text, 'ovnk8s_workqueue_depth', { name: 'ovn-k8s-watcher' })).toBe(0);
    expect(sample(text, 'ovnk8s_workqueue_adds_total', { name: 'ovn-k8s-watcher' })).toBeGreaterThan(0);
    expect(sample(text, 'ovnk8s_cache_objects', { cache: 'k8s/pods' })).toBe(6);
    expect(sample(text, 'ovnk8s_cache_objects', { cache: 'k8s/nodes' })).toBe(3);
    expect(sample(text, 'ovnk8s_cache_objects', { cache: 'nb/Logical_Switch_Port' })).toBeGreaterThan(6);
    // worker2: web-2, db-2 and late hold addresses of its /29
    expect(sample(text, 'ovnk8s_ipam_pool_addresses', { pool: 'node/worker2', state: 'allocated' })).toBe(3);
    expect(
      sample(text, 'ovnk8s_ipam_pool_addresses', { pool: 'cluster/host-subnets', state: 'allocated' }),
    ).toBe(3);
  }, 30_000);
});

describe('OVSDB reconnects', () => {
  it('are counted when the NB server drops every connection, and the watcher resyncs', async () => {
    const before = (await w.status()).resyncs as number;
    await run('ovs-appctl', ['-t', central.nb.ctl, 'ovsdb-server/reconnect']);
    const text = await waitFor('a reconnect counted', async () => {
      const t = await scrape();
      return (sample(t, 'ovnk8s_ovsdb_reconnects_total', { database: 'OVN_Northbound' }) ?? 0) >= 1 &&
        sample(t, 'ovnk8s_ovsdb_connected', { database: 'OVN_Northbound' }) === 1
        ? t
        : undefined;
    });
    expect(
      sample(text, 'ovnk8s_ovsdb_reconnects_total', { database: 'OVN_Northbound' }),
    ).toBeGreaterThanOrEqual(1);
    await waitFor(
      'a resync after the reconnect',
      async () => ((await w.status()).resyncs as number) > before,
    );
  }, 30_000);
});

describe('Kubernetes Events on what the watcher cannot realise', () => {
  it('a malformed k8s.ovn.org/l3-gateway-config on a node: BadAnnotation with the reason', async () => {
    await api.createNode({
      body: sampleNode('broken-gw', '172.18.0.40', {
        [L3_GATEWAY_CONFIG_ANNOTATION]: JSON.stringify({
          default: { mode: 'shared', 'ip-addresses': ['172.18.0.40/16'], 'mac-address': 'not-a-mac' },
        }),
      }),
    });
    const [ev] = await waitFor('event', async () => {
      const e = await eventsFor('default', 'broken-gw', 'BadAnnotation');
      return e.length > 0 ? e : undefined;
    });
    expect(ev!.type).toBe('Warning');
    expect(ev!.involvedObject.kind).toBe('Node');
    expect(ev!.message).toContain('mac-address');
    expect(ev!.source?.component).toBe('ovn-k8s-watcher');
  });

  it('a pod requesting an address outside its node subnet: BadAnnotation, and it gets a node address', async () => {
    const worker1 = await api.readNode({ name: 'worker1' });
    const subnet = JSON.parse(worker1.metadata!.annotations![NODE_SUBNETS_ANNOTATION]!) as Record<
      string,
      string | string[]
    >;
    expect(subnet.default).toBeDefined();
    const pod = samplePod('db', 'wants-ip', 'worker1', 'db');
    pod.metadata!.annotations = {
      [POD_NETWORKS_ANNOTATION]: JSON.stringify({
        default: {
          ip_addresses: ['192.0.2.50/24'],
          mac_address: '0a:58:c0:00:02:32',
          ip_address: '192.0.2.50/24',
        },
      }),
    };
    // worker1 has three pods on a /29: one address is left
    await api.createNamespacedPod({ namespace: 'db', body: pod });
    const [ev] = await waitFor('event', async () => {
      const e = await eventsFor('db', 'wants-ip', 'BadAnnotation');
      return e.length > 0 ? e : undefined;
    });
    expect(ev!.message).toContain('192.0.2.50/24 is outside the subnets of node worker1');
    const net = await waitFor('annotated with a node address', async () => {
      const n = podNetworkFromAnnotation(await api.readNamespacedPod({ namespace: 'db', name: 'wants-ip' }));
      return n && !n.ips[0]!.startsWith('192.0.2.') ? n : undefined;
    });
    expect(net.ips[0]).toMatch(/^10\.12[89]\./);
  });

  it('a pod on a full node subnet: SubnetExhausted on the pod', async () => {
    await api.createNamespacedPod({
      namespace: 'db',
      body: samplePod('db', 'one-too-many', 'worker1', 'db'),
    });
    const [ev] = await waitFor(
      'event',
      async () => {
        const e = await eventsFor('db', 'one-too-many', 'SubnetExhausted');
        return e.length > 0 ? e : undefined;
      },
      20_000,
    );
    expect(ev!.type).toBe('Warning');
    expect(ev!.message).toContain('no free IP address');
    const text = await scrape();
    expect(sample(text, 'ovnk8s_reconcile_errors_total', { controller: 'pod' })).toBeGreaterThan(0);
    expect(
      sample(text, 'ovnk8s_kubernetes_events_total', { reason: 'SubnetExhausted', type: 'Warning' }),
    ).toBeGreaterThan(0);
  }, 30_000);
});
