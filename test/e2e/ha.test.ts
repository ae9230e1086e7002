/**
 * High availability with the real watcher: two `ovn-k8s-watcher` processes elect through a
 * Kubernetes Lease (in-process simulator) or an OVSDB lock, over real NB + SB + ovn-northd. Exactly one writes; the
 * leader is killed by pid (SIGKILL); the standby takes over within the lease time and resumes from
 * the NB state: every pod created before and after the kill gets its port and annotation, no IP is
 * handed out twice, no NB row is duplicated, and a fresh single watcher finds nothing to change.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { MANAGED_TABLES } from '../../src/ovn/reconcile/index.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { isAlive, killPid, stopPid, waitFor } from '../../src/runtime/process.js';
import { SAMPLE_CLUSTER_SUBNET, createSampleCluster, samplePod } from '../../src/sandbox/sample-cluster.js';
import { podNetworkFromAnnotation } from '../../src/watcher/convert.js';
import { masterInit } from '../../src/watcher/master-init.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureBuilt, spawnWatcher, statusOf, type WatcherProcess } from './watcher-process.js';

const tmp = tempDir('wha-');
let central: OvnCentral;
let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let db: OvsdbDatabase;
let dir: string;
const procs: WatcherProcess[] = [];

const LEASE_SECONDS = 4;

function startOne(identity: string, mode: string): WatcherProcess {
  const w = spawnWatcher(dir, identity, [
    '--nb-address',
    central.nb.unix,
    '--k8s-api-server',
    sim.url,
    '--cluster-subnets',
    SAMPLE_CLUSTER_SUBNET,
    '--leader-election',
    mode,
    '--leader-election-namespace',
    'kube-system',
    '--leader-election-identity',
    identity,
    '--lease-duration',
    String(LEASE_SECONDS),
    '--renew-deadline',
    '3',
    '--retry-period',
    '1',
  ]);
  procs.push(w);
  return w;
}

const podIps = async (): Promise<Map<string, string[]>> => {
  const pods = (await api.listPodForAllNamespaces()).items;
  return new Map(
    pods.flatMap((p: V1Pod) => {
      const net = podNetworkFromAnnotation(p);
      return net ? [[`${p.metadata!.namespace}/${p.metadata!.name}`, net.ips] as [string, string[]]] : [];
    }),
  );
};

/** names that occur more than once in a table (rows a second writer would have duplicated) */
const duplicateNames = (table: string): string[] => {
  const seen = new Map<string, number>();
  for (const row of db.cache.table(table).rows()) {
    const name = String(row.name ?? '');
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([name]) => name);
};

afterAll(() => tmp.cleanup());

describe.each(['lease', 'ovsdb-lock'])('two watchers electing with %s', (mode) => {
  let leader: WatcherProcess;
  let standby: WatcherProcess;
  beforeAll(async () => {
    await ensureBuilt();
    dir = `${tmp.dir}/${mode === 'lease' ? 'l' : 'o'}`;
    mkdirSync(dir, { recursive: true });
    central = await startOvnCentral({ dir: `${dir}/c` });
    sim = await startK8sSim({
      controllers: { endpointSlices: true, kubelet: true },
      bookmarkIntervalMs: 200,
    });
    kc = resolveConnection({
      flags: { server: sim.url },
      env: {},
      serviceAccountDir: '/nonexistent',
    }).kubeConfig;
    api = kc.makeApiClient(CoreV1Api);
    db = await OvsdbDatabase.open({
      remotes: central.nb.unix,
      database: 'OVN_Northbound',
      tables: Object.fromEntries(MANAGED_TABLES.map((t) => [t, {}])),
    });
    await masterInit(db, { clusterIpSubnet: SAMPLE_CLUSTER_SUBNET, nodeName: 'master' });
    await createSampleCluster(kc);
  }, 150_000);

  afterAll(async () => {
    for (const p of procs.splice(0)) if (await isAlive(p.pid)) await stopPid(p.pid);
    await db?.close();
    await sim?.stop();
    await central?.stop();
  });

  it('elect exactly one writer; the standby is synced and ready but writes nothing', async () => {
    const a = startOne('wa', mode);
    const b = startOne('wb', mode);
    await waitFor(
      'both ready and one leading',
      async () => {
        const [sa, sb] = await Promise.all([statusOf(a), statusOf(b)]);
        return Boolean(
          sa?.ready && sb?.ready && sa.leadershipKnown && sb.leadershipKnown && sa.leader !== sb.leader,
        );
      },
      40_000,
      200,
    );
    const sa = (await a.status())!;
    [leader, standby] = sa.leader ? [a, b] : [b, a];
    await waitFor('sample pods annotated by the leader', async () => (await podIps()).size === 5, 30_000);
    const ls = await leader.status();
    const ss = await standby.status();
    expect(ls.writing).toBe(true);
    await waitFor(
      'the leader runs the central IPAM controller',
      async () => (await leader.status()).ipamController === 'running',
    );
    expect(ls.transactions.transactions).toBeGreaterThan(0);
    expect(ss.writing).toBe(false);
    expect(ss.ipamController).toBe('off');
    expect(ss.leader).toBe(false);
    expect(ss.synced).toBe(true);
    expect(ss.transactions.transactions).toBe(0);
    expect((ss.caches as { pods: number }).pods).toBe(5);
  }, 90_000);

  it('the standby takes over after the leader is killed and loses and duplicates nothing', async () => {
    for (const i of [1, 2, 3])
      await api.createNamespacedPod({
        namespace: 'web',
        body: samplePod('web', `before-${i}`, `worker${(i % 2) + 1}`, 'web'),
      });
    await waitFor('pods before the kill annotated', async () => (await podIps()).size === 8, 30_000);

    await killPid(leader.pid); // SIGKILL: no goodbye, the lease simply stops being renewed
    expect(await leader.exited).toBe(null);
    for (const i of [1, 2, 3])
      await api.createNamespacedPod({
        namespace: 'db',
        body: samplePod('db', `after-${i}`, `worker${(i % 2) + 1}`, 'db'),
      });
    // a pod deleted while nobody leads: its port must go too
    await api.deleteNamespacedPod({ namespace: 'web', name: 'before-3', gracePeriodSeconds: 0 });

    await waitFor(
      'the standby leads',
      async () => (await statusOf(standby))?.leader === true,
      (LEASE_SECONDS + 15) * 1000,
      200,
    );
    await waitFor(
      'every pod annotated and before-3 gone from NB',
      async () =>
        (await podIps()).size === 10 &&
        ![...db.cache.table('Logical_Switch_Port').rows()].some((r) => r.name === 'web_before-3'),
      30_000,
    );
    const s = await standby.status();
    expect(s.writing).toBe(true);
    await waitFor(
      'the new leader runs the central IPAM controller',
      async () => (await standby.status()).ipamController === 'running',
    );

    const ips = await podIps();
    const all = [...ips.values()].flat();
    expect(new Set(all).size).toBe(all.length);
    const podPorts = [...db.cache.table('Logical_Switch_Port').rows()];
    for (const [key, podIpList] of ips) {
      const name = key.replace('/', '_');
      const rows = podPorts.filter((r) => r.name === name);
      expect(rows, name).toHaveLength(1);
      const addresses = (rows[0]!.addresses as string[])[0]!;
      expect(addresses, name).toContain(podIpList[0]!.split('/')[0]!);
    }
    for (const t of [
      'Logical_Switch',
      'Logical_Router',
      'Logical_Switch_Port',
      'Logical_Router_Port',
      'Load_Balancer',
    ])
      expect(duplicateNames(t), t).toEqual([]);
  }, 90_000);

  it('NB equals what a single watcher produces: a fresh watcher finds nothing to write', async () => {
    await standby.child.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
    const single = await Watcher.start({ db, kubeConfig: kc, clusterSubnets: [SAMPLE_CLUSTER_SUBNET] });
    try {
      await single.whenIdle();
      expect(single.stats().batcher.operations).toBe(0);
    } finally {
      await single.stop();
    }
  }, 60_000);
});
