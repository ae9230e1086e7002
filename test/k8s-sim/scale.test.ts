/**
 * The simulator holds 100,000 pods: every one comes back exactly once through paginated lists,
 * and several watchers each get every event. (Correctness at scale only; speed is for the bench.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { openWatch } from './client.js';

const N = 100_000;

describe('100,000 pods', () => {
  let sim: K8sSim;
  beforeAll(async () => {
    sim = await startK8sSim({ watchHistory: 1000 });
    const pods = sim.api.registry.get('', 'pods')!;
    for (let i = 0; i < N; i++) {
      sim.api.create(pods, 'default', {
        metadata: { generateName: 'p-', labels: { app: `a${i % 100}` } },
        spec: { nodeName: `node-${i % 100}`, containers: [{ name: 'c', image: 'nginx' }] },
      });
    }
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('lists them all with limit/continue, each exactly once', async () => {
    const names = new Set<string>();
    let cont = '';
    for (;;) {
      const res = await fetch(
        `${sim.url}/api/v1/pods?limit=5000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      );
      const body = (await res.json()) as {
        metadata: { continue?: string };
        items: { metadata: { name: string } }[];
      };
      for (const p of body.items) names.add(p.metadata.name);
      cont = body.metadata.continue ?? '';
      if (!cont) break;
    }
    expect(names.size).toBe(N);
    const onNode = await fetch(`${sim.url}/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-7&limit=500`);
    const page = (await onNode.json()) as { items: { spec: { nodeName: string } }[] };
    expect(page.items).toHaveLength(500);
    expect(page.items.every((p) => p.spec.nodeName === 'node-7')).toBe(true);
  });

  it('fans 10,000 new events out to four watchers', async () => {
    const rv = String(sim.api.store.resourceVersion);
    const watchers = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        openWatch(
          sim,
          `/api/v1/pods?watch=true&resourceVersion=${rv}${i === 3 ? '&labelSelector=app%3Da1' : ''}`,
        ),
      ),
    );
    const pods = sim.api.registry.get('', 'pods')!;
    for (let i = 0; i < 10_000; i++) {
      sim.api.create(pods, 'default', {
        metadata: { name: `w-${i}`, labels: { app: `a${i % 10}` } },
        spec: { containers: [] },
      });
    }
    for (const [i, w] of watchers.entries()) {
      const want = i === 3 ? 1000 : 10_000;
      await w.waitFor((e) => e.length >= want, `${want} events`, 30_000);
      expect(w.events.every((e) => e.type === 'ADDED')).toBe(true);
      w.close();
    }
  });
});
