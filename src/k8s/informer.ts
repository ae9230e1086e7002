/**
 * A typed informer: list (paginated) then watch from the list's resourceVersion, keeping a local
 * store with indexes and calling handlers for each add, update and delete.
 *
 * Why not client-node's makeInformer/ListWatch: in 1.4 it lists in one request (no pagination),
 * does not ask for bookmarks, gives up on any watch error other than 410 (no backoff, no resume),
 * passes no old object to update handlers, and has no indexes. We keep client-node for the
 * transport (its `Watch` class and the typed list APIs) and do the protocol here, as client-go's
 * reflector does:
 *
 * - the list is paged (`limit`, default 500) and replaces the store by differences: objects missing
 *   from a relist are delivered as deletes, changed ones as updates, so a consumer sees one
 *   consistent sequence even across a 410 Gone;
 * - the watch asks for bookmarks and moves its resourceVersion forward on them, so a reconnect
 *   resumes without a relist;
 * - 410 (HTTP status or an ERROR event with code 410) relists; any other failure (5xx, 429, a
 *   dropped connection) backs off, capped and jittered, then resumes from the last resourceVersion;
 * - a watchdog restarts a watch that went silent past its server-side timeout.
 */
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { httpStatusOf, InformerStoppedError, K8sRequestError, statusReasonOf } from './errors.js';
import {
  collectionPath,
  objectKey,
  resourceClient,
  type ListPage,
  type ResourceClient,
  type ResourceType,
} from './resources.js';
import { Store, type IndexFunc, type ReadonlyStore } from './store.js';

export interface EventHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
  /** After every complete list (initial and relists) has been applied to the store. */
  onSync?(info: { initial: boolean }): void;
}

/** The subset of a pino logger the informer uses. */
export interface InformerLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Starts one watch stream; client-node's `Watch.watch` by default. `onDone` is called once when
 * the stream ends (null for a clean close). Injectable so the list/watch protocol can be driven
 * event by event in unit tests.
 */
export type WatchFn = (
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (phase: string, obj: unknown) => void,
  onDone: (err: unknown) => void,
) => Promise<{ abort(): void }>;

export interface InformerOptions<T> {
  /** Name for logs; default the resource plural. */
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** List page size. Default 500. */
  pageSize?: number;
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Backoff after list/watch failures. Default 200 ms doubling to 30 s, 50% jitter. */
  backoff?: BackoffOptions;
  /**
   * Server-side watch timeout, seconds; randomised between this and twice this per watch so many
   * informers do not reconnect in step. Default 300.
   */
  watchTimeoutSeconds?: number;
  logger?: InformerLogger;
  /** Watch transport; default client-node's Watch on the informer's KubeConfig. */
  watchFn?: WatchFn;
}

export interface InformerStats {
  lists: number;
  relists: number;
  listPages: number;
  listErrors: number;
  watches: number;
  watchErrors: number;
  gone: number;
  events: number;
  bookmarks: number;
  handlerErrors: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000, factor: 2, jitter: 0.5 };

type WatchOutcome =
  | { kind: 'closed'; events: number; durationMs: number }
  | { kind: 'gone' }
  | { kind: 'error'; error: unknown; events: number }
  | { kind: 'stopped' };

/** A resource version as a number when it is one (Kubernetes says opaque; etcd and our simulator use integers). */
function rvOf(obj: KubernetesObject | undefined): string {
  return obj?.metadata?.resourceVersion ?? '';
}

function retryAfterMs(err: unknown): number {
  const headers = (err as { headers?: Record<string, string> } | undefined)?.headers;
  const v = headers?.['retry-after'] ?? headers?.['Retry-After'];
  const s = v === undefined ? NaN : Number(v);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

export class Informer<T extends KubernetesObject> {
  readonly name: string;
  readonly type: ResourceType<T>;
  private readonly client: ResourceClient<T>;
  private readonly watchFn: WatchFn;
  private readonly opts: InformerOptions<T>;
  private readonly backoff: BackoffOptions;
  private readonly localStore: Store<T>;
  private readonly handlers = new Set<EventHandlers<T>>();
  private rv = '';
  private started = false;
  private stopped = false;
  private hasSyncedFlag = false;
  private syncWaiters: Array<{ resolve(): void; reject(e: unknown): void }> = [];
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private currentWatchAbort: (() => void) | undefined;
  private readonly counters: InformerStats = {
    lists: 0,
    relists: 0,
    listPages: 0,
    listErrors: 0,
    watches: 0,
    watchErrors: 0,
    gone: 0,
    events: 0,
    bookmarks: 0,
    handlerErrors: 0,
  };

  constructor(
    kc: KubeConfig,
    type: ResourceType<T>,
    opts: InformerOptions<T> = {},
    client?: ResourceClient<T>,
  ) {
    this.type = type;
    this.name = opts.name ?? type.plural;
    this.opts = opts;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.client = client ?? resourceClient(kc, type);
    if (opts.watchFn) {
      this.watchFn = opts.watchFn;
    } else {
      const watch = new Watch(kc);
      this.watchFn = (path, query, onEvent, onDone) => watch.watch(path, query, onEvent, onDone);
    }
    this.localStore = new Store<T>(opts.indexers ?? {});
  }

  /** The local cache. */
  get store(): ReadonlyStore<T> {
    return this.localStore;
  }

  /** The resourceVersion the next watch resumes from. */
  get resourceVersion(): string {
    return this.rv;
  }

  hasSynced(): boolean {
    return this.hasSyncedFlag;
  }

  stats(): InformerStats {
    return { ...this.counters };
  }

  /**
   * Registers handlers; returns a function that removes them. Handlers added after objects are
   * already in the store first receive an add for each of them, so a late subscriber misses nothing.
   */
  addHandlers(h: EventHandlers<T>): () => void {
    this.handlers.add(h);
    if (this.localStore.size > 0) {
      for (const obj of this.localStore.list()) this.call(() => h.onAdd?.(obj));
    }
    return () => this.handlers.delete(h);
  }

  /** Adds indexes (e.g. when a second controller shares this informer); existing names are kept. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const [name, fn] of Object.entries(indexers)) this.localStore.addIndexer(name, fn);
  }

  /** Starts listing and watching in the background (idempotent). */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.loop = this.run();
    return this;
  }

  /** Resolves once the first full list is in the store and its adds were delivered. */
  synced(): Promise<void> {
    if (this.hasSyncedFlag) return Promise.resolve();
    if (this.stopped)
      return Promise.reject(new InformerStoppedError(`informer ${this.name} stopped before its first sync`));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** Stops the watch and the loop; pending `synced()` calls reject with InformerStoppedError. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController.abort();
    this.currentWatchAbort?.();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters)
      w.reject(new InformerStoppedError(`informer ${this.name} stopped before its first sync`));
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.listAndReplace();
          needList = false;
          failures = 0;
        } catch (err) {
          if (this.stopped) break;
          this.counters.listErrors++;
          failures++;
          await this.pause(err, failures, 'list');
          continue;
        }
      }
      const outcome = await this.watchOnce();
      if (outcome.kind === 'stopped' || this.stopped) break;
      if (outcome.kind === 'gone') {
        // Our resourceVersion left the server's history window: only a relist can catch up.
        this.counters.gone++;
        this.opts.logger?.debug({ informer: this.name, rv: this.rv }, 'watch expired (410), relisting');
        needList = true;
        continue;
      }
      if (outcome.kind === 'error') {
        this.counters.watchErrors++;
        // A watch that delivered events was healthy until now: start the backoff over.
        failures = outcome.events > 0 ? 1 : failures + 1;
        await this.pause(outcome.error, failures, 'watch');
        continue;
      }
      // A clean close: the server-side timeout or a dropped connection. Resume at once, unless the
      // server keeps closing immediately, which would otherwise spin.
      if (outcome.events === 0 && outcome.durationMs < 1000) {
        failures++;
        await this.pause(undefined, failures, 'watch');
      } else {
        failures = 0;
      }
    }
  }

  private async pause(err: unknown, failures: number, what: string): Promise<void> {
    const delay = Math.min(
      this.backoff.maxMs,
      Math.max(backoffDelay(this.backoff, failures), retryAfterMs(err)),
    );
    if (err !== undefined) {
      this.opts.logger?.warn(
        {
          informer: this.name,
          status: httpStatusOf(err),
          reason: statusReasonOf(err),
          failures,
          delayMs: Math.round(delay),
        },
        `${what} failed, retrying`,
      );
    }
    await sleep(delay, this.stopController.signal);
  }

  /** Lists every page, then applies the differences to the store. */
  private async listAndReplace(): Promise<void> {
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let rv = '';
    do {
      if (this.stopped) return;
      const page = await this.listPage(continueToken);
      if (!page) return;
      this.counters.listPages++;
      for (const item of page.items) fresh.set(objectKey(item), item);
      // Every page of one paginated list carries the snapshot's resourceVersion.
      rv = page.resourceVersion || rv;
      continueToken = page.continueToken;
    } while (continueToken);
    if (this.stopped) return;
    const initial = !this.hasSyncedFlag;
    if (initial) this.counters.lists++;
    else this.counters.relists++;
    this.replace(fresh);
    this.rv = rv;
    this.emit((h) => h.onSync?.({ initial }));
    if (initial) {
      this.hasSyncedFlag = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  /**
   * One page, retried in place on 429/5xx/transport errors: restarting the whole list on every
   * failed page would rarely finish a long list on a flaky server. A continue token stays valid
   * until the server compacts its snapshot; then it answers 410 and the list restarts (by throwing).
   */
  private async listPage(continueToken: string | undefined): Promise<ListPage<T> | undefined> {
    const pageRetries = 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.list({
          limit: this.opts.pageSize ?? 500,
          continueToken,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
        });
      } catch (err) {
        const status = httpStatusOf(err);
        const retryable = status === 429 || status >= 500 || status === 0;
        if (this.stopped) return undefined;
        if (!retryable || attempt >= pageRetries) throw err;
        this.counters.listErrors++;
        await this.pause(err, attempt, 'list page');
      }
    }
  }

  /** Replaces the store by `fresh`, emitting deletes first (so freed names/IPs are released before reuse), then adds and updates. */
  private replace(fresh: Map<string, T>): void {
    for (const key of this.localStore.keys()) {
      if (!fresh.has(key)) {
        const old = this.localStore.remove(key)!;
        this.emit((h) => h.onDelete?.(old));
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.localStore.get(key);
      if (!old) {
        this.localStore.upsert(key, obj);
        this.emit((h) => h.onAdd?.(obj));
      } else if (rvOf(old) !== rvOf(obj)) {
        this.localStore.upsert(key, obj);
        this.emit((h) => h.onUpdate?.(old, obj));
      }
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    const base = this.opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.round(base * (1 + Math.random()));
    const started = performance.now();
    let events = 0;
    this.counters.watches++;
    return new Promise<WatchOutcome>((resolve) => {
      let ended = false;
      let controller: { abort(): void } | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      const finish = (outcome: WatchOutcome): void => {
        if (ended) return;
        ended = true;
        clearTimeout(watchdog);
        this.currentWatchAbort = undefined;
        controller?.abort();
        resolve(outcome);
      };
      // The server closes the watch after timeoutSeconds; silence well beyond that means a dead peer.
      const armWatchdog = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(
          () => finish({ kind: 'closed', events, durationMs: performance.now() - started }),
          (timeoutSeconds + 30) * 1000,
        );
        watchdog.unref?.();
      };
      this.currentWatchAbort = () => finish({ kind: 'stopped' });
      if (this.stopped) return finish({ kind: 'stopped' });
      armWatchdog();
      const onEvent = (phase: string, raw: unknown): void => {
        if (ended) return;
        events++;
        armWatchdog();
        let outcome: WatchOutcome | undefined;
        try {
          outcome = this.applyEvent(phase, raw);
        } catch (err) {
          // client-node's Watch swallows exceptions thrown by this callback; an event we could not
          // apply must not vanish silently, so end the watch and resume from the last applied rv.
          outcome = { kind: 'error', error: err, events: 0 };
        }
        if (outcome) finish(outcome.kind === 'error' ? { ...outcome, events: events - 1 } : outcome);
      };
      const onDone = (err: unknown): void => {
        if (ended) return;
        if (!err) return finish({ kind: 'closed', events, durationMs: performance.now() - started });
        if (httpStatusOf(err) === 410) return finish({ kind: 'gone' });
        finish({ kind: 'error', error: err, events });
      };
      const path = collectionPath(this.type);
      this.watchFn(
        path,
        {
          resourceVersion: this.rv,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
        },
        onEvent,
        onDone,
      )
        .then((c) => {
          controller = c;
          if (ended) c.abort();
        })
        .catch((err: unknown) => finish({ kind: 'error', error: err, events }));
    });
  }

  /** Applies one watch event; returns an outcome when the event ends the watch. */
  private applyEvent(phase: string, raw: unknown): WatchOutcome | undefined {
    if (phase === 'ERROR') {
      const status = raw as { code?: number; message?: string; reason?: string } | undefined;
      if (status?.code === 410 || status?.reason === 'Expired' || status?.reason === 'Gone')
        return { kind: 'gone' };
      return {
        kind: 'error',
        error: new K8sRequestError(
          `watch ${this.name}`,
          status?.code ?? 0,
          status?.message ?? status?.reason,
        ),
        events: 0,
      };
    }
    const meta = (raw as KubernetesObject | undefined)?.metadata;
    if (phase === 'BOOKMARK') {
      this.counters.bookmarks++;
      if (meta?.resourceVersion) this.rv = meta.resourceVersion;
      return undefined;
    }
    if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED') return undefined;
    this.counters.events++;
    const obj = this.client.decode(raw);
    const key = objectKey(obj);
    if (phase === 'DELETED') {
      const old = this.localStore.remove(key);
      // A delete of something we never had (e.g. created and deleted between list and watch) is not news.
      if (old) this.emit((h) => h.onDelete?.(obj));
    } else {
      const old = this.localStore.upsert(key, obj);
      if (old) this.emit((h) => h.onUpdate?.(old, obj));
      else this.emit((h) => h.onAdd?.(obj));
    }
    if (meta?.resourceVersion) this.rv = meta.resourceVersion;
    return undefined;
  }

  private emit(fn: (h: EventHandlers<T>) => void): void {
    // A snapshot: a handler registered by another handler gets the store replay, not this event again.
    for (const h of [...this.handlers]) this.call(() => fn(h));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // One broken handler must not stop the informer or starve the other handlers.
      this.counters.handlerErrors++;
      this.opts.logger?.warn({ informer: this.name, err }, 'event handler threw');
    }
  }
}

/** Waits until every informer has synced (rejects if one is stopped first). */
export async function waitForCacheSync(
  ...informers: Array<Informer<KubernetesObject> | { synced(): Promise<void> }>
): Promise<void> {
  await Promise.all(informers.map((i) => i.synced()));
}
