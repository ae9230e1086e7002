/**
 * The per-request fast paths keep the protocol: request targets parse as a URL parser would, a
 * PATCH answers what the watch then carries, and watch events written in one burst (one chunk per
 * turn of the event loop) arrive complete and in order, also when the stream ends right after.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { call, openWatch, pod } from './client.js';

const P = '/api/v1/namespaces/default/pods';
const CM = '/api/v1/namespaces/default/configmaps';

/** A GET with the request target sent exactly as given (fetch would normalise it first). */
function rawGet(sim: K8sSim, target: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: sim.port, path: target }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('request path', () => {
  let sim: K8sSim;
  beforeAll(async () => {
    sim = await startK8sSim();
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('resolves percent-encoded names, encoded query values and dot segments as before', async () => {
    expect((await call(sim, 'POST', CM, { metadata: { name: 'a-b', labels: { k: 'v w' } } })).status).toBe(
      201,
    );
    expect((await call(sim, 'GET', `${CM}/a%2Db`)).body.metadata.name).toBe('a-b');
    const byLabel = await call(sim, 'GET', `${CM}?labelSelector=${encodeURIComponent('k=v w')}`);
    expect(byLabel.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['a-b']);
    // dot segments are resolved (WHATWG URL), as before the fast path existed
    const viaDots = await rawGet(sim, '/api/v1/namespaces/default/pods/../configmaps/a-b');
    expect(viaDots.status).toBe(200);
    expect(viaDots.body.kind).toBe('ConfigMap');
    expect((await rawGet(sim, '/api/v1/namespaces/default/pods/%2E%2E/configmaps/a-b')).body.kind).toBe(
      'ConfigMap',
    );
    expect((await rawGet(sim, '/api/v1//namespaces/default/configmaps/a-b')).status).toBe(200);
    expect((await rawGet(sim, `${CM}/a-b?x=1#frag`)).body.metadata.name).toBe('a-b');
  });

  it('a merge PATCH answers the very object the watch carries as MODIFIED', async () => {
    const created = await call(sim, 'POST', P, pod('pp'));
    const w = await openWatch(
      sim,
      `${P}?watch=true&resourceVersion=${created.body.metadata.resourceVersion}`,
    );
    try {
      const uid = created.body.metadata.uid as string;
      const r = await call(
        sim,
        'PATCH',
        `${P}/pp`,
        { metadata: { uid, annotations: { 'k8s.ovn.org/pod-networks': '{"default":{}}' } } },
        'application/merge-patch+json',
      );
      expect(r.status).toBe(200);
      expect(r.body.metadata.annotations).toEqual({ 'k8s.ovn.org/pod-networks': '{"default":{}}' });
      expect(Number(r.body.metadata.resourceVersion)).toBeGreaterThan(
        Number(created.body.metadata.resourceVersion),
      );
      const evs = await w.waitFor((e) => e.length >= 1, 'MODIFIED');
      expect(evs[0]!.type).toBe('MODIFIED');
      expect(evs[0]!.object).toEqual(r.body);
      // a patch that changes nothing is no write: same resourceVersion, no event
      const again = await call(
        sim,
        'PATCH',
        `${P}/pp`,
        { metadata: { annotations: { 'k8s.ovn.org/pod-networks': '{"default":{}}' } } },
        'application/merge-patch+json',
      );
      expect(again.body.metadata.resourceVersion).toBe(r.body.metadata.resourceVersion);
      // a stale uid is a precondition failure
      const stale = await call(
        sim,
        'PATCH',
        `${P}/pp`,
        { metadata: { uid: 'not-the-uid', annotations: { x: 'y' } } },
        'application/merge-patch+json',
      );
      expect(stale.status).toBe(409);
      await call(sim, 'DELETE', `${P}/pp`);
      await w.waitFor((e) => e.some((x) => x.type === 'DELETED'), 'DELETED');
      expect(w.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    } finally {
      w.close();
    }
  });

  it('delivers a burst of writes made in one turn completely and in resourceVersion order', async () => {
    const w = await openWatch(sim, `${CM}?watch=true&resourceVersion=${sim.api.store.resourceVersion}`);
    const cms = sim.api.registry.get('', 'configmaps')!;
    try {
      for (let i = 0; i < 300; i++) sim.api.create(cms, 'default', { metadata: { name: `burst-${i}` } });
      const evs = await w.waitFor((e) => e.length >= 300, '300 events');
      expect(evs.map((e) => e.object.metadata.name)).toEqual(
        Array.from({ length: 300 }, (_, i) => `burst-${i}`),
      );
      const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
      expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    } finally {
      w.close();
    }
  });

  it('flushes events written in the same turn before a dropped watch ends', async () => {
    const w = await openWatch(sim, `${CM}?watch=true&resourceVersion=${sim.api.store.resourceVersion}`);
    const cms = sim.api.registry.get('', 'configmaps')!;
    for (let i = 0; i < 5; i++) sim.api.create(cms, 'default', { metadata: { name: `last-${i}` } });
    sim.faults.dropWatches();
    await w.ended;
    expect(w.events.map((e) => e.object.metadata.name)).toEqual([
      'last-0',
      'last-1',
      'last-2',
      'last-3',
      'last-4',
    ]);
  });
});
