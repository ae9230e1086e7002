/**
 * The informer's list/watch protocol driven event by event: a scripted list endpoint and a
 * scripted watch transport stand in for the server, so every step (pagination, bookmarks, 410,
 * errors, relist differences) is checked deterministically. The same code against the real HTTP
 * simulator is in informer.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Informer, type WatchFn } from '../../src/k8s/informer.js';
import {
  customResource,
  objectKey,
  type ListPage,
  type ListParams,
  type ResourceClient,
} from '../../src/k8s/resources.js';
import { InformerStoppedError } from '../../src/k8s/errors.js';
import { waitFor } from '../../src/runtime/process.js';

interface Thing extends KubernetesObject {
  spec?: { node?: string; v?: number };
}

const THINGS = customResource<Thing>({
  group: 'test.example',
  version: 'v1',
  plural: 'things',
  kind: 'Thing',
  namespaced: true,
});

function thing(name: string, rv: number, node = 'n1', v = 0): Thing {
  return {
    apiVersion: 'test.example/v1',
    kind: 'Thing',
    metadata: { name, namespace: 'ns', resourceVersion: String(rv) },
    spec: { node, v },
  };
}

/** A scripted server: the list answers from `objects`; each watch is a stream the test drives. */
class FakeServer {
  objects = new Map<string, Thing>();
  rv = 1;
  listCalls: ListParams[] = [];
  failNextLists = 0;
  /** Fail the page with this continue token: `times` more times, with HTTP `code`. */
  failPage: { token: string; times: number; code: number } | undefined;
  watches: Array<{
    query: Record<string, unknown>;
    emit(type: string, obj: unknown): void;
    end(err: unknown): void;
    aborted: boolean;
  }> = [];

  put(t: Thing): void {
    this.objects.set(objectKey(t), t);
  }

  client(): ResourceClient<Thing> {
    return {
      type: THINGS,
      list: async (p: ListParams): Promise<ListPage<Thing>> => {
        this.listCalls.push(p);
        if (this.failNextLists > 0) {
          this.failNextLists--;
          throw Object.assign(new Error('boom'), { code: 500 });
        }
        if (this.failPage && p.continueToken === this.failPage.token && this.failPage.times > 0) {
          this.failPage.times--;
          throw Object.assign(new Error('page failed'), { code: this.failPage.code });
        }
        const all = [...this.objects.values()].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
        const start = p.continueToken ? Number(p.continueToken) : 0;
        const end = start + (p.limit ?? all.length);
        return {
          items: all.slice(start, end),
          resourceVersion: String(this.rv),
          continueToken: end < all.length ? String(end) : undefined,
        };
      },
      get: () => Promise.reject(new Error('unused')),
      patch: () => Promise.reject(new Error('unused')),
      patchWithoutAnswer: () => Promise.reject(new Error('unused')),
      decode: (raw) => raw as Thing,
    };
  }

  watchFn(): WatchFn {
    return async (_path, query, onEvent, onDone) => {
      let done = false;
      const w = {
        query,
        aborted: false,
        emit: (type: string, obj: unknown) => {
          if (!done) onEvent(type, obj);
        },
        end: (err: unknown) => {
          if (done) return;
          done = true;
          onDone(err);
        },
      };
      this.watches.push(w);
      return {
        abort: () => {
          w.aborted = true;
          w.end(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        },
      };
    };
  }

  lastWatch(): FakeServer['watches'][number] {
    return this.watches[this.watches.length - 1]!;
  }
}

/** Records handler calls and checks the sequence is consistent (no update/delete of unknown keys, no double add). */
function recorder(): {
  log: string[];
  view: Map<string, Thing>;
  errors: string[];
  handlers: Parameters<Informer<Thing>['addHandlers']>[0];
} {
  const log: string[] = [];
  const view = new Map<string, Thing>();
  const errors: string[] = [];
  return {
    log,
    view,
    errors,
    handlers: {
      onAdd: (o) => {
        const k = objectKey(o);
        if (view.has(k)) errors.push(`add of known ${k}`);
        view.set(k, o);
        log.push(`add ${k}@${o.metadata?.resourceVersion}`);
      },
      onUpdate: (old, o) => {
        const k = objectKey(o);
        if (view.get(k) !== old) errors.push(`update of ${k} with a stale old object`);
        view.set(k, o);
        log.push(`update ${k}@${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`);
      },
      onDelete: (o) => {
        const k = objectKey(o);
        if (!view.has(k)) errors.push(`delete of unknown ${k}`);
        view.delete(k);
        log.push(`delete ${k}`);
      },
    },
  };
}

const fastBackoff = { initialMs: 5, maxMs: 20, factor: 2 };

function setup(pageSize = 2): { srv: FakeServer; inf: Informer<Thing>; rec: ReturnType<typeof recorder> } {
  const srv = new FakeServer();
  const inf = new Informer<Thing>(
    new KubeConfig(),
    THINGS,
    {
      pageSize,
      backoff: fastBackoff,
      watchFn: srv.watchFn(),
      indexers: { byNode: (t) => (t.spec?.node ? [t.spec.node] : []) },
    },
    srv.client(),
  );
  const rec = recorder();
  inf.addHandlers(rec.handlers);
  return { srv, inf, rec };
}

describe('Informer protocol', () => {
  it('lists in pages, syncs, then watches from the list resourceVersion with bookmarks', async () => {
    const { srv, inf, rec } = setup(2);
    for (const n of ['a', 'b', 'c', 'd', 'e']) srv.put(thing(n, 3));
    srv.rv = 10;
    inf.start();
    await inf.synced();
    expect(inf.hasSynced()).toBe(true);
    expect(srv.listCalls.map((c) => c.continueToken)).toEqual([undefined, '2', '4']);
    expect(srv.listCalls.every((c) => c.limit === 2)).toBe(true);
    expect(rec.view.size).toBe(5);
    await waitFor('watch', async () => srv.watches.length === 1);
    expect(srv.lastWatch().query).toMatchObject({ resourceVersion: '10', allowWatchBookmarks: true });
    await inf.stop();
  });

  it('applies watch events, advances on bookmarks and resumes from there after a clean close', async () => {
    const { srv, inf, rec } = setup();
    srv.put(thing('a', 3, 'n1'));
    srv.rv = 5;
    inf.start();
    await inf.synced();
    await waitFor('watch', async () => srv.watches.length === 1);
    const w = srv.lastWatch();
    w.emit('ADDED', thing('b', 6, 'n2'));
    w.emit('MODIFIED', thing('a', 7, 'n2'));
    w.emit('DELETED', thing('b', 8, 'n2'));
    w.emit('DELETED', thing('never-seen', 9));
    w.emit('BOOKMARK', { kind: 'Thing', metadata: { resourceVersion: '42' } });
    expect(rec.log).toEqual(['add ns/a@3', 'add ns/b@6', 'update ns/a@3->7', 'delete ns/b']);
    expect(inf.resourceVersion).toBe('42');
    expect(inf.store.byIndex('byNode', 'n2').map(objectKey)).toEqual(['ns/a']);
    expect(inf.store.byIndex('byNode', 'n1')).toEqual([]);
    w.end(null); // server-side timeout
    await waitFor('rewatch', async () => srv.watches.length === 2);
    expect(srv.lastWatch().query.resourceVersion).toBe('42');
    expect(srv.listCalls.length).toBe(1); // no relist
    expect(rec.errors).toEqual([]);
    await inf.stop();
  });

  it('relists on an ERROR 410 event and delivers only the differences', async () => {
    const { srv, inf, rec } = setup();
    for (const n of ['a', 'b', 'c']) srv.put(thing(n, 3));
    srv.rv = 5;
    inf.start();
    await inf.synced();
    await waitFor('watch', async () => srv.watches.length === 1);
    // While the watch was behind: b deleted, a modified, d added, c unchanged.
    srv.objects.delete('ns/b');
    srv.put(thing('a', 20));
    srv.put(thing('d', 21));
    srv.rv = 22;
    rec.log.length = 0;
    srv
      .lastWatch()
      .emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await waitFor('rewatch', async () => srv.watches.length === 2);
    expect(rec.log).toEqual(['delete ns/b', 'update ns/a@3->20', 'add ns/d@21']);
    expect(srv.lastWatch().query.resourceVersion).toBe('22');
    expect(inf.stats()).toMatchObject({ gone: 1, relists: 1, lists: 1 });
    expect([...rec.view.keys()].sort()).toEqual(inf.store.keys().sort());
    expect(rec.errors).toEqual([]);
    await inf.stop();
  });

  it('relists on an HTTP 410 answer to the watch request', async () => {
    const { srv, inf, rec } = setup();
    srv.put(thing('a', 3));
    inf.start();
    await inf.synced();
    await waitFor('watch', async () => srv.watches.length === 1);
    srv.objects.clear();
    srv.lastWatch().end(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await waitFor('rewatch', async () => srv.watches.length === 2);
    expect(rec.log).toEqual(['add ns/a@3', 'delete ns/a']);
    await inf.stop();
  });

  it('backs off and resumes from the same resourceVersion after a watch error, without relisting', async () => {
    const { srv, inf } = setup();
    srv.rv = 7;
    inf.start();
    await inf.synced();
    await waitFor('watch', async () => srv.watches.length === 1);
    srv.lastWatch().end(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
    await waitFor('rewatch', async () => srv.watches.length === 2);
    srv.lastWatch().emit('ERROR', { kind: 'Status', code: 500, message: 'etcd hiccup' });
    await waitFor('rewatch 2', async () => srv.watches.length === 3);
    expect(srv.lastWatch().query.resourceVersion).toBe('7');
    expect(inf.stats()).toMatchObject({ watchErrors: 2, lists: 1, relists: 0 });
    await inf.stop();
  });

  it('retries a failing list with backoff before syncing', async () => {
    const { srv, inf } = setup();
    srv.put(thing('a', 1));
    srv.failNextLists = 3;
    inf.start();
    await inf.synced();
    expect(srv.listCalls.length).toBe(4);
    expect(inf.store.size).toBe(1);
    await inf.stop();
  });

  it('retries a failed page with the same continue token, and restarts the list on 410', async () => {
    const { srv, inf } = setup(2);
    for (const n of ['a', 'b', 'c', 'd', 'e']) srv.put(thing(n, 1));
    srv.failPage = { token: '2', times: 2, code: 503 };
    inf.start();
    await inf.synced();
    expect(srv.listCalls.map((c) => c.continueToken ?? '-')).toEqual(['-', '2', '2', '2', '4']);
    await inf.stop();

    const other = setup(2);
    for (const n of ['a', 'b', 'c', 'd', 'e']) other.srv.put(thing(n, 1));
    other.srv.failPage = { token: '4', times: 1, code: 410 };
    other.inf.start();
    await other.inf.synced();
    expect(other.srv.listCalls.map((c) => c.continueToken ?? '-')).toEqual(['-', '2', '4', '-', '2', '4']);
    expect(other.inf.store.size).toBe(5);
    await other.inf.stop();
  });

  it('replays the store to handlers added late and rejects synced() when stopped first', async () => {
    const { srv, inf } = setup();
    srv.put(thing('a', 1));
    srv.put(thing('b', 1));
    inf.start();
    await inf.synced();
    const late = recorder();
    inf.addHandlers(late.handlers);
    expect(late.log.sort()).toEqual(['add ns/a@1', 'add ns/b@1']);
    await inf.stop();
    expect(srv.lastWatch()?.aborted ?? true).toBe(true);

    const other = setup();
    other.srv.failNextLists = 1_000;
    other.inf.start();
    const p = other.inf.synced();
    await other.inf.stop();
    await expect(p).rejects.toBeInstanceOf(InformerStoppedError);
  });

  it('keeps going when a handler throws', async () => {
    const { srv, inf, rec } = setup();
    inf.addHandlers({
      onAdd: () => {
        throw new Error('bad handler');
      },
    });
    srv.put(thing('a', 1));
    inf.start();
    await inf.synced();
    expect(rec.view.size).toBe(1);
    expect(inf.stats().handlerErrors).toBe(1);
    await inf.stop();
  });
});
