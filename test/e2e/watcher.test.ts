/**
 * End to end: the Kubernetes simulator (in-process, with its EndpointSlice and kubelet stand-ins),
 * real NB + SB + ovn-northd, master-init, and the watcher. Proven with the NB contents, the
 * Kubernetes annotations and ovn-trace through the flows northd compiled.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { MANAGED_TABLES } from '../../src/ovn/reconcile/index.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { run, waitFor } from '../../src/runtime/process.js';
import {
  SAMPLE_CLUSTER_SUBNET,
  SAMPLE_GATEWAY,
  createSampleCluster,
  gatewayAnnotations,
  samplePod,
  sampleNode,
} from '../../src/sandbox/sample-cluster.js';
import { runTraceChecks, tracedBackends } from '../../src/sandbox/trace-checks.js';
import { podNetworkFromAnnotation } from '../../src/watcher/convert.js';
import { masterInit } from '../../src/watcher/master-init.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('wke-');
let central: OvnCentral;
let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let watcher: Watcher | undefined;
let db: OvsdbDatabase;

const simType = (group: string, plural: string) => sim.api.registry.get(group, plural)!;

const startWatcher = () =>
  Watcher.start({ nbRemotes: central.nb.unix, kubeConfig: kc, clusterSubnets: [SAMPLE_CLUSTER_SUBNET] });

const nbctl = (...a: string[]) => central.nbctl(...a);
const lbNamed = async (name: string) =>
  (await nbctl('--bare', '--columns=vips', 'find', 'Load_Balancer', `name="${name}"`)).trim();
const lspExists = async (name: string) =>
  (await nbctl('--bare', '--columns=name', 'find', 'Logical_Switch_Port', `name="${name}"`)).trim() === name;
const podIps = async (): Promise<Map<string, string>> => {
  const pods = (await api.listPodForAllNamespaces()).items;
  return new Map(
    pods.flatMap((p: V1Pod) => {
      const net = podNetworkFromAnnotation(p);
      return net ? [[`${p.metadata!.namespace}/${p.metadata!.name}`, net.ips[0]!] as [string, string]] : [];
    }),
  );
};
/** every row of the managed tables with its _version: any NB write changes this */
const nbVersions = async (): Promise<string> => {
  const selects = MANAGED_TABLES.map((table) => ({
    op: 'select',
    table,
    where: [],
    columns: ['_uuid', '_version'],
  }));
  const out = await run('ovsdb-client', [
    'transact',
    central.nb.unix,
    JSON.stringify(['OVN_Northbound', ...selects]),
  ]);
  const results = JSON.parse(out) as { rows: { _uuid: unknown; _version: unknown }[] }[];
  return results
    .map(
      (r, i) =>
        `${MANAGED_TABLES[i]}:${r.rows
          .map((row) => JSON.stringify([row._uuid, row._version]))
          .sort()
          .join(',')}`,
    )
    .join('\n');
};

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  sim = await startK8sSim({ controllers: { endpointSlices: true, kubelet: true }, bookmarkIntervalMs: 200 });
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
  // an operator's own rows: the watcher must never touch them
  await nbctl('ls-add', 'ops-switch', '--', 'lsp-add', 'ops-switch', 'ops-port');
  await createSampleCluster(kc);
}, 60_000);

afterAll(async () => {
  await watcher?.stop();
  await db?.close();
  await sim?.stop();
  await central?.stop();
  tmp.cleanup();
});

describe('master-init', () => {
  it('creates the cluster router, join switch, LB groups and the master switch, and a second run writes nothing', async () => {
    const first = await masterInit(db, { clusterIpSubnet: SAMPLE_CLUSTER_SUBNET, nodeName: 'Master' });
    expect(first.node).toBe('master');
    expect(first.subnets).toEqual(['10.128.0.0/23']);
    expect(first.operations).toBeGreaterThan(0);
    const before = await nbVersions();
    const second = await masterInit(db, { clusterIpSubnet: SAMPLE_CLUSTER_SUBNET, nodeName: 'master' });
    expect(second.operations).toBe(0);
    expect(await nbVersions()).toBe(before);
    expect(
      await nbctl('get', 'Logical_Router', 'ovn_cluster_router', 'external_ids:k8s-cluster-router'),
    ).toContain('yes');
    expect(await nbctl('--bare', '--columns=name', 'list', 'Load_Balancer_Group')).toContain(
      'clusterLBGroup',
    );
    expect(await nbctl('get', 'Logical_Switch', 'master', 'other_config:subnet')).toContain('10.128.0.0/23');
  });
});

describe('the watcher', () => {
  it('converges: node subnets, pod ports and addresses, service load balancers', async () => {
    watcher = await startWatcher();
    await waitFor('every pod annotated', async () => (await podIps()).size === 5, 30_000);
    await watcher.whenIdle();
    const nodes = (await api.listNode()).items;
    const subnets = nodes.map(
      (n) => JSON.parse(n.metadata!.annotations!['k8s.ovn.org/node-subnets']!).default,
    );
    // master keeps master-init's subnet; the others get distinct ones
    expect(subnets).toContain('10.128.0.0/23');
    expect(new Set(subnets).size).toBe(3);
    const ips = [...(await podIps()).values()];
    expect(new Set(ips).size).toBe(ips.length);
    for (const ip of ips) expect(ip).not.toMatch(/\.(0|1|2)\/23$/);
    const pod = await api.readNamespacedPod({ namespace: 'web', name: 'web-1' });
    const legacy = JSON.parse(pod.metadata!.annotations!.ovn!);
    expect(legacy.ip_address).toMatch(/^10\.12[89]\.\d+\.\d+\/23$/);
    expect(legacy.gateway_ip).toMatch(/\.1$/);
    expect(legacy.mac_address).toMatch(/^0a:58:/);
    expect(await nbctl('get', 'Logical_Switch_Port', 'web_web-1', 'addresses')).toContain(
      legacy.ip_address.split('/')[0],
    );
    // the gateway router, bound to the chassis, and the NodePort VIP on it
    expect(await nbctl('get', 'Logical_Router', 'GR_master', 'options:chassis')).toContain('chassis-master');
    await waitFor('web endpoints in the NodePort LB', async () =>
      (await lbNamed('Service_web/web_TCP_node_router')).includes('172.18.0.10:'),
    );
    await waitFor('db backends in the cluster LB', async () =>
      (await lbNamed('Service_db/db_TCP_cluster')).includes(':8080'),
    );
    expect(await lbNamed('Service_db/db_UDP_cluster')).toContain(':5353');
    // the operator's rows are untouched
    expect(await lspExists('ops-port')).toBe(true);
  }, 60_000);

  it('is proven by ovn-trace: pod to pod on a node and across nodes, ClusterIP, NodePort', async () => {
    const checks = await runTraceChecks({
      nb: central.nb.unix,
      sb: central.sb.unix,
      kubeConfig: kc,
      clusterIpService: { namespace: 'db', name: 'db' },
      nodePortService: { namespace: 'web', name: 'web' },
      gateway: SAMPLE_GATEWAY,
    });
    expect(checks.map((c) => c.name)).toHaveLength(5);
    for (const c of checks) expect(c, `${c.name}: ${c.detail}`).toMatchObject({ passed: true });
  }, 60_000);

  it('follows a service port change and an endpoints change', async () => {
    const current = await api.readNamespacedService({ namespace: 'db', name: 'db' });
    current.spec!.ports![0]!.port = 8081;
    await api.replaceNamespacedService({ namespace: 'db', name: 'db', body: current });
    const svc = await api.readNamespacedService({ namespace: 'db', name: 'db' });
    const vip = svc.spec!.clusterIP!;
    await waitFor('the new port in the LB', async () => {
      const vips = await lbNamed('Service_db/db_TCP_cluster');
      return vips.includes(`${vip}:8081`) && !vips.includes(`${vip}:80"`) && !vips.includes(`${vip}:80=`);
    });
    // one backend goes away: its pod is deleted
    const ips = await podIps();
    const gone = ips.get('db/db-2')!.split('/')[0]!;
    await api.deleteNamespacedPod({ namespace: 'db', name: 'db-2', gracePeriodSeconds: 0 });
    await waitFor('the backend out of the LB', async () => {
      const vips = await lbNamed('Service_db/db_TCP_cluster');
      return !vips.includes(gone) && vips.includes(':8080');
    });
    await waitFor('the pod port removed', async () => !(await lspExists('db_db-2')));
    // the freed address is quarantined: a new pod on the same node does not get it
    await api.createNamespacedPod({ namespace: 'db', body: samplePod('db', 'db-3', 'worker2', 'db') });
    await waitFor('db-3 annotated', async () => (await podIps()).has('db/db-3'));
    expect((await podIps()).get('db/db-3')!.split('/')[0]).not.toBe(gone);
  }, 60_000);

  it('rejects traffic to a service without endpoints, and removes a deleted service', async () => {
    await api.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: { name: 'idle', namespace: 'web' },
        spec: { selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 8080 as never }] },
      },
    });
    await waitFor('the idle LB', async () => (await lbNamed('Service_web/idle_TCP_cluster')) !== '');
    expect(await nbctl('get', 'Load_Balancer', 'Service_web/idle_TCP_cluster', 'options:reject')).toContain(
      'true',
    );
    const svc = await api.readNamespacedService({ namespace: 'web', name: 'idle' });
    await central.syncSb();
    const pod = await api.readNamespacedPod({ namespace: 'web', name: 'client' });
    const net = podNetworkFromAnnotation(pod)!;
    const ip = net.ips[0]!.split('/')[0]!;
    const out = await central.trace(
      '--ct=new',
      '--minimal',
      'worker1',
      `inport=="web_client" && eth.src==${net.mac} && eth.dst==0a:58:${net.gateways[0]!.split('.')
        .map((o) => Number(o).toString(16).padStart(2, '0'))
        .join(
          ':',
        )} && ip4.src==${ip} && ip4.dst==${svc.spec!.clusterIP} && ip.ttl==64 && tcp && tcp.src==33333 && tcp.dst==80`,
    );
    expect(out).toContain('tcp_reset');
    expect(tracedBackends(out)).toEqual([]);
    await api.deleteNamespacedService({ namespace: 'web', name: 'idle' });
    await waitFor('the idle LB removed', async () => (await lbNamed('Service_web/idle_TCP_cluster')) === '');
  }, 60_000);

  it('gives racing pods distinct addresses', async () => {
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        api.createNamespacedPod({ namespace: 'web', body: samplePod('web', `race-${i}`, 'worker1', 'race') }),
      ),
    );
    await waitFor(
      'racing pods annotated',
      async () => {
        const ips = await podIps();
        return [...ips.keys()].filter((k) => k.startsWith('web/race-')).length === 16;
      },
      30_000,
    );
    const ips = [...(await podIps()).values()];
    expect(new Set(ips).size).toBe(ips.length);
  }, 60_000);

  it('removes a deleted node and frees its subnet', async () => {
    await api.createNode({ body: sampleNode('worker3', '172.18.0.13') });
    await waitFor(
      'worker3 switch',
      async () =>
        (await nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', 'name=worker3')).trim() ===
        'worker3',
    );
    const node = await api.readNode({ name: 'worker3' });
    const subnet = JSON.parse(node.metadata!.annotations!['k8s.ovn.org/node-subnets']!).default as string;
    await api.deleteNode({ name: 'worker3' });
    await waitFor('worker3 rows removed', async () => {
      const sw = (await nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', 'name=worker3')).trim();
      const lrp = (
        await nbctl('--bare', '--columns=name', 'find', 'Logical_Router_Port', 'name=rtos-worker3')
      ).trim();
      return sw === '' && lrp === '';
    });
    expect(await lspExists('k8s-worker3')).toBe(false);
    // freed: quarantined at first, but once the pool is exhausted it comes back; here: not the next one
    await api.createNode({ body: sampleNode('worker4', '172.18.0.14') });
    await waitFor(
      'worker4 switch',
      async () =>
        (await nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', 'name=worker4')).trim() ===
        'worker4',
    );
    const n4 = await api.readNode({ name: 'worker4' });
    expect(JSON.parse(n4.metadata!.annotations!['k8s.ovn.org/node-subnets']!).default).not.toBe(subnet);
  }, 60_000);

  it('gives every gateway node its gateway router, route and NodePort VIP', async () => {
    const w2 = {
      node: 'worker2',
      chassisId: 'chassis-w2',
      ip: '172.18.0.12/24',
      mac: '02:42:ac:12:00:0c',
      nextHop: '172.18.0.1',
      interfaceId: 'breth0_worker2',
    };
    sim.api.patch(simType('', 'nodes'), undefined, 'worker2', 'merge', {
      metadata: { annotations: gatewayAnnotations(w2) },
    });
    await waitFor('GR_worker2', async () =>
      (await nbctl('--bare', '--columns=options', 'find', 'Logical_Router', 'name=GR_worker2')).includes(
        'chassis-w2',
      ),
    );
    await waitFor('NodePort VIPs on both gateways', async () => {
      const vips = await lbNamed('Service_web/web_TCP_node_router');
      return vips.includes('172.18.0.10:') && vips.includes('172.18.0.12:');
    });
    const routes = await nbctl('lr-route-list', 'ovn_cluster_router');
    const node = await api.readNode({ name: 'worker2' });
    const subnet = JSON.parse(node.metadata!.annotations!['k8s.ovn.org/node-subnets']!).default as string;
    const join = JSON.parse(node.metadata!.annotations!['k8s.ovn.org/node-gateway-router-lrp-ifaddrs']!)
      .default.ipv4 as string;
    expect(join).toBe('100.64.0.3/16');
    expect(routes).toMatch(new RegExp(`${subnet.replace(/[./]/g, '\\$&')}\\s+100\\.64\\.0\\.3 src-ip`));
    expect(routes).toMatch(/10\.128\.0\.0\/23\s+100\.64\.0\.2 src-ip/);
    const checks = await runTraceChecks({
      nb: central.nb.unix,
      sb: central.sb.unix,
      kubeConfig: kc,
      clusterIpService: { namespace: 'db', name: 'db' },
      nodePortService: { namespace: 'web', name: 'web' },
      gateway: w2,
    });
    const np = checks.find((c) => c.name.startsWith('external traffic'))!;
    expect(np, np.detail).toMatchObject({ passed: true });
  }, 60_000);

  it('handles externalIPs, session affinity and SCTP; skips host-network pods', async () => {
    await api.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: { name: 'aff', namespace: 'web' },
        spec: {
          selector: { app: 'web' },
          externalIPs: ['192.0.2.50'],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } },
          ports: [
            { name: 'http', port: 80, targetPort: 'http' as never },
            { name: 'sig', port: 9000, targetPort: 9000 as never, protocol: 'SCTP' },
          ],
        },
      },
    });
    await waitFor('the externalIP VIP with backends', async () =>
      /192\.0\.2\.50:80"?="?10\./.test(await lbNamed('Service_web/aff_TCP_cluster')),
    );
    expect(
      await nbctl('get', 'Load_Balancer', 'Service_web/aff_TCP_cluster', 'options:affinity_timeout'),
    ).toContain('300');
    expect(await nbctl('get', 'Load_Balancer', 'Service_web/aff_SCTP_cluster', 'protocol')).toContain('sctp');
    const host = samplePod('web', 'hostnet', 'worker1', 'none');
    host.spec!.hostNetwork = true;
    await api.createNamespacedPod({ namespace: 'web', body: host });
    await watcher!.whenIdle();
    expect(await lspExists('web_hostnet')).toBe(false);
    expect((await podIps()).has('web/hostnet')).toBe(false);
  }, 60_000);

  it('repairs rows changed behind its back after an NB reconnection and after a watch relist', async () => {
    await watcher!.whenIdle();
    const resyncs = watcher!.stats().resyncs;
    // an owned port removed by hand: nothing in Kubernetes changed, so only a full resync brings it back
    await nbctl('lsp-del', 'web_web-1');
    await run('ovs-appctl', ['-t', central.nb.ctl, 'ovsdb-server/reconnect']);
    await waitFor('web_web-1 back after the reconnection', () => lspExists('web_web-1'));
    expect(watcher!.stats().resyncs).toBeGreaterThan(resyncs);
    const afterReconnect = watcher!.stats().resyncs;
    await nbctl('lsp-del', 'web_web-2');
    sim.faults.forceGone();
    sim.faults.dropWatches();
    await waitFor('web_web-2 back after the relist', () => lspExists('web_web-2'));
    expect(watcher!.stats().resyncs).toBeGreaterThan(afterReconnect);
  }, 60_000);

  it('restarts on a converged cluster without a single NB or annotation write', async () => {
    await watcher!.whenIdle();
    await watcher!.stop();
    watcher = undefined;
    // ovn-northd writes to NB too (e.g. a port's `up`): let it finish before the snapshot
    await central.syncSb();
    const before = await nbVersions();
    const patches = sim.stats().byMethod.PATCH ?? 0;
    watcher = await startWatcher();
    await watcher.whenIdle();
    expect(watcher.stats().batcher.transactions).toBe(0);
    await central.syncSb();
    expect(await nbVersions()).toBe(before);
    expect(sim.stats().byMethod.PATCH ?? 0).toBe(patches);
  }, 60_000);

  it('after a restart removes what was deleted while it was down, and nothing else', async () => {
    await watcher!.stop();
    watcher = undefined;
    await api.deleteNamespacedPod({ namespace: 'web', name: 'race-0', gracePeriodSeconds: 0 });
    await api.deleteNamespacedService({ namespace: 'db', name: 'db' });
    await api.deleteNode({ name: 'worker4' });
    await waitFor('race-0 gone from the API', async () =>
      (await api.listNamespacedPod({ namespace: 'web' })).items.every((p) => p.metadata!.name !== 'race-0'),
    );
    watcher = await startWatcher();
    await waitFor('stale rows swept', async () => {
      const sw = (await nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', 'name=worker4')).trim();
      return (
        !(await lspExists('web_race-0')) && (await lbNamed('Service_db/db_TCP_cluster')) === '' && sw === ''
      );
    });
    expect(await lspExists('ops-port')).toBe(true);
    expect(await lspExists('web_race-1')).toBe(true);
  }, 60_000);
});
