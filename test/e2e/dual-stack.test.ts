/**
 * Dual stack and several cluster subnets: every node gets one subnet per family, pods one address
 * per family, and ovn-trace follows IPv6 across nodes.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { waitFor } from '../../src/runtime/process.js';
import { samplePod, sampleNode } from '../../src/sandbox/sample-cluster.js';
import { macFromIp } from '../../src/ovn/intent/addr.js';
import { podNetworkFromAnnotation } from '../../src/watcher/convert.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('wkd-');
let central: OvnCentral;
let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let watcher: Watcher | undefined;

// two small IPv4 cluster subnets (two host subnets each) and one IPv6 one
const CLUSTER_SUBNETS = ['10.128.0.0/23/24', '10.130.0.0/23/24', 'fd00:10:128::/48/64'];

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  // no kubelet stand-in: it would turn a finished pod back to Running
  sim = await startK8sSim({ bookmarkIntervalMs: 200 });
  kc = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  api = kc.makeApiClient(CoreV1Api);
  for (const [i, n] of ['n1', 'n2', 'n3'].entries())
    await api.createNode({ body: sampleNode(n, `172.18.0.${20 + i}`) });
  await api.createNamespacedPod({ namespace: 'default', body: samplePod('default', 'a', 'n1', 'x') });
  await api.createNamespacedPod({ namespace: 'default', body: samplePod('default', 'b', 'n3', 'x') });
  watcher = await Watcher.start({
    nbRemotes: central.nb.unix,
    kubeConfig: kc,
    clusterSubnets: CLUSTER_SUBNETS,
  });
}, 60_000);

afterAll(async () => {
  await watcher?.stop();
  await sim?.stop();
  await central?.stop();
  tmp.cleanup();
});

const annotated = async (name: string) =>
  podNetworkFromAnnotation(await api.readNamespacedPod({ namespace: 'default', name }));

describe('dual stack', () => {
  it('gives each node an IPv4 and an IPv6 subnet, spilling into the second IPv4 cluster subnet', async () => {
    await waitFor('pods annotated', async () => (await annotated('a')) && (await annotated('b')));
    const subnets = await Promise.all(
      ['n1', 'n2', 'n3'].map(async (n) => {
        const node = await api.readNode({ name: n });
        return JSON.parse(node.metadata!.annotations!['k8s.ovn.org/node-subnets']!).default as string[];
      }),
    );
    for (const s of subnets) {
      expect(s).toHaveLength(2);
      expect(s[1]).toMatch(/^fd00:10:128:[0-9a-f:]*\/64$/);
    }
    const v4 = subnets.map((s) => s[0]);
    expect(new Set(v4).size).toBe(3);
    expect(v4.some((s) => s!.startsWith('10.130.'))).toBe(true);
    expect(await central.nbctl('get', 'Logical_Switch', 'n1', 'other_config:ipv6_prefix')).toContain(
      'fd00:10:128:',
    );
  }, 30_000);

  it('gives pods one address per family, on the port and in the annotations', async () => {
    const a = (await annotated('a'))!;
    expect(a.ips).toHaveLength(2);
    expect(a.ips[1]).toMatch(/^fd00:10:128:.*\/64$/);
    expect(a.gateways).toHaveLength(2);
    const addresses = await central.nbctl('get', 'Logical_Switch_Port', 'default_a', 'addresses');
    expect(addresses).toContain(a.ips[0]!.split('/')[0]);
    expect(addresses).toContain(a.ips[1]!.split('/')[0]);
  });

  it('takes the port and addresses of a finished pod away', async () => {
    const before = (await annotated('b'))!;
    const pods = sim.api.registry.get('', 'pods')!;
    sim.api.patch(pods, 'default', 'b', 'merge', { status: { phase: 'Succeeded' } }, 'status');
    await waitFor(
      'the finished pod port removed',
      async () =>
        (
          await central.nbctl('--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'name=default_b')
        ).trim() === '',
    );
    // its addresses are free but quarantined: a new pod on that node gets other ones
    await api.createNamespacedPod({ namespace: 'default', body: samplePod('default', 'c', 'n3', 'x') });
    await waitFor('c annotated', async () => (await annotated('c')) !== undefined);
    const c = (await annotated('c'))!;
    expect(c.ips[0]).not.toBe(before.ips[0]);
    expect(c.ips[1]).not.toBe(before.ips[1]);
    // back to a pod that runs: the finished one is recreated under the same name and gets a port again
    sim.api.delete(pods, 'default', 'b', { gracePeriodSeconds: 0 });
    await api.createNamespacedPod({ namespace: 'default', body: samplePod('default', 'b', 'n3', 'x') });
    await waitFor(
      'b has a port again',
      async () =>
        (
          await central.nbctl('--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'name=default_b')
        ).trim() === 'default_b',
    );
  });

  it('routes IPv6 from a pod on one node to a pod on another (ovn-trace)', async () => {
    await central.syncSb();
    const a = (await annotated('a'))!;
    const b = (await annotated('b'))!;
    const src = a.ips[1]!.split('/')[0]!;
    const dst = b.ips[1]!.split('/')[0]!;
    const routerMac = macFromIp(a.gateways[0]!);
    const out = await central.trace(
      '--minimal',
      'n1',
      `inport=="default_a" && eth.src==${a.mac} && eth.dst==${routerMac} && ip6.src==${src} && ip6.dst==${dst} && ip.ttl==64 && icmp6.type==128`,
    );
    expect(out).toContain('output("default_b");');
  });
});
