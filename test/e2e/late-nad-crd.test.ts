/**
 * Multus installed after the watcher started: the watcher starts while the API has no
 * NetworkAttachmentDefinition resource (secondary networks off), then the NAD CRD (deploy/01-crds.yaml)
 * and a NAD are installed. Without a restart, the pod that already asked for the network and a pod
 * created afterwards get their attachment ports in a real NB and their annotations. A standby started
 * the same way prepares the NADs but writes nothing until it is activated.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { resolveConnection } from '../../src/k8s/connection.js';
import { httpStatusOf } from '../../src/k8s/errors.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { attachmentPort, layer2Switch } from '../../src/ovn/intent/secondary.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { waitFor } from '../../src/runtime/process.js';
import { createSampleCluster, samplePod } from '../../src/sandbox/sample-cluster.js';
import type { WatcherLogger } from '../../src/watcher/context.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('wlnad-');
let central: OvnCentral;
let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let custom: CustomObjectsApi;
let watcher: Watcher | undefined;
let standby: Watcher | undefined;
const infoLines: string[] = [];
const standbyInfo: string[] = [];

const NAD = 'late-conf';
const NAD_KEY = `default/${NAD}`;
const NAD_CRD_NAME = 'network-attachment-definitions.k8s.cni.cncf.io';
const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' };

/** The NAD CRD as deploy/ installs it (the Multus one). */
function nadCrd(): object {
  const docs = parseAllDocuments(readFileSync(new URL('../../deploy/01-crds.yaml', import.meta.url), 'utf8'));
  const crd = docs
    .map((d) => d.toJS() as { metadata?: { name?: string } } | null)
    .find((o) => o?.metadata?.name === NAD_CRD_NAME);
  if (!crd) throw new Error(`deploy/01-crds.yaml has no ${NAD_CRD_NAME}`);
  return crd;
}

const installNadCrd = () => custom.createClusterCustomObject({ ...CRDS, body: nadCrd() });

async function nadListStatus(): Promise<number> {
  try {
    await custom.listNamespacedCustomObject({
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      namespace: 'default',
      plural: 'network-attachment-definitions',
    });
    return 200;
  } catch (err) {
    return httpStatusOf(err) ?? 0;
  }
}

async function createPod(name: string, node: string): Promise<void> {
  const body: V1Pod = samplePod('default', name, node, 'sample');
  body.metadata!.annotations = {
    'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: NAD, interface: 'net1' }]),
  };
  await api.createNamespacedPod({ namespace: 'default', body });
}

type Entry = { ip_addresses: string[]; mac_address: string };
async function podNetworks(name: string): Promise<Record<string, Entry> | undefined> {
  const pod = await api.readNamespacedPod({ namespace: 'default', name });
  const v = pod.metadata?.annotations?.['k8s.ovn.org/pod-networks'];
  return v ? (JSON.parse(v) as Record<string, Entry>) : undefined;
}

const portNames = async (): Promise<string[]> =>
  (await central.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port'))
    .split('\n')
    .filter((x) => x.trim() !== '');

const logger = (lines: string[]): WatcherLogger => ({
  debug() {},
  info: (_o, m) => void lines.push(m),
  warn() {},
  error() {},
});

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  sim = await startK8sSim({ controllers: { endpointSlices: true, kubelet: true }, bookmarkIntervalMs: 200 });
  kc = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  api = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await createSampleCluster(kc);
  // the simulator serves NADs from the start; installing and deleting their CRD takes them away,
  // so the API answers 404 as a cluster without Multus does
  await installNadCrd();
  await custom.deleteClusterCustomObject({ ...CRDS, name: NAD_CRD_NAME });
  // a pod that asks for the network before Multus is installed
  await createPod('earlypod', 'worker1');
}, 60_000);

afterAll(async () => {
  await standby?.stop();
  await watcher?.stop();
  await sim?.stop();
  await central?.stop();
  tmp.cleanup();
});

describe('NAD CRD installed after the watcher started', () => {
  it('starts with secondary networks off while the API has no NADs', async () => {
    expect(await nadListStatus()).toBe(404);
    standby = await Watcher.start({
      nbRemotes: central.nb.unix,
      kubeConfig: kc,
      clusterSubnets: ['10.128.0.0/14/23'],
      standby: true,
      nadRecheckMs: 100,
      annotationWorker: false,
      logger: logger(standbyInfo),
    });
    watcher = await Watcher.start({
      nbRemotes: central.nb.unix,
      kubeConfig: kc,
      clusterSubnets: ['10.128.0.0/14/23'],
      nadRecheckMs: 100,
      logger: logger(infoLines),
    });
    await watcher.whenIdle();
    expect(infoLines.some((m) => m.includes('CRD not installed'))).toBe(true);
    expect(await podNetworks('earlypod')).not.toHaveProperty(NAD_KEY);
    expect(await portNames()).not.toContain(attachmentPort(NAD_KEY, 'default', 'earlypod'));
  });

  it('picks up the CRD and a NAD installed later: the waiting pod and a new pod get their attachments', async () => {
    await installNadCrd();
    expect(await nadListStatus()).toBe(200);
    await custom.createNamespacedCustomObject({
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      namespace: 'default',
      plural: 'network-attachment-definitions',
      body: {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: NAD, namespace: 'default' },
        spec: {
          config: JSON.stringify({
            cniVersion: '0.3.1',
            type: 'ovn-k8s-cni-overlay',
            name: 'late-net',
            topology: 'layer2',
            subnets: '10.111.0.0/24',
            netAttachDefName: NAD_KEY,
          }),
        },
      },
    });
    await waitFor(
      'the waiting pod annotated with the late network',
      async () => (await podNetworks('earlypod'))?.[NAD_KEY] !== undefined,
      30_000,
    );
    expect(infoLines.some((m) => m.includes('CRD installed'))).toBe(true);
    const early = (await podNetworks('earlypod'))![NAD_KEY]!;
    expect(early.ip_addresses[0]).toMatch(/^10\.111\.0\.\d+\/24$/);
    await waitFor(
      'the attachment port and the network switch in NB',
      async () => {
        const ports = await portNames();
        return ports.includes(attachmentPort(NAD_KEY, 'default', 'earlypod'));
      },
      30_000,
    );
    const switches = await central.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch');
    expect(switches.split('\n')).toContain(layer2Switch('late-net'));

    // the NAD handlers are live now: a pod created afterwards is attached as well
    await createPod('latepod', 'worker2');
    await waitFor(
      'the new pod annotated with the late network',
      async () => (await podNetworks('latepod'))?.[NAD_KEY] !== undefined,
      30_000,
    );
    await watcher!.whenIdle();
    expect(await portNames()).toContain(attachmentPort(NAD_KEY, 'default', 'latepod'));
    const late = (await podNetworks('latepod'))![NAD_KEY]!;
    expect(late.ip_addresses[0]).not.toBe(early.ip_addresses[0]);
  });

  it('a standby started before the CRD prepared the NADs but wrote nothing; on activation it agrees', async () => {
    expect(standby!.isActive).toBe(false);
    // no key ran and no transaction went out while it stood by
    expect(standby!.stats()).toMatchObject({ resyncs: 0, queue: { added: 0 }, batcher: { transactions: 0 } });
    expect(standbyInfo.some((m) => m.includes('CRD installed'))).toBe(true);
    // the leader steps down; the standby takes over and finds everything already converged
    await watcher!.stop();
    watcher = undefined;
    const before = await podNetworks('earlypod');
    await standby!.activate();
    await standby!.whenIdle();
    expect(await podNetworks('earlypod')).toEqual(before);
    expect(await portNames()).toContain(attachmentPort(NAD_KEY, 'default', 'earlypod'));
  });
});
