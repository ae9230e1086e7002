import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  PatchError,
} from '../../src/k8s/sim/patch.js';
import { call, pod } from './client.js';

describe('merge patch (RFC 7386)', () => {
  it('follows the RFC examples', () => {
    expect(applyMergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(applyMergePatch({ a: 'b' }, { b: 'c' })).toEqual({ a: 'b', b: 'c' });
    expect(applyMergePatch({ a: 'b' }, { a: null })).toEqual({});
    expect(applyMergePatch({ a: ['b'] }, { a: 'c' })).toEqual({ a: 'c' });
    expect(applyMergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } })).toEqual({ a: { b: 'd' } });
    expect(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(applyMergePatch(['a', 'b'], ['c', 'd'])).toEqual(['c', 'd']);
    expect(applyMergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
  });

  it('never changes its input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (target, patch) => {
        const before = JSON.stringify(target);
        applyMergePatch(target, patch);
        expect(JSON.stringify(target)).toBe(before);
      }),
    );
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
      { op: 'remove', path: '/a/b/0' },
      { op: 'test', path: '/e~1f', value: 'y' },
    ]);
    expect(out).toEqual({ a: { b: [9, 2, 3] }, c: 'y', 'e/f': 'y' });
    expect(doc).toEqual({ a: { b: [1, 2] }, c: 'x' });
  });

  it('fails on a failed test, a missing path or a bad op', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(PatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).toThrow(PatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }])).toThrow(PatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'frob', path: '/a' }])).toThrow(PatchError);
  });
});

describe('strategic merge patch', () => {
  const live = {
    metadata: { labels: { a: '1', b: '2' }, finalizers: ['x'] },
    spec: {
      containers: [
        {
          name: 'c1',
          image: 'i1',
          env: [{ name: 'A', value: '1' }],
          ports: [{ containerPort: 80, name: 'http' }],
        },
        { name: 'c2', image: 'i2' },
      ],
      volumes: [{ name: 'v1', emptyDir: {} }],
      tolerations: [{ key: 't1' }],
    },
  };

  it('merges containers by name, env by name and ports by containerPort', () => {
    const out = applyStrategicMergePatch(
      live,
      {
        spec: {
          containers: [
            {
              name: 'c1',
              image: 'i1b',
              env: [{ name: 'B', value: '2' }],
              ports: [{ containerPort: 80, protocol: 'TCP' }],
            },
          ],
        },
      },
      'Pod',
    ) as any;
    expect(out.spec.containers).toEqual([
      {
        name: 'c1',
        image: 'i1b',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
      },
      { name: 'c2', image: 'i2' },
    ]);
    expect(out.spec.volumes).toEqual(live.spec.volumes);
  });

  it('honours $setElementOrder, $patch: delete, $patch: replace, null and unkeyed lists', () => {
    const out = applyStrategicMergePatch(
      live,
      {
        metadata: { labels: { a: null, c: '3' }, finalizers: ['y'] },
        spec: {
          '$setElementOrder/containers': [{ name: 'c2' }, { name: 'c1' }],
          containers: [{ name: 'c2', image: 'i2b' }],
          volumes: [{ name: 'v1', $patch: 'delete' }],
          tolerations: [{ key: 't2' }],
        },
      },
      'Pod',
    ) as any;
    expect(out.metadata.labels).toEqual({ b: '2', c: '3' });
    expect(out.metadata.finalizers).toEqual(['x', 'y']);
    expect(out.spec.containers.map((c: any) => [c.name, c.image])).toEqual([
      ['c2', 'i2b'],
      ['c1', 'i1'],
    ]);
    expect(out.spec.volumes).toEqual([]);
    expect(out.spec.tolerations).toEqual([{ key: 't2' }]);
    const replaced = applyStrategicMergePatch(
      live,
      { spec: { $patch: 'replace', containers: [{ name: 'only' }] } },
      'Pod',
    ) as any;
    expect(replaced.spec).toEqual({ containers: [{ name: 'only' }] });
    const listReplaced = applyStrategicMergePatch(
      live,
      { spec: { containers: [{ name: 'z' }, { $patch: 'replace' }] } },
      'Pod',
    ) as any;
    expect(listReplaced.spec.containers).toEqual([{ name: 'z' }]);
    const delPrim = applyStrategicMergePatch(
      live,
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
      'Pod',
    ) as any;
    expect(delPrim.metadata.finalizers).toEqual([]);
  });

  it('equals a merge patch when neither side holds lists or directives (property)', () => {
    const noLists = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 4 }).filter((k) => !k.startsWith('$')),
      fc.oneof(
        fc.string(),
        fc.integer(),
        fc.constant(null),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), fc.string()),
      ),
    );
    fc.assert(
      fc.property(noLists, noLists, (target, patch) => {
        const t = Object.fromEntries(Object.entries(target).filter(([, v]) => v !== null));
        expect(applyStrategicMergePatch(t, patch, 'ConfigMap')).toEqual(applyMergePatch(t, patch));
      }),
    );
  });

  it('merges service ports by port and status conditions by type', () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = applyStrategicMergePatch(
      svc,
      { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      'Service',
    ) as any;
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 9090 }, { port: 443 }]);
    const node = {
      status: {
        conditions: [{ type: 'Ready', status: 'False' }],
        addresses: [{ type: 'InternalIP', address: '1.1.1.1' }],
      },
    };
    const n2 = applyStrategicMergePatch(
      node,
      {
        status: {
          conditions: [{ type: 'Ready', status: 'True' }],
          addresses: [{ type: 'Hostname', address: 'h' }],
        },
      },
      'Node',
    ) as any;
    expect(n2.status.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
    expect(n2.status.addresses).toHaveLength(2);
  });
});

describe('patches over HTTP', () => {
  let sim: K8sSim;
  const P = '/api/v1/namespaces/default/pods';
  beforeAll(async () => {
    sim = await startK8sSim();
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('applies the patch type the Content-Type names, bumping resourceVersion', async () => {
    const created = (await call(sim, 'POST', P, pod('pp', { a: '1' }))).body;
    const m = await call(
      sim,
      'PATCH',
      `${P}/pp`,
      { metadata: { labels: { b: '2' } } },
      'application/merge-patch+json',
    );
    expect(m.body.metadata.labels).toEqual({ a: '1', b: '2' });
    expect(Number(m.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const j = await call(
      sim,
      'PATCH',
      `${P}/pp`,
      [{ op: 'replace', path: '/metadata/labels/a', value: 'z' }],
      'application/json-patch+json',
    );
    expect(j.body.metadata.labels.a).toBe('z');
    const s = await call(
      sim,
      'PATCH',
      `${P}/pp`,
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'c' }],
          containers: [{ name: 'c', image: 'nginx:2' }],
        },
      },
      'application/strategic-merge-patch+json',
    );
    expect(s.body.spec.containers).toEqual([{ name: 'c', image: 'nginx:2' }]);
    expect(s.body.metadata.generation).toBe(2);
  });

  it('answers 409 to a patch carrying a stale resourceVersion, 422 to a failed JSON patch, 415 to unknown types', async () => {
    await call(sim, 'POST', P, pod('pq'));
    const stale = await call(
      sim,
      'PATCH',
      `${P}/pq`,
      { metadata: { resourceVersion: '1', labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(stale.status).toBe(409);
    const failed = await call(
      sim,
      'PATCH',
      `${P}/pq`,
      [{ op: 'test', path: '/metadata/name', value: 'other' }],
      'application/json-patch+json',
    );
    expect(failed.status).toBe(422);
    const unknown = await call(sim, 'PATCH', `${P}/pq`, 'x: 1', 'application/yaml');
    expect(unknown.status).toBe(415);
    expect(unknown.body.reason).toBe('UnsupportedMediaType');
  });
});
