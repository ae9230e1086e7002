import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { parseFieldSelector, parseLabelSelector } from '../../src/k8s/sim/selectors.js';
import { SortedKeys } from '../../src/k8s/sim/sorted-keys.js';
import type { KubeObject } from '../../src/k8s/sim/types.js';
import { call, openWatch, pod } from './client.js';

const TABLE_ACCEPT =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('selectors', () => {
  const obj = (labels: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({
    metadata: { name: 'n', namespace: 'ns', labels },
    ...extra,
  });

  it('parses every label selector operator', () => {
    const m = (s: string, labels: Record<string, string>) => parseLabelSelector(s)!(obj(labels));
    expect(m('app=a', { app: 'a' })).toBe(true);
    expect(m('app==a', { app: 'b' })).toBe(false);
    expect(m('app!=a', {})).toBe(true);
    expect(m('app!=a', { app: 'a' })).toBe(false);
    expect(m('env in (prod, dev)', { env: 'dev' })).toBe(true);
    expect(m('env in (prod,dev)', {})).toBe(false);
    expect(m('env notin (prod)', {})).toBe(true);
    expect(m('env notin (prod)', { env: 'prod' })).toBe(false);
    expect(m('tier', { tier: '' })).toBe(true);
    expect(m('!tier', { tier: 'x' })).toBe(false);
    expect(m('app=a,env in (x,y),!gone', { app: 'a', env: 'y' })).toBe(true);
    expect(parseLabelSelector('')).toBeUndefined();
  });

  it('matches field selectors on names, namespaces, spec and status, with != ', () => {
    const o = obj({}, { spec: { nodeName: 'n1' }, status: { phase: 'Running' } });
    expect(parseFieldSelector('metadata.name=n,metadata.namespace=ns')!(o)).toBe(true);
    expect(parseFieldSelector('spec.nodeName==n1,status.phase!=Pending')!(o)).toBe(true);
    expect(parseFieldSelector('spec.nodeName!=n1')!(o)).toBe(false);
    expect(parseFieldSelector('spec.nodeName=')!(obj({}))).toBe(true);
  });
});

describe('SortedKeys', () => {
  it('behaves like a sorted array of distinct strings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 4 })), { maxLength: 3000 }),
        fc.string({ maxLength: 4 }),
        (ops, probe) => {
          const keys = new SortedKeys();
          const ref = new Set<string>();
          for (const [add, k] of ops) {
            if (add) {
              keys.insert(k);
              ref.add(k);
            } else {
              expect(keys.remove(k)).toBe(ref.delete(k));
            }
          }
          const sorted = [...ref].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect([...keys.from('')]).toEqual(sorted);
          expect(keys.size).toBe(sorted.length);
          expect([...keys.from(probe, true)]).toEqual(sorted.filter((k) => k > probe));
          expect(keys.countAfter(probe)).toBe(sorted.filter((k) => k > probe).length);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('pagination (property)', () => {
  it('any sequence of page sizes yields the full list once, in order', async () => {
    const sim = await startK8sSim();
    try {
      const cms = sim.api.registry.get('', 'configmaps')!;
      for (const ns of ['a', 'b', 'c'])
        sim.api.create(sim.api.registry.get('', 'namespaces')!, undefined, { metadata: { name: ns } });
      for (let i = 0; i < 300; i++)
        sim.api.create(cms, ['a', 'b', 'c'][i % 3], { metadata: { name: `cm-${(i * 7919) % 1000}` } });
      const full = sim.api
        .list(cms, undefined)
        .entries.map((e) => `${e.obj.metadata.namespace}/${e.obj.metadata.name}`);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
          fc.constantFrom(undefined, 'b'),
          (sizes, ns) => {
            const want = full.filter((k) => !ns || k.startsWith(`${ns}/`));
            const got: string[] = [];
            let token: string | undefined;
            for (let i = 0; ; i++) {
              const page = sim.api.list(cms, ns, {
                limit: sizes[i % sizes.length]!,
                continueToken: token ?? null,
              });
              got.push(...page.entries.map((e) => `${e.obj.metadata.namespace}/${e.obj.metadata.name}`));
              if (page.continueToken) expect(page.remainingItemCount).toBe(want.length - got.length);
              token = page.continueToken;
              if (!token) break;
            }
            expect(got).toEqual(want);
          },
        ),
        { numRuns: 50 },
      );
    } finally {
      await sim.stop();
    }
  });
});

describe('lists', () => {
  let sim: K8sSim;
  beforeAll(async () => {
    sim = await startK8sSim();
    await call(sim, 'POST', '/api/v1/namespaces', { metadata: { name: 'big' } });
    await call(sim, 'POST', '/api/v1/namespaces', { metadata: { name: 'small' } });
    // 10,000 pods through the in-process API (HTTP for each would only test fetch).
    const pods = sim.api.registry.get('', 'pods')!;
    for (let i = 0; i < 10_000; i++) {
      sim.api.create(
        pods,
        'big',
        pod(
          `p-${String(i).padStart(5, '0')}`,
          { i: String(i % 10), even: String(i % 2 === 0) },
          { nodeName: `node-${i % 3}` },
        ),
      );
    }
    for (let i = 0; i < 5; i++) sim.api.create(pods, 'small', pod(`s${i}`));
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('pages through 10,000 pods with limit/continue, each exactly once, with remainingItemCount', async () => {
    const seen: string[] = [];
    let cont = '';
    let pages = 0;
    let listRv: string | undefined;
    for (;;) {
      const r = await call(
        sim,
        'GET',
        `/api/v1/namespaces/big/pods?limit=700${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.kind).toBe('PodList');
      listRv ??= r.body.metadata.resourceVersion;
      expect(r.body.metadata.resourceVersion).toBe(listRv);
      seen.push(...r.body.items.map((p: any) => p.metadata.name));
      pages++;
      cont = r.body.metadata.continue ?? '';
      if (!cont) break;
      expect(r.body.metadata.remainingItemCount).toBe(10_000 - seen.length);
    }
    expect(pages).toBe(15);
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect(seen).toEqual([...seen].sort());
  });

  it('pages across namespaces and applies selectors within pages', async () => {
    const all = await call(sim, 'GET', '/api/v1/pods?limit=9999');
    expect(all.body.items).toHaveLength(9999);
    const rest = await call(
      sim,
      'GET',
      `/api/v1/pods?continue=${encodeURIComponent(all.body.metadata.continue)}`,
    );
    // 10,005 pods in key order ("big/..." before "small/..."): 1 big and 5 small remain
    expect(rest.body.items.map((p: any) => p.metadata.namespace)).toEqual([
      'big',
      'small',
      'small',
      'small',
      'small',
      'small',
    ]);
    expect(rest.body.metadata.continue).toBeUndefined();
    const sel = await call(
      sim,
      'GET',
      '/api/v1/namespaces/big/pods?labelSelector=i%3D3,even%3Dfalse&fieldSelector=spec.nodeName%3Dnode-1',
    );
    // i%10==3 and i%3==1: i = 13, 43, 73... (every 30)
    expect(sel.body.items.length).toBe(Math.ceil((10_000 - 13) / 30));
    for (const p of sel.body.items) expect(p.metadata.labels.i).toBe('3');
    const byName = await call(
      sim,
      'GET',
      '/api/v1/namespaces/big/pods?fieldSelector=metadata.name%3Dp-00042',
    );
    expect(byName.body.items.map((p: any) => p.metadata.name)).toEqual(['p-00042']);
    const notIn = await call(sim, 'GET', '/api/v1/pods?fieldSelector=metadata.namespace!%3Dbig');
    expect(notIn.body.items.every((p: any) => p.metadata.namespace !== 'big')).toBe(true);
    const nsField = await call(sim, 'GET', '/api/v1/pods?fieldSelector=metadata.namespace%3Dsmall');
    expect(nsField.body.items).toHaveLength(5);
  });

  it('returns a Table with pod columns when asked', async () => {
    const r = await call(sim, 'GET', '/api/v1/namespaces/small/pods?limit=2', undefined, undefined, {
      Accept: TABLE_ACCEPT,
    });
    expect(r.body.kind).toBe('Table');
    expect(r.body.columnDefinitions.map((c: any) => c.name).slice(0, 5)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
    ]);
    expect(r.body.rows).toHaveLength(2);
    expect(r.body.rows[0].cells.slice(0, 4)).toEqual(['s0', '0/1', 'Pending', '0']);
    expect(r.body.rows[0].object.kind).toBe('PartialObjectMetadata');
    expect(r.body.metadata.continue).toBeDefined();
    const ns = await call(sim, 'GET', '/api/v1/namespaces', undefined, undefined, { Accept: TABLE_ACCEPT });
    expect(ns.body.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Status', 'Age']);
    const cms = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps', undefined, undefined, {
      Accept: TABLE_ACCEPT,
    });
    expect(cms.body.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Age']);
  });
});

describe('watches', () => {
  let sim: K8sSim;
  const P = '/api/v1/namespaces/default/pods';
  beforeAll(async () => {
    sim = await startK8sSim({ watchHistory: 50, bookmarkIntervalMs: 100 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('replays events newer than the resourceVersion, then streams live ones', async () => {
    const list = await call(sim, 'GET', P);
    const rv = list.body.metadata.resourceVersion;
    await call(sim, 'POST', P, pod('w1'));
    await call(sim, 'PATCH', `${P}/w1`, { metadata: { labels: { x: '1' } } }, 'application/merge-patch+json');
    const w = await openWatch(sim, `${P}?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    await w.waitFor((e) => e.length >= 2, 'replay');
    expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'w1'],
      ['MODIFIED', 'w1'],
    ]);
    await call(sim, 'DELETE', `${P}/w1`);
    await w.waitFor((e) => e.some((x) => x.type === 'DELETED'), 'DELETED');
    const del = w.events.find((e) => e.type === 'DELETED')!;
    expect(Number(del.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(w.events[1]!.object.metadata.resourceVersion),
    );
    w.close();
  });

  it('sends synthetic ADDED events for the current state with resourceVersion 0, and a bookmark after them', async () => {
    await call(sim, 'POST', P, pod('cur1'));
    await call(sim, 'POST', P, pod('cur2'));
    const w = await openWatch(sim, `${P}?watch=1&resourceVersion=0&allowWatchBookmarks=true`);
    await w.waitFor((e) => e.some((x) => x.type === 'BOOKMARK'), 'bookmark');
    const names = w.events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['cur1', 'cur2']));
    const firstBookmark = w.events.findIndex((e) => e.type === 'BOOKMARK');
    expect(firstBookmark).toBe(names.length);
    // periodic bookmarks keep coming and carry the latest resourceVersion
    await call(sim, 'POST', P, pod('cur3'));
    const latest = (await call(sim, 'GET', `${P}/cur3`)).body.metadata.resourceVersion;
    await w.waitFor(
      (e) =>
        e.some((x) => x.type === 'BOOKMARK' && Number(x.object.metadata.resourceVersion) >= Number(latest)),
      'later bookmark',
    );
    w.close();
  });

  it('marks the end of initial events with an annotated bookmark for sendInitialEvents (watch-list)', async () => {
    const w = await openWatch(
      sim,
      `${P}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
    );
    await w.waitFor((e) => e.some((x) => x.type === 'BOOKMARK'), 'bookmark');
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(bookmark.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(w.events.slice(0, w.events.indexOf(bookmark)).every((e) => e.type === 'ADDED')).toBe(true);
    w.close();
  });

  it('turns selector transitions into ADDED and DELETED and filters by namespace', async () => {
    const rv = (await call(sim, 'GET', P)).body.metadata.resourceVersion;
    const w = await openWatch(sim, `${P}?watch=true&resourceVersion=${rv}&labelSelector=role%3Dweb`);
    await call(sim, 'POST', P, pod('sel', { role: 'db' }));
    await call(sim, 'POST', '/api/v1/namespaces/kube-system/pods', pod('other-ns', { role: 'web' }));
    await call(
      sim,
      'PATCH',
      `${P}/sel`,
      { metadata: { labels: { role: 'web' } } },
      'application/merge-patch+json',
    );
    await call(
      sim,
      'PATCH',
      `${P}/sel`,
      { metadata: { labels: { role: 'db' } } },
      'application/merge-patch+json',
    );
    await w.waitFor((e) => e.length >= 2, 'two transitions');
    expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'sel'],
      ['DELETED', 'sel'],
    ]);
    w.close();
  });

  it('answers a too-old resourceVersion with an ERROR event carrying 410 Expired', async () => {
    const rv = (await call(sim, 'GET', P)).body.metadata.resourceVersion;
    for (let i = 0; i < 60; i++)
      await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `cm${i}` } });
    const ok = await openWatch(sim, `${P}?watch=true&resourceVersion=${rv}`);
    const gone = await openWatch(
      sim,
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`,
    );
    await gone.ended;
    expect(gone.events).toHaveLength(1);
    expect(gone.events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
    // pods had no events in between: their history still covers rv
    await call(sim, 'POST', P, pod('after-gone'));
    await ok.waitFor((e) => e.some((x) => x.object.metadata.name === 'after-gone'), 'pod event');
    ok.close();
  });

  it('closes the stream after timeoutSeconds', async () => {
    const w = await openWatch(sim, `${P}?watch=true&timeoutSeconds=1`);
    await w.ended;
    expect(w.events.filter((e) => e.type === 'ERROR')).toEqual([]);
  });

  it('sends Table rows in watch events when asked (kubectl get -w)', async () => {
    const rv = (await call(sim, 'GET', P)).body.metadata.resourceVersion;
    const w = await openWatch(sim, `${P}?watch=true&resourceVersion=${rv}`, { Accept: TABLE_ACCEPT });
    await call(sim, 'POST', P, pod('tbl'));
    await w.waitFor((e) => e.length >= 1, 'table event');
    expect(w.events[0]!.object.kind).toBe('Table');
    expect(w.events[0]!.object.rows[0].cells[0]).toBe('tbl');
    w.close();
  });

  it('fans one event out to many watchers', async () => {
    const rv = (await call(sim, 'GET', P)).body.metadata.resourceVersion;
    const ws = await Promise.all(
      Array.from({ length: 8 }, () => openWatch(sim, `${P}?watch=true&resourceVersion=${rv}`)),
    );
    await call(sim, 'POST', P, pod('fan'));
    for (const w of ws) {
      await w.waitFor((e) => e.some((x) => x.object.metadata.name === 'fan'), 'fan-out');
      w.close();
    }
    expect(sim.stats().watches).toBeGreaterThanOrEqual(8);
  });

  it('watches one object through the watch path prefix', async () => {
    await call(sim, 'POST', P, pod('single'));
    const w = await openWatch(sim, `/api/v1/watch/namespaces/default/pods/single`);
    await w.waitFor((e) => e.length >= 1, 'initial');
    expect(w.events.map((e) => e.object.metadata.name)).toEqual(['single']);
    w.close();
  });
});
