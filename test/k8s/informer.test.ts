/**
 * Informers against the Kubernetes simulator over real HTTP through @kubernetes/client-node, with
 * the simulator's faults on while objects are created, updated and deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import {
  ENDPOINTSLICE_SERVICE_INDEX,
  InformerFactory,
  NAMESPACE_INDEX,
  POD_NODE_INDEX,
} from '../../src/k8s/factory.js';
import { Informer, waitForCacheSync } from '../../src/k8s/informer.js';
import {
  customResource,
  NETWORK_ATTACHMENT_DEFINITIONS,
  objectKey,
  PODS,
  resourceClient,
} from '../../src/k8s/resources.js';
import { setAnnotations } from '../../src/k8s/annotations.js';
import { WorkQueue } from '../../src/k8s/workqueue.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { waitFor } from '../../src/runtime/process.js';
import {
  churnPods,
  diffState,
  eventView,
  podBody,
  sameState,
  simState,
  simType,
  startSim,
  storeState,
} from './sim-helpers.js';

let sim: K8sSim;
let kc: KubeConfig;

beforeAll(async () => {
  ({ sim, kc } = await startSim());
});
afterAll(async () => {
  await sim?.stop();
});

const fastBackoff = { initialMs: 20, maxMs: 300, factor: 2, jitter: 0.5 };

function podInformer(): Informer<V1Pod> {
  return new Informer<V1Pod>(kc, PODS, {
    pageSize: 25,
    backoff: fastBackoff,
    indexers: { [POD_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
  });
}

/** Waits until the informer's store and its handlers' view both equal the simulator's pods. */
async function converged(inf: Informer<V1Pod>, view: Map<string, V1Pod>, what: string): Promise<void> {
  try {
    await waitFor(
      what,
      async () => {
        const truth = simState(sim, '', 'pods');
        return (
          sameState(truth, storeState(inf.store.list())) && sameState(truth, storeState([...view.values()]))
        );
      },
      30_000,
      50,
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; differences: ${diffState(simState(sim, '', 'pods'), storeState(inf.store.list()))}`,
    );
  }
}

function deleteAllPods(): void {
  const pods = simType(sim, '', 'pods');
  for (const e of sim.api.list(pods, undefined, {}).entries) {
    sim.api.delete(pods, e.obj.metadata.namespace, e.obj.metadata.name!, { gracePeriodSeconds: 0 });
  }
}

describe('Informer against the simulator', () => {
  it('lists in pages, passes the sync barrier, and indexes pods by node and slices by service', async () => {
    deleteAllPods();
    const pods = simType(sim, '', 'pods');
    for (let i = 0; i < 120; i++) sim.api.create(pods, 'default', podBody(`p-${i}`, `node-${i % 4}`));
    const slices = simType(sim, 'discovery.k8s.io', 'endpointslices');
    for (const [name, svc] of [
      ['svc-a-1', 'svc-a'],
      ['svc-a-2', 'svc-a'],
      ['svc-b-1', 'svc-b'],
    ] as const) {
      sim.api.create(slices, 'default', {
        metadata: { name, labels: { 'kubernetes.io/service-name': svc } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }],
        ports: [{ port: 80, protocol: 'TCP' }],
      });
    }
    const factory = new InformerFactory(kc, { pageSize: 50, backoff: fastBackoff });
    const podInf = factory.pods();
    const sliceInf = factory.endpointSlices();
    const nadInf = factory.networkAttachmentDefinitions();
    const others = [factory.nodes(), factory.services(), factory.namespaces(), factory.networkPolicies()];
    expect(factory.pods()).toBe(podInf); // shared
    const view = eventView<V1Pod>();
    podInf.addHandlers(view.handlers);
    factory.startAll();
    await factory.waitForSync();
    try {
      expect(podInf.hasSynced() && sliceInf.hasSynced() && nadInf.hasSynced()).toBe(true);
      // Everything listed is in the store and was delivered before the barrier opened.
      expect(podInf.store.size).toBe(120);
      expect(view.view.size).toBe(120);
      expect(podInf.stats().listPages).toBe(3);
      expect(podInf.store.byIndex(POD_NODE_INDEX, 'node-1').map(objectKey).sort()).toEqual(
        Array.from({ length: 30 }, (_, k) => `default/p-${k * 4 + 1}`).sort(),
      );
      expect(podInf.store.byIndex(NAMESPACE_INDEX, 'default')).toHaveLength(120);
      expect(
        sliceInf.store.byIndex(ENDPOINTSLICE_SERVICE_INDEX, 'default/svc-a').map(objectKey).sort(),
      ).toEqual(['default/svc-a-1', 'default/svc-a-2']);
      expect(nadInf.store.size).toBe(0);
      expect(others.every((i) => i.hasSynced())).toBe(true);
      expect(factory.namespaces().store.getByName('kube-system')?.metadata?.name).toBe('kube-system');
      // The default/kubernetes Service, if the simulator creates one, is namespaced like any other.
      expect(
        factory
          .services()
          .store.list()
          .every((s) => s.metadata?.namespace !== undefined),
      ).toBe(true);

      // Index entries follow deletes and adds seen through the watch.
      sim.api.delete(pods, 'default', 'p-1', { gracePeriodSeconds: 0 });
      sim.api.create(pods, 'default', podBody('p-new', 'node-1'));
      const nads = simType(sim, 'k8s.cni.cncf.io', 'network-attachment-definitions');
      sim.api.create(nads, 'default', {
        metadata: { name: 'blue' },
        spec: { config: '{"cniVersion":"0.4.0"}' },
      });
      await waitFor(
        'watch events',
        async () => podInf.store.has('default/p-new') && !podInf.store.has('default/p-1'),
      );
      const onNode1 = podInf.store.indexKeys(POD_NODE_INDEX, 'node-1');
      expect(onNode1).toContain('default/p-new');
      expect(onNode1).not.toContain('default/p-1');
      await waitFor('nad', async () => nadInf.store.getByName('blue', 'default'));
      expect(nadInf.type).toBe(NETWORK_ATTACHMENT_DEFINITIONS);
      expect(view.errors).toEqual([]);
    } finally {
      await factory.stopAll();
    }
  });

  it('informs on a custom resource defined by a CRD (cluster-scoped, through CustomObjectsApi)', async () => {
    sim.api.create(simType(sim, 'apiextensions.k8s.io', 'customresourcedefinitions'), undefined, {
      metadata: { name: 'egressips.k8s.ovn.org' },
      spec: {
        group: 'k8s.ovn.org',
        scope: 'Cluster',
        names: { plural: 'egressips', singular: 'egressip', kind: 'EgressIP' },
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      },
    });
    const egressIps = simType(sim, 'k8s.ovn.org', 'egressips');
    for (let i = 0; i < 5; i++)
      sim.api.create(egressIps, undefined, {
        metadata: { name: `eip-${i}` },
        spec: { egressIPs: [`192.0.2.${i}`] },
      });
    const type = customResource({
      group: 'k8s.ovn.org',
      version: 'v1',
      plural: 'egressips',
      kind: 'EgressIP',
      namespaced: false,
    });
    const factory = new InformerFactory(kc, { pageSize: 2, backoff: fastBackoff });
    const inf = factory.informerFor(type);
    factory.startAll();
    await factory.waitForSync();
    try {
      expect(inf.store.keys().sort()).toEqual(['eip-0', 'eip-1', 'eip-2', 'eip-3', 'eip-4']);
      sim.api.delete(egressIps, undefined, 'eip-0', {});
      const r = await setAnnotations(resourceClient(kc, type), { name: 'eip-1' }, { note: 'x' });
      expect(r.status).toBe('patched');
      await waitFor(
        'custom watch',
        async () => !inf.store.has('eip-0') && inf.store.get('eip-1')?.metadata?.annotations?.note === 'x',
      );
    } finally {
      await factory.stopAll();
    }
  });

  it('converges after dropped watches while pods churn', async () => {
    const inf = podInformer();
    const ev = eventView<V1Pod>();
    inf.addHandlers(ev.handlers);
    inf.start();
    await waitForCacheSync(inf);
    const watchesBefore = sim.stats().watches;
    const churn = churnPods(sim, 400, { prefix: 'drop', seed: 7 });
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 40));
      sim.faults.dropWatches();
    }
    await churn;
    try {
      await converged(inf, ev.view, 'converged after dropWatches');
      expect(sim.stats().watches - watchesBefore).toBeGreaterThanOrEqual(2); // it did reconnect
      expect(inf.stats().relists).toBe(0); // resumed from its resourceVersion, no relist needed
      expect(ev.errors).toEqual([]);
    } finally {
      await inf.stop();
    }
  });

  it('relists after 410 Gone and delivers deletes that happened meanwhile as deletes', async () => {
    deleteAllPods();
    const pods = simType(sim, '', 'pods');
    for (let i = 0; i < 20; i++) sim.api.create(pods, 'default', podBody(`g-${i}`, 'node-0'));
    const inf = new Informer<V1Pod>(kc, PODS, {
      pageSize: 7,
      // A fixed retry delay leaves a window in which the informer is surely disconnected.
      backoff: { initialMs: 400, maxMs: 400, factor: 1 },
    });
    const ev = eventView<V1Pod>();
    inf.addHandlers(ev.handlers);
    inf.start();
    await inf.synced();
    try {
      // Disconnect the informer: its reconnect fails, and it waits 400 ms before the next try.
      sim.faults.setErrorRate(1, 500);
      const errorsBefore = inf.stats().watchErrors;
      sim.faults.dropWatches();
      await waitFor('reconnect failed', async () => inf.stats().watchErrors > errorsBefore, 10_000, 5);
      sim.faults.reset();
      // Meanwhile: deletes, updates and creates the informer cannot see, then history is lost.
      for (let i = 0; i < 5; i++) sim.api.delete(pods, 'default', `g-${i}`, { gracePeriodSeconds: 0 });
      for (let i = 5; i < 8; i++)
        sim.api.patch(pods, 'default', `g-${i}`, 'merge', { metadata: { labels: { x: 'y' } } });
      sim.api.create(pods, 'default', podBody('g-new', 'node-1'));
      sim.faults.forceGone();
      await converged(inf, ev.view, 'converged after 410');
      expect(inf.stats().gone).toBeGreaterThanOrEqual(1);
      expect(inf.stats().relists).toBeGreaterThanOrEqual(1);
      expect(ev.deleted.sort()).toEqual([
        'default/g-0',
        'default/g-1',
        'default/g-2',
        'default/g-3',
        'default/g-4',
      ]);
      expect(ev.view.get('default/g-5')?.metadata?.labels).toEqual({ x: 'y' });
      expect(ev.errors).toEqual([]);
    } finally {
      sim.faults.reset();
      await inf.stop();
    }
  });

  it('converges under forced 410s while pods churn', async () => {
    const inf = podInformer();
    const ev = eventView<V1Pod>();
    inf.addHandlers(ev.handlers);
    inf.start();
    await inf.synced();
    const churn = churnPods(sim, 300, { prefix: 'gone', seed: 11 });
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 30));
      sim.faults.forceGone();
      sim.faults.dropWatches();
    }
    await churn;
    try {
      await converged(inf, ev.view, 'converged under 410s');
      expect(inf.stats().gone).toBeGreaterThanOrEqual(1);
      expect(ev.errors).toEqual([]);
    } finally {
      await inf.stop();
    }
  });

  for (const code of [500, 429] as const) {
    it(`converges with 30% of requests failing with ${code}`, async () => {
      sim.faults.setErrorRate(0.3, code);
      const inf = podInformer();
      const ev = eventView<V1Pod>();
      inf.addHandlers(ev.handlers);
      try {
        inf.start();
        const churn = churnPods(sim, 300, { prefix: `e${code}`, seed: code });
        for (let i = 0; i < 4; i++) {
          await new Promise((r) => setTimeout(r, 40));
          sim.faults.dropWatches();
        }
        await churn;
        await inf.synced();
        // The faults stay on: the informer has to converge through them.
        await converged(inf, ev.view, `converged with ${code}s`);
        const s = inf.stats();
        expect(s.watchErrors + s.listErrors).toBeGreaterThan(0); // the faults did hit it
        expect(ev.errors).toEqual([]);
      } finally {
        sim.faults.reset();
        await inf.stop();
      }
    });
  }

  it('feeds a work queue that never runs one key twice at once, and the last run of each key saw its final state', async () => {
    deleteAllPods();
    const inf = podInformer();
    const running = new Set<string>();
    const violations: string[] = [];
    const lastSeen = new Map<string, string>(); // key -> rv seen by the last run ('' = absent)
    const queue = new WorkQueue(
      async (key) => {
        if (running.has(key)) violations.push(key);
        running.add(key);
        try {
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          // Level-triggered: read the current state from the store, not from the event.
          lastSeen.set(key, inf.store.get(key)?.metadata?.resourceVersion ?? '');
        } finally {
          running.delete(key);
        }
      },
      { concurrency: 4 },
    );
    const enqueue = (p: V1Pod): void => void queue.add(objectKey(p));
    inf.addHandlers({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    inf.start();
    await inf.synced();
    try {
      sim.faults.setErrorRate(0.2, 500);
      const churn = churnPods(sim, 300, { prefix: 'wq', seed: 5 });
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 40));
        sim.faults.dropWatches();
      }
      await churn;
      sim.faults.reset();
      const ev = eventView<V1Pod>();
      inf.addHandlers(ev.handlers);
      await converged(inf, ev.view, 'informer converged');
      await queue.whenIdle();
      expect(violations).toEqual([]);
      const truth = simState(sim, '', 'pods');
      for (const [key, rv] of lastSeen) expect(`${key}@${rv}`).toBe(`${key}@${truth.get(key) ?? ''}`);
      for (const key of truth.keys()) expect(lastSeen.has(key)).toBe(true);
    } finally {
      sim.faults.reset();
      await queue.shutdown();
      await inf.stop();
    }
  });
});
