/**
 * `--state`: snapshot + journal. Every change reaches the disk as a journal line (no rewrite of the
 * whole store per write); a crash (files copied while the simulator runs) loses nothing that was
 * written; a stop folds the journal into the snapshot.
 */
import { appendFileSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectApi } from '../../src/k8s/sim/api.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import {
  journalPathOf,
  loadState,
  StatePersister,
  StateFileError,
  type LoadedState,
} from '../../src/k8s/sim/persistence.js';
import { builtinTypes, ResourceRegistry } from '../../src/k8s/sim/resources.js';
import { Store } from '../../src/k8s/sim/store.js';
import { ServiceAllocator } from '../../src/k8s/sim/strategies.js';
import { tempDir } from '../helpers/tmp.js';
import { call, pod } from './client.js';

const P = '/api/v1/namespaces/default/pods';

/** A store with the simulator's semantics and no HTTP, loaded from `path` like startK8sSim does. */
async function storeAt(path: string): Promise<{ store: Store; api: ObjectApi; loaded: LoadedState }> {
  const registry = new ResourceRegistry(builtinTypes());
  const store = new Store(1000);
  const allocator = new ServiceAllocator();
  const api = new ObjectApi(store, registry, { allocator }, { gracefulPodDeletion: () => false });
  const loaded = await loadState(path, store, registry, allocator);
  return { store, api, loaded };
}

/** Every stored object as JSON, by collection and key: equal dumps mean equal stores. */
function dump(store: Store): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of store.all()) {
    for (const [k, e] of c.range('')) out[`${c.type.group}/${c.type.plural}/${k}`] = JSON.stringify(e.obj);
  }
  return out;
}

async function waitUntil(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The highest rv the journal holds (whole lines only). */
function journalRv(path: string): number {
  const j = journalPathOf(path);
  if (!existsSync(j)) return 0;
  let rv = 0;
  for (const line of readFileSync(j, 'utf8').split('\n').slice(0, -1)) {
    const rec = JSON.parse(line) as { object: { metadata: { resourceVersion: string } } };
    rv = Math.max(rv, Number(rec.object.metadata.resourceVersion));
  }
  return rv;
}

function snapshotRv(path: string): number {
  if (!existsSync(path)) return 0;
  return (JSON.parse(readFileSync(path, 'utf8')) as { resourceVersion: number }).resourceVersion;
}

/** Copies the state files as a crash would leave them, once every write up to `rv` is on disk. */
async function crashCopy(path: string, rv: number, to: string): Promise<void> {
  await waitUntil(`rv ${rv} on disk`, () => Math.max(journalRv(path), snapshotRv(path)) >= rv);
  copyFileSync(path, to);
  if (existsSync(journalPathOf(path))) copyFileSync(journalPathOf(path), journalPathOf(to));
}

describe('state file: snapshot and journal', () => {
  const tmp = tempDir('k8spers-');
  afterAll(() => tmp.cleanup());

  it('journals each write instead of rewriting the snapshot, and a crash copy loads back identically', async () => {
    const statePath = join(tmp.dir, 'a.json');
    const sim: K8sSim = await startK8sSim({ statePath });
    const copy = join(tmp.dir, 'a-crash.json');
    try {
      // the first snapshot (default namespaces) is written at start
      await waitUntil('first snapshot', () => existsSync(statePath));
      const firstSnapshot = readFileSync(statePath, 'utf8');
      for (let i = 0; i < 40; i++)
        expect((await call(sim, 'POST', P, pod(`p${i}`, { i: String(i) }))).status).toBe(201);
      for (let i = 0; i < 40; i += 2) {
        const r = await call(
          sim,
          'PATCH',
          `${P}/p${i}`,
          { metadata: { annotations: { a: `v${i}` } } },
          'application/merge-patch+json',
        );
        expect(r.status).toBe(200);
      }
      for (let i = 1; i < 10; i += 2) expect((await call(sim, 'DELETE', `${P}/p${i}`)).status).toBe(200);
      const last = await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'cm' },
        data: { k: 'v' },
      });
      const lastRv = Number(last.body.metadata.resourceVersion);
      await crashCopy(statePath, lastRv, copy);
      // small writes went to the journal: the snapshot is still the one from the start
      expect(readFileSync(statePath, 'utf8')).toBe(firstSnapshot);
      expect(journalRv(statePath)).toBe(lastRv);
      const restored = await storeAt(copy);
      expect(restored.loaded.journalRecords).toBeGreaterThan(60);
      expect(dump(restored.store)).toEqual(dump(sim.api.store));
      expect(restored.store.resourceVersion).toBe(lastRv);
    } finally {
      await sim.stop();
    }
    // a stop folds the journal into the snapshot and removes it
    expect(existsSync(journalPathOf(statePath))).toBe(false);
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as {
      objects: { metadata: { name: string } }[];
    };
    const names = saved.objects.map((o) => o.metadata.name);
    expect(names).toContain('p0');
    expect(names).toContain('cm');
    expect(names).not.toContain('p1');
  });

  it('restarts from a crash copy with custom resources, deletions and the resourceVersion counter', async () => {
    const statePath = join(tmp.dir, 'b.json');
    const copy = join(tmp.dir, 'b-crash.json');
    const sim = await startK8sSim({ statePath });
    let lastRv: number;
    try {
      await waitUntil('first snapshot', () => existsSync(statePath));
      await call(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
        metadata: { name: 'things.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Cluster',
          names: { plural: 'things', kind: 'Thing' },
          versions: [{ name: 'v1', served: true, storage: true }],
        },
      });
      expect(
        (await call(sim, 'POST', '/apis/example.com/v1/things', { metadata: { name: 't1' }, spec: { v: 1 } }))
          .status,
      ).toBe(201);
      await call(sim, 'POST', '/apis/example.com/v1/things', { metadata: { name: 't2' }, spec: { v: 2 } });
      const del = await call(sim, 'DELETE', '/apis/example.com/v1/things/t2');
      lastRv = Number(del.body.metadata.resourceVersion);
      await crashCopy(statePath, lastRv, copy);
    } finally {
      await sim.stop();
    }
    const b = await startK8sSim({ statePath: copy });
    try {
      expect((await call(b, 'GET', '/apis/example.com/v1/things/t1')).body.spec).toEqual({ v: 1 });
      expect((await call(b, 'GET', '/apis/example.com/v1/things/t2')).status).toBe(404);
      const next = await call(b, 'POST', P, pod('after'));
      expect(Number(next.body.metadata.resourceVersion)).toBeGreaterThan(lastRv);
    } finally {
      await b.stop();
    }
    // the restart folded the journal it loaded into a fresh snapshot, so the copy stands alone now
    expect(existsSync(journalPathOf(copy))).toBe(false);
    const c = await storeAt(copy);
    expect(c.loaded.journalRecords).toBe(0);
    expect(Object.keys(dump(c.store))).toContain('example.com/things/t1');
  });

  it('coalesces many writes into few appends and rewrites the snapshot only when the journal outgrows it', async () => {
    const path = join(tmp.dir, 'c.json');
    const { store, api, loaded } = await storeAt(path);
    const persister = new StatePersister(path, store, loaded, { delayMs: 5, minCompactBytes: 0 });
    store.onEvent((ev) => persister.record(ev));
    const pods = api.registry.get('', 'pods')!;
    const ns = api.registry.get('', 'namespaces')!;
    api.create(ns, undefined, { metadata: { name: 'default' } });
    // one synchronous burst: one write
    for (let i = 0; i < 200; i++) api.create(pods, 'default', pod(`p${i}`));
    await waitUntil('burst written', () => persister.counts.snapshots + persister.counts.appends > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(persister.counts.snapshots + persister.counts.appends).toBe(1);
    // spread-out writes: appends until the journal is as big as the snapshot, then one rewrite
    const snapshotsBefore = persister.counts.snapshots;
    const snapshotSize = readFileSync(path).length;
    let journalled = 0;
    for (let round = 0; persister.counts.snapshots === snapshotsBefore && round < 1000; round++) {
      const e = api.patch(pods, 'default', `p${round % 200}`, 'merge', {
        metadata: { annotations: { round: String(round) } },
      });
      // the journal line: {"type":"MODIFIED","object":OBJECT}\n
      journalled += `{"type":"MODIFIED","object":${e.json!}}\n`.length;
      await new Promise((r) => setTimeout(r, 6));
    }
    expect(persister.counts.snapshots).toBe(snapshotsBefore + 1);
    expect(persister.counts.appends).toBeGreaterThan(1);
    // the rewrite came once the journal had grown past the snapshot, not before
    expect(journalled).toBeGreaterThanOrEqual(snapshotSize);
    expect(journalled).toBeLessThan(snapshotSize * 2);
    await persister.flush();
    const back = await storeAt(path);
    expect(dump(back.store)).toEqual(dump(store));
    expect(back.store.resourceVersion).toBe(store.resourceVersion);
  });

  it('ignores a torn last journal line and records the snapshot already holds', async () => {
    const path = join(tmp.dir, 'd.json');
    const { store, api, loaded } = await storeAt(path);
    const persister = new StatePersister(path, store, loaded, { delayMs: 1 });
    store.onEvent((ev) => persister.record(ev));
    const ns = api.registry.get('', 'namespaces')!;
    const cms = api.registry.get('', 'configmaps')!;
    api.create(ns, undefined, { metadata: { name: 'default' } });
    await waitUntil('snapshot', () => persister.counts.snapshots === 1);
    const snapshotRvNow = store.resourceVersion;
    api.create(cms, 'default', { metadata: { name: 'a' }, data: { x: '1' } });
    await waitUntil('journal', () => journalRv(path) === store.resourceVersion);
    const crashed = join(tmp.dir, 'd-crash.json');
    copyFileSync(path, crashed);
    copyFileSync(journalPathOf(path), journalPathOf(crashed));
    await persister.flush();
    // a record older than the snapshot (left by a crash between rename and truncation) is skipped
    const stale = JSON.stringify({
      type: 'DELETED',
      object: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'default', resourceVersion: String(snapshotRvNow) },
      },
    });
    const journal = readFileSync(journalPathOf(crashed), 'utf8');
    writeFileSync(journalPathOf(crashed), `${stale}\n${journal}`);
    // a torn append: no newline at the end
    appendFileSync(journalPathOf(crashed), '{"type":"ADDED","object":{"apiVersion":"v1","kind":"Conf');
    const back = await storeAt(crashed);
    expect(back.loaded.journalRecords).toBe(1);
    expect(back.api.tryGet(ns, undefined, 'default')).toBeDefined();
    expect(back.api.get(cms, 'default', 'a').obj.data).toEqual({ x: '1' });
    expect(back.store.resourceVersion).toBe(store.resourceVersion);
  });

  it('refuses a journal with a damaged line in the middle, or a record without a resourceVersion', async () => {
    const path = join(tmp.dir, 'e.json');
    writeFileSync(path, '{"version":1,"resourceVersion":1,"objects":[]}');
    writeFileSync(
      journalPathOf(path),
      '{"type":"ADDED","object":{"apiVersion":"v1"\n{"type":"DELETED","object":{"metadata":{"resourceVersion":"3"}}}\n',
    );
    await expect(storeAt(path)).rejects.toThrow(StateFileError);
    writeFileSync(journalPathOf(path), '{"type":"ADDED","object":{"metadata":{"name":"x"}}}\n');
    await expect(storeAt(path)).rejects.toThrow(/resourceVersion/);
  });
});
