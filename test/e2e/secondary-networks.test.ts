/**
 * Secondary OVN networks end to end: the Kubernetes simulator, real NB + SB + ovn-northd and the
 * watcher. Seed 003's sample pods (default interface, a macvlan attachment that is not ours, and a
 * second OVN layer3 overlay 10.245.0.0/16), a layer2 network, NAD deletion and a malformed NAD;
 * disagreeing NADs of one network, where the built config keeps it (across a restart too).
 * Proven with the NB contents, the annotations, Events and ovn-trace.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { macFromIp } from '../../src/ovn/intent/addr.js';
import {
  attachmentPort,
  layer2Switch,
  networkNodeSwitch,
  networkRouter,
} from '../../src/ovn/intent/secondary.js';
import { MANAGED_TABLES } from '../../src/ovn/reconcile/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { run, waitFor } from '../../src/runtime/process.js';
import { createSampleCluster, samplePod } from '../../src/sandbox/sample-cluster.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('wsec-');
let central: OvnCentral;
let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let crd: CustomObjectsApi;
let watcher: Watcher | undefined;

const L3_NAD = 'ovn-again-conf';
const L2_NAD = 'l2-conf';
const nadConfig = (name: string, extra: Record<string, unknown>) =>
  JSON.stringify({ cniVersion: '0.3.1', type: 'ovn-k8s-cni-overlay', name, ...extra });

async function createNad(namespace: string, name: string, config: string): Promise<void> {
  await crd.createNamespacedCustomObject({
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    namespace,
    plural: 'network-attachment-definitions',
    body: {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name, namespace },
      spec: { config },
    },
  });
}
const deleteNad = (namespace: string, name: string) =>
  crd.deleteNamespacedCustomObject({
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    namespace,
    plural: 'network-attachment-definitions',
    name,
  });

async function createPod(name: string, node: string, networks: string): Promise<void> {
  const body: V1Pod = samplePod('default', name, node, 'sample');
  body.metadata!.annotations = { 'k8s.v1.cni.cncf.io/networks': networks };
  await api.createNamespacedPod({ namespace: 'default', body });
}

type Entry = { ip_addresses: string[]; mac_address: string; routes?: { dest: string; nextHop: string }[] };
async function podNetworks(name: string): Promise<Record<string, Entry> | undefined> {
  const pod = await api.readNamespacedPod({ namespace: 'default', name });
  const v = pod.metadata?.annotations?.['k8s.ovn.org/pod-networks'];
  return v ? (JSON.parse(v) as Record<string, Entry>) : undefined;
}

const nbctl = (...a: string[]) => central.nbctl(...a);
const names = async (table: string) =>
  (await nbctl('--bare', '--columns=name', 'list', table)).split('\n').filter((x) => x.trim() !== '');

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
  return out;
};

const ICMP = 'ip.ttl==64 && icmp4.type==8';
const fromPort = (port: string, mac: string, ip: string, dstMac: string, dstIp: string) =>
  `inport=="${port}" && eth.src==${mac} && eth.dst==${dstMac} && ip4.src==${ip} && ip4.dst==${dstIp} && ${ICMP}`;
const ip0 = (e: Entry) => e.ip_addresses[0]!.split('/')[0]!;

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  sim = await startK8sSim({ controllers: { endpointSlices: true, kubelet: true }, bookmarkIntervalMs: 200 });
  kc = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  api = kc.makeApiClient(CoreV1Api);
  crd = kc.makeApiClient(CustomObjectsApi);
  await createSampleCluster(kc);
  // seed 003: a macvlan (whereabouts) attachment - not ours - and the second OVN overlay
  await createNad(
    'default',
    'whereabouts-conf',
    JSON.stringify({
      cniVersion: '0.3.1',
      type: 'macvlan',
      master: 'eth1',
      mode: 'bridge',
      ipam: { type: 'whereabouts', range: '192.168.1.200-192.168.1.216/24' },
    }),
  );
  await createNad(
    'default',
    L3_NAD,
    nadConfig('ovn-again', {
      topology: 'layer3',
      subnets: '10.245.0.0/16/24',
      netAttachDefName: `default/${L3_NAD}`,
    }),
  );
  await createNad(
    'default',
    L2_NAD,
    nadConfig('l2-net', {
      topology: 'layer2',
      subnets: '10.100.200.0/24',
      excludeSubnets: '10.100.200.0/29',
      netAttachDefName: `default/${L2_NAD}`,
    }),
  );
  await createPod('samplepod1', 'worker1', `whereabouts-conf@eth1,${L3_NAD}@eth2`);
  await createPod('samplepod2', 'worker2', `whereabouts-conf@eth1,${L3_NAD}@eth2`);
  await createPod('l2pod1', 'worker1', JSON.stringify([{ name: L2_NAD, interface: 'net1' }]));
  await createPod(
    'l2pod2',
    'worker2',
    JSON.stringify([
      { name: L2_NAD, interface: 'net1', ips: ['10.100.200.50/24'], mac: '02:00:00:00:00:50' },
    ]),
  );
  watcher = await Watcher.start({
    nbRemotes: central.nb.unix,
    kubeConfig: kc,
    clusterSubnets: ['10.128.0.0/14/23'],
  });
}, 60_000);

afterAll(async () => {
  await watcher?.stop();
  await sim?.stop();
  await central?.stop();
  tmp.cleanup();
});

describe('secondary OVN networks in the watcher', () => {
  it('builds the layer3 network: its router, a switch per node on its own /24, published on the nodes', async () => {
    await waitFor(
      'both sample pods annotated with the secondary network',
      async () =>
        (await podNetworks('samplepod1'))?.[`default/${L3_NAD}`] !== undefined &&
        (await podNetworks('samplepod2'))?.[`default/${L3_NAD}`] !== undefined,
      30_000,
    );
    await watcher!.whenIdle();
    expect(await names('Logical_Router')).toContain(networkRouter('ovn-again'));
    const switches = await names('Logical_Switch');
    for (const n of ['master', 'worker1', 'worker2'])
      expect(switches).toContain(networkNodeSwitch('ovn-again', n));
    const nodes = (await api.listNode()).items;
    const subnets = nodes.map((n) => JSON.parse(n.metadata!.annotations!['k8s.ovn.org/node-subnets']!));
    for (const s of subnets) {
      expect(s.default).toMatch(/^10\.12[89]\./);
      expect(s['ovn-again']).toMatch(/^10\.245\.\d+\.0\/24$/);
    }
    expect(new Set(subnets.map((s) => s['ovn-again'])).size).toBe(3);
  }, 60_000);

  it('gives each sample pod its default interface and its attachment, keyed <ns>/<nad>', async () => {
    for (const pod of ['samplepod1', 'samplepod2']) {
      const nets = (await podNetworks(pod))!;
      expect(Object.keys(nets).sort()).toEqual(['default', `default/${L3_NAD}`]);
      const e = nets[`default/${L3_NAD}`]!;
      expect(e.ip_addresses[0]).toMatch(/^10\.245\.\d+\.\d+\/24$/);
      expect(e.mac_address).toBe(macFromIp(e.ip_addresses[0]!));
      expect(e.routes).toEqual([
        { dest: '10.245.0.0/16', nextHop: e.ip_addresses[0]!.replace(/\.\d+\/24$/, '.1') },
      ]);
      expect((e as Record<string, unknown>).gateway_ips).toBeUndefined();
      const port = attachmentPort(`default/${L3_NAD}`, 'default', pod);
      expect(await nbctl('get', 'Logical_Switch_Port', port, 'addresses')).toContain(ip0(e));
      // the default port is there too, and the macvlan attachment (not ours) has no port
      expect(await nbctl('get', 'Logical_Switch_Port', `default_${pod}`, 'addresses')).toContain(
        nets.default!.ip_addresses[0]!.split('/')[0],
      );
    }
    expect((await names('Logical_Switch_Port')).some((n) => n.includes('whereabouts'))).toBe(false);
  });

  it('ovn-trace: secondary pod to pod across nodes, and no way into the default network', async () => {
    const a = (await podNetworks('samplepod1'))![`default/${L3_NAD}`]!;
    const b = (await podNetworks('samplepod2'))![`default/${L3_NAD}`]!;
    const bDefault = (await podNetworks('samplepod2'))!.default!;
    const gwA = a.routes![0]!.nextHop;
    const portA = attachmentPort(`default/${L3_NAD}`, 'default', 'samplepod1');
    const portB = attachmentPort(`default/${L3_NAD}`, 'default', 'samplepod2');
    await central.syncSb();
    const out = await central.trace(
      '--minimal',
      networkNodeSwitch('ovn-again', 'worker1'),
      fromPort(portA, a.mac_address, ip0(a), macFromIp(gwA), ip0(b)),
    );
    expect(out).toContain(`output("${portB}");`);
    const iso = await central.trace(
      '--minimal',
      networkNodeSwitch('ovn-again', 'worker1'),
      fromPort(portA, a.mac_address, ip0(a), macFromIp(gwA), ip0(bDefault)),
    );
    expect(iso).not.toContain('output(');
  });

  it('layer2: one switch, allocated and static addresses, pods reach each other across nodes', async () => {
    await waitFor(
      'layer2 pods annotated',
      async () =>
        (await podNetworks('l2pod1'))?.[`default/${L2_NAD}`] !== undefined &&
        (await podNetworks('l2pod2'))?.[`default/${L2_NAD}`] !== undefined,
      30_000,
    );
    const a = (await podNetworks('l2pod1'))![`default/${L2_NAD}`]!;
    const b = (await podNetworks('l2pod2'))![`default/${L2_NAD}`]!;
    // excludeSubnets 10.100.200.0/29 is never handed out
    expect(a.ip_addresses[0]).toMatch(/^10\.100\.200\.(\d+)\/24$/);
    expect(Number(ip0(a).split('.')[3])).toBeGreaterThanOrEqual(8);
    expect(b).toMatchObject({ ip_addresses: ['10.100.200.50/24'], mac_address: '02:00:00:00:00:50' });
    expect(a.routes).toBeUndefined();
    await central.syncSb();
    const out = await central.trace(
      '--minimal',
      layer2Switch('l2-net'),
      fromPort(
        attachmentPort(`default/${L2_NAD}`, 'default', 'l2pod1'),
        a.mac_address,
        ip0(a),
        b.mac_address,
        ip0(b),
      ),
    );
    expect(out).toContain(`output("${attachmentPort(`default/${L2_NAD}`, 'default', 'l2pod2')}");`);
  });

  it('a malformed NAD gets an Event and disturbs nothing', async () => {
    const before = await nbVersions();
    await createNad(
      'default',
      'bad-conf',
      nadConfig('bad-net', { topology: 'layer3', netAttachDefName: 'default/bad-conf' }),
    );
    await waitFor('the Warning Event', async () => {
      const evs = (await api.listNamespacedEvent({ namespace: 'default' })).items;
      return evs.some(
        (e) =>
          e.involvedObject.name === 'bad-conf' && e.reason === 'InvalidNetworkConfig' && e.type === 'Warning',
      );
    });
    await watcher!.whenIdle();
    expect(await nbVersions()).toBe(before);
    expect((await names('Logical_Switch')).some((n) => n.startsWith('bad.net_'))).toBe(false);
  });

  it('NADs of one network must agree: a disagreeing one gets an Event, an agreeing one joins', async () => {
    // The oldest NAD of a network defines it. creationTimestamp has one-second resolution and
    // ties go by namespace/name, so make sure these two are younger than default/ovn-again-conf.
    await new Promise((r) => setTimeout(r, 1100));
    await createNad(
      'web',
      'ovn-again-web',
      nadConfig('ovn-again', {
        topology: 'layer3',
        subnets: '10.245.0.0/16/24',
        netAttachDefName: 'web/ovn-again-web',
      }),
    );
    await createNad(
      'db',
      'ovn-again-other',
      nadConfig('ovn-again', {
        topology: 'layer3',
        subnets: '10.246.0.0/16/24',
        netAttachDefName: 'db/ovn-again-other',
      }),
    );
    await waitFor('the conflict Event', async () =>
      (await api.listNamespacedEvent({ namespace: 'db' })).items.some(
        (e) => e.involvedObject.name === 'ovn-again-other' && e.reason === 'NetworkConfigConflict',
      ),
    );
    const body: V1Pod = samplePod('web', 'webpod', 'worker1', 'sample');
    body.metadata!.annotations = { 'k8s.v1.cni.cncf.io/networks': 'ovn-again-web' };
    await api.createNamespacedPod({ namespace: 'web', body });
    const nets = async () => {
      const pod = await api.readNamespacedPod({ namespace: 'web', name: 'webpod' });
      const v = pod.metadata?.annotations?.['k8s.ovn.org/pod-networks'];
      return v ? (JSON.parse(v) as Record<string, Entry>) : undefined;
    };
    await waitFor('webpod attached', async () => (await nets())?.['web/ovn-again-web'] !== undefined);
    const e = (await nets())!['web/ovn-again-web']!;
    const p1 = (await podNetworks('samplepod1'))![`default/${L3_NAD}`]!;
    // one network: the same node subnet as samplepod1 (same node), never the same address
    expect(e.routes).toEqual(p1.routes);
    expect(e.ip_addresses[0]).not.toBe(p1.ip_addresses[0]);
    const port = attachmentPort('web/ovn-again-web', 'web', 'webpod');
    expect(port).toBe('web.ovn.again.web_web_webpod');
    expect(await nbctl('get', 'Logical_Switch_Port', port, 'addresses')).toContain(ip0(e));
    await api.deleteNamespacedPod({ namespace: 'web', name: 'webpod', gracePeriodSeconds: 0 });
    await waitFor('webpod port removed', async () => !(await names('Logical_Switch_Port')).includes(port));
    expect((await names('Logical_Switch')).some((n) => n.startsWith('10.246'))).toBe(false);
  });

  it('layer2 without subnets: static IPs as given, or none (L2 only); the replacing default network is accepted', async () => {
    await createNad(
      'default',
      'l2only-conf',
      nadConfig('l2-only', { topology: 'layer2', netAttachDefName: 'default/l2only-conf' }),
    );
    await createPod(
      'l2only1',
      'worker1',
      JSON.stringify([{ name: 'l2only-conf', mac: '02:00:00:00:aa:01' }]),
    );
    const body: V1Pod = samplePod('default', 'l2only2', 'worker2', 'sample');
    body.metadata!.annotations = {
      'v1.multus-cni.io/default-network': 'ovn-kubernetes',
      'k8s.v1.cni.cncf.io/networks': JSON.stringify([
        { name: 'l2only-conf', interface: 'net1', ips: ['192.168.50.5/24'] },
      ]),
    };
    await api.createNamespacedPod({ namespace: 'default', body });
    await waitFor(
      'both annotated',
      async () =>
        (await podNetworks('l2only1'))?.['default/l2only-conf'] !== undefined &&
        (await podNetworks('l2only2'))?.['default/l2only-conf'] !== undefined,
    );
    const a = (await podNetworks('l2only1'))!;
    const b = (await podNetworks('l2only2'))!;
    expect(a['default/l2only-conf']).toMatchObject({ ip_addresses: [], mac_address: '02:00:00:00:aa:01' });
    expect(b['default/l2only-conf']).toMatchObject({
      ip_addresses: ['192.168.50.5/24'],
      mac_address: macFromIp('192.168.50.5'),
    });
    expect(b.default!.ip_addresses[0]).toMatch(/^10\.12[89]\./);
    const port = attachmentPort('default/l2only-conf', 'default', 'l2only1');
    expect(await nbctl('get', 'Logical_Switch_Port', port, 'port_security')).toContain('02:00:00:00:aa:01');
  });

  it('a static IP outside the network gets an Event on the pod; its default network is not held up', async () => {
    await createPod('badip', 'worker1', JSON.stringify([{ name: L2_NAD, ips: ['10.99.0.5/24'] }]));
    await waitFor('badip annotated', async () => (await podNetworks('badip'))?.default !== undefined);
    expect((await podNetworks('badip'))![`default/${L2_NAD}`]).toBeUndefined();
    await waitFor('the Event on the pod', async () =>
      (await api.listNamespacedEvent({ namespace: 'default' })).items.some(
        (e) =>
          e.involvedObject.name === 'badip' &&
          e.reason === 'AttachmentFailed' &&
          /10\.99\.0\.5/.test(e.message ?? ''),
      ),
    );
    expect(
      (await names('Logical_Switch_Port')).some((n) => n.endsWith('_default_badip') && n.includes('.')),
    ).toBe(false);
  });

  it('a default-network annotation naming a secondary network is reported; the pod keeps the cluster network', async () => {
    const body: V1Pod = samplePod('default', 'primary-ask', 'worker2', 'sample');
    body.metadata!.annotations = { 'v1.multus-cni.io/default-network': L2_NAD };
    await api.createNamespacedPod({ namespace: 'default', body });
    await waitFor(
      'primary-ask annotated',
      async () => (await podNetworks('primary-ask'))?.default !== undefined,
    );
    expect(Object.keys((await podNetworks('primary-ask'))!)).toEqual(['default']);
    await waitFor('the Event on the pod', async () =>
      (await api.listNamespacedEvent({ namespace: 'default' })).items.some(
        (e) => e.involvedObject.name === 'primary-ask' && e.reason === 'InvalidNetworkSelection',
      ),
    );
  });

  it('a restarted watcher keeps every attachment address and writes nothing', async () => {
    await watcher!.whenIdle();
    const annotations = async () =>
      (await api.listNamespacedPod({ namespace: 'default' })).items
        .map((p) => `${p.metadata!.name}=${p.metadata!.annotations?.['k8s.ovn.org/pod-networks']}`)
        .sort();
    const before = await nbVersions();
    const annBefore = await annotations();
    await watcher!.stop();
    watcher = await Watcher.start({
      nbRemotes: central.nb.unix,
      kubeConfig: kc,
      clusterSubnets: ['10.128.0.0/14/23'],
    });
    await watcher.whenIdle();
    expect(await nbVersions()).toBe(before);
    expect(await annotations()).toEqual(annBefore);
  }, 30_000);

  it('a resync of a converged watcher writes nothing', async () => {
    await watcher!.whenIdle();
    const before = await nbVersions();
    watcher!.resyncAll('test');
    await watcher!.whenIdle();
    expect(await nbVersions()).toBe(before);
  });

  it('a deleted NAD keeps its network while pods use it, and removes it once they are gone', async () => {
    // the network's other NADs first (the disagreeing one would otherwise define it anew)
    await deleteNad('db', 'ovn-again-other');
    await deleteNad('web', 'ovn-again-web');
    await deleteNad('default', L3_NAD);
    await watcher!.whenIdle();
    expect(await names('Logical_Router')).toContain(networkRouter('ovn-again'));
    const defaultBefore = (await names('Logical_Switch')).filter((n) => !n.includes('_')).sort();
    for (const pod of ['samplepod1', 'samplepod2'])
      await api.deleteNamespacedPod({ namespace: 'default', name: pod, gracePeriodSeconds: 0 });
    await waitFor(
      'the network removed',
      async () => !(await names('Logical_Router')).includes(networkRouter('ovn-again')),
      30_000,
    );
    await watcher!.whenIdle();
    const rows = await nbctl(
      '--bare',
      '--columns=name',
      'find',
      'Logical_Switch',
      'external_ids:"k8s.ovn.org/network"=ovn-again',
    );
    expect(rows.trim()).toBe('');
    expect((await names('Logical_Switch_Port')).some((n) => n.startsWith('default.ovn.again.conf_'))).toBe(
      false,
    );
    // the default network is untouched: its switches are there and a resync writes nothing
    expect((await names('Logical_Switch')).filter((n) => !n.includes('_')).sort()).toEqual(defaultBefore);
    const nodes = (await api.listNode()).items;
    for (const n of nodes)
      expect(JSON.parse(n.metadata!.annotations!['k8s.ovn.org/node-subnets']!)['ovn-again']).toBeUndefined();
    const before = await nbVersions();
    watcher!.resyncAll('test');
    await watcher!.whenIdle();
    expect(await nbVersions()).toBe(before);
    // the layer2 network is still there
    expect(await names('Logical_Switch')).toContain(layer2Switch('l2-net'));
  }, 60_000);
});

describe('a network keeps the config it is built with while a NAD of that config is left', () => {
  const NET = 'sticky-net';
  const X = '10.247.0.0/16/24';
  const Y = '10.248.0.0/16/24';
  const stickyConfig = (nad: string, subnets: string) =>
    nadConfig(NET, { topology: 'layer3', subnets, netAttachDefName: nad });
  // one whole second a minute ago: NADs stamped with it were created "in the same second"
  const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

  /**
   * Creates a NAD stamped `atMs`, as a restore from a backup or two creations in one second would.
   * The simulator stamps creationTimestamp from Date.now; its create is synchronous, so nothing
   * else runs while the clock reads `atMs`.
   */
  function createNadAt(namespace: string, name: string, config: string, atMs: number): void {
    const t = sim.api.registry.get('k8s.cni.cncf.io', 'network-attachment-definitions')!;
    const realNow = Date.now;
    Date.now = () => atMs;
    try {
      sim.api.create(t, namespace, {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name, namespace },
        spec: { config },
      });
    } finally {
      Date.now = realNow;
    }
  }

  /** The network's subnet on worker1 as NB has it, and as worker1's annotation has it. */
  const worker1Subnet = async (): Promise<{ nb: string; node: string | undefined }> => {
    const nb = await nbctl(
      '--if-exists',
      'get',
      'Logical_Switch',
      networkNodeSwitch(NET, 'worker1'),
      'other_config:subnet',
    );
    const node = await api.readNode({ name: 'worker1' });
    const ann = JSON.parse(node.metadata!.annotations!['k8s.ovn.org/node-subnets']!) as Record<
      string,
      string
    >;
    return { nb: nb.trim().replace(/"/g, ''), node: ann[NET] };
  };
  const onX = (s: { nb: string; node: string | undefined }) =>
    /^10\.247\.\d+\.0\/24$/.test(s.nb) && /^10\.247\.\d+\.0\/24$/.test(s.node ?? '');
  const onY = (s: { nb: string; node: string | undefined }) =>
    /^10\.248\.\d+\.0\/24$/.test(s.nb) && /^10\.248\.\d+\.0\/24$/.test(s.node ?? '');
  const conflictReported = async (namespace: string, name: string) =>
    (await api.listNamespacedEvent({ namespace })).items.some(
      (e) =>
        e.involvedObject.name === name &&
        e.reason === 'NetworkConfigConflict' &&
        e.type === 'Warning' &&
        (e.message ?? '').includes('default/sticky-z'),
    );

  it('a NAD created in the same second that sorts first does not take the built network; it is reported', async () => {
    createNadAt('default', 'sticky-z', stickyConfig('default/sticky-z', X), T0);
    await waitFor('the network built on 10.247.0.0/16', async () => onX(await worker1Subnet()), 30_000);
    // same second, and default/sticky-a sorts before default/sticky-z: "oldest wins" would pick it
    createNadAt('default', 'sticky-a', stickyConfig('default/sticky-a', Y), T0);
    await waitFor('the conflict Event on sticky-a', () => conflictReported('default', 'sticky-a'));
    await watcher!.whenIdle();
    expect(onX(await worker1Subnet())).toBe(true);
  }, 60_000);

  it('after a restart (nothing remembered) the config NB shows keeps the network, and nothing is written', async () => {
    await watcher!.stop();
    const before = await nbVersions();
    watcher = await Watcher.start({
      nbRemotes: central.nb.unix,
      kubeConfig: kc,
      clusterSubnets: ['10.128.0.0/14/23'],
    });
    await watcher.whenIdle();
    expect(onX(await worker1Subnet())).toBe(true);
    expect(await nbVersions()).toBe(before);
  }, 30_000);

  it('an older conflicting NAD appearing later (restored from a backup) does not take over; it is reported', async () => {
    createNadAt('db', 'sticky-old', stickyConfig('db/sticky-old', Y), T0 - 3_600_000);
    await waitFor('the conflict Event on sticky-old', () => conflictReported('db', 'sticky-old'));
    await watcher!.whenIdle();
    expect(onX(await worker1Subnet())).toBe(true);
  });

  it('deleting the winning NAD hands the network to the remaining config; deleting the rest removes it', async () => {
    await deleteNad('default', 'sticky-z');
    await waitFor('the network rebuilt on 10.248.0.0/16', async () => onY(await worker1Subnet()), 30_000);
    await watcher!.whenIdle();
    const switches = await nbctl(
      '--bare',
      '--columns=other_config',
      'find',
      'Logical_Switch',
      `external_ids:"k8s.ovn.org/network"=${NET}`,
    );
    expect(switches).toMatch(/10\.248\./);
    expect(switches).not.toMatch(/10\.247\./);
    await deleteNad('default', 'sticky-a');
    await deleteNad('db', 'sticky-old');
    await waitFor(
      'the network removed',
      async () => !(await names('Logical_Router')).includes(networkRouter(NET)),
      30_000,
    );
  }, 60_000);
});
