import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { tempDir } from '../helpers/tmp.js';
import { call, openWatch, pod } from './client.js';

const P = '/api/v1/namespaces/default/pods';

describe('fault injection', () => {
  let sim: K8sSim;
  beforeAll(async () => {
    sim = await startK8sSim();
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('drops every open watch', async () => {
    const a = await openWatch(sim, `${P}?watch=true`);
    const b = await openWatch(sim, '/api/v1/nodes?watch=true');
    expect(sim.stats().activeWatches).toBe(2);
    sim.faults.dropWatches();
    await a.ended;
    await b.ended;
    expect(sim.stats().activeWatches).toBe(0);
  });

  it('forceGone makes resuming from any earlier resourceVersion answer 410, but a fresh list+watch works', async () => {
    await call(sim, 'POST', P, pod('g1'));
    const rv = (await call(sim, 'GET', P)).body.metadata.resourceVersion;
    sim.faults.forceGone();
    const w = await openWatch(sim, `${P}?watch=true&resourceVersion=${rv}`);
    await w.ended;
    expect(w.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    const relist = await call(sim, 'GET', P);
    const w2 = await openWatch(
      sim,
      `${P}?watch=true&resourceVersion=${relist.body.metadata.resourceVersion}`,
    );
    await call(sim, 'POST', P, pod('g2'));
    await w2.waitFor((e) => e.some((x) => x.object.metadata.name === 'g2'), 'event after relist');
    w2.close();
  });

  it('fails requests at the given rate with 500 or 429 Status bodies, discovery excepted', async () => {
    sim.faults.setErrorRate(1);
    const r = await call(sim, 'GET', P);
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect((await call(sim, 'GET', '/version')).status).toBe(200);
    sim.faults.setErrorRate(1, 429);
    const t = await call(sim, 'GET', P);
    expect(t.status).toBe(429);
    expect(t.headers.get('retry-after')).toBe('1');
    sim.faults.setErrorRate(0.5);
    const codes = new Set<number>();
    for (let i = 0; i < 60; i++) codes.add((await call(sim, 'GET', P)).status);
    expect([...codes].sort()).toEqual([200, 500]);
    sim.faults.reset();
    expect((await call(sim, 'GET', P)).status).toBe(200);
  });

  it('still answers correctly with latency injected', async () => {
    sim.faults.setLatency(30);
    const before = sim.stats().requests;
    const r = await call(sim, 'GET', `${P}/g2`);
    expect(r.status).toBe(200);
    expect(sim.stats().requests).toBe(before + 1);
    sim.faults.reset();
  });
});

describe('persistence and seeds', () => {
  const tmp = tempDir('k8ssim-');
  afterAll(() => tmp.cleanup());

  it('persists objects and the resourceVersion counter across restarts', async () => {
    const statePath = join(tmp.dir, 'state.json');
    const a = await startK8sSim({ statePath });
    let lastRv: number;
    try {
      await call(a, 'POST', P, pod('keep', { x: '1' }));
      await call(a, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
        metadata: { name: 'things.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Cluster',
          names: { plural: 'things', kind: 'Thing' },
          versions: [{ name: 'v1', served: true, storage: true }],
        },
      });
      const thing = await call(a, 'POST', '/apis/example.com/v1/things', {
        metadata: { name: 't1' },
        spec: { v: 1 },
      });
      expect(thing.status).toBe(201);
      lastRv = Number(thing.body.metadata.resourceVersion);
    } finally {
      await a.stop();
    }
    const saved = JSON.parse(readFileSync(statePath, 'utf8'));
    expect(saved.resourceVersion).toBe(lastRv);
    const b = await startK8sSim({ statePath });
    try {
      const kept = await call(b, 'GET', `${P}/keep`);
      expect(kept.body.metadata.labels).toEqual({ x: '1' });
      expect((await call(b, 'GET', '/apis/example.com/v1/things/t1')).body.spec).toEqual({ v: 1 });
      const next = await call(b, 'POST', P, pod('later'));
      expect(Number(next.body.metadata.resourceVersion)).toBeGreaterThan(lastRv);
      // resuming a watch from before the restart is not possible: 410
      const w = await openWatch(b, `${P}?watch=true&resourceVersion=1`);
      await w.ended;
      expect(w.events[0]!.object.code).toBe(410);
    } finally {
      await b.stop();
    }
  });

  it('applies a multi-document seed: namespaces, then CRDs, then the rest, status included', async () => {
    const seed = join(tmp.dir, 'seed.yaml');
    writeFileSync(
      seed,
      `apiVersion: example.com/v1
kind: Blob
metadata: {name: b1, namespace: team}
spec: {size: 1}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  addresses: [{type: InternalIP, address: 172.18.0.5}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: blobs.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: blobs, kind: Blob}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: Pod
metadata: {name: seeded, namespace: team}
spec:
  nodeName: n1
  containers: [{name: c, image: x}]
status: {phase: Running, podIP: 10.244.0.7}
`,
    );
    const sim = await startK8sSim({ seedFiles: [seed] });
    try {
      expect((await call(sim, 'GET', '/apis/example.com/v1/namespaces/team/blobs/b1')).body.spec).toEqual({
        size: 1,
      });
      expect((await call(sim, 'GET', '/api/v1/nodes/n1')).body.status.addresses[0].address).toBe(
        '172.18.0.5',
      );
      expect((await call(sim, 'GET', '/api/v1/namespaces/team/pods/seeded')).body.status).toEqual({
        phase: 'Running',
        podIP: '10.244.0.7',
      });
    } finally {
      await sim.stop();
    }
  });

  it('writes a kubeconfig pointing at the simulator with namespace default', async () => {
    const sim = await startK8sSim();
    try {
      const path = join(tmp.dir, 'kubeconfig');
      await sim.writeKubeconfig(path);
      const text = readFileSync(path, 'utf8');
      expect(text).toContain(`server: ${sim.url}`);
      expect(text).toContain('namespace: default');
      expect(text).toContain('current-context: sim');
    } finally {
      await sim.stop();
    }
  });
});
