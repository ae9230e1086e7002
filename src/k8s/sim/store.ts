/**
 * The object store: one `Collection` per resource type, each with its objects, a sorted key index
 * (for O(page) pagination), a bounded event history (for watch resume) and its open watches.
 * Stored objects are immutable: every write stores a new object, so lists and events can hand out
 * references (and their cached serialisation) without copying.
 */
import type { ResourceType } from './resources.js';
import { typeKey } from './resources.js';
import { SortedKeys } from './sorted-keys.js';
import type { KubeObject } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Entry {
  obj: KubeObject;
  /** JSON of `obj`, computed on first use and shared by every list page and watch event. */
  json?: string;
}

export interface StoredEvent {
  rv: number;
  type: EventType;
  entry: Entry;
  /** The object before a MODIFIED (selector-filtered watches turn matching changes into ADDED/DELETED). */
  old?: KubeObject;
  /** The watch line of the common case (the event's own type, JSON, the stored apiVersion): built once for every watcher. */
  line?: Buffer;
  /** Other serialised watch lines by `<type>|<format>|<apiVersion>` (created on first use). */
  lines?: Map<string, Buffer>;
}

/** Anything that wants every event of a collection: an open watch. */
export interface EventSink {
  deliver(ev: StoredEvent): void;
  /** The collection went away (its CRD was deleted): end the stream. */
  end(): void;
}

export function entryJson(entry: Entry): string {
  if (entry.json === undefined) entry.json = JSON.stringify(entry.obj);
  return entry.json;
}

/**
 * The event as a watch line of its own type with the stored object (`{"type":T,"object":O}\n`),
 * built once: every watcher of the stored version and the state journal write these bytes.
 */
export function storedEventLine(ev: StoredEvent): Buffer {
  ev.line ??= Buffer.from(`{"type":"${ev.type}","object":${entryJson(ev.entry)}}\n`);
  return ev.line;
}

/** Ring buffer of the newest events, binary-searchable by resourceVersion. */
class EventRing {
  private readonly buf: (StoredEvent | undefined)[];
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<StoredEvent | undefined>(Math.max(1, capacity));
  }

  /** Appends; returns the evicted event when the ring was full. */
  push(ev: StoredEvent): StoredEvent | undefined {
    const cap = this.buf.length;
    if (this.length < cap) {
      this.buf[(this.start + this.length) % cap] = ev;
      this.length++;
      return undefined;
    }
    const evicted = this.buf[this.start];
    this.buf[this.start] = ev;
    this.start = (this.start + 1) % cap;
    return evicted;
  }

  private at(i: number): StoredEvent {
    return this.buf[(this.start + i) % this.buf.length]!;
  }

  /** Events with rv > after, oldest first. */
  *since(after: number): Generator<StoredEvent> {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.length; i++) yield this.at(i);
  }

  clear(): void {
    this.buf.fill(undefined);
    this.start = 0;
    this.length = 0;
  }
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class Collection {
  readonly objects = new Map<string, Entry>();
  readonly keys = new SortedKeys();
  readonly watchers = new Set<EventSink>();
  private readonly history: EventRing;
  /** Watches that resume from an rv older than this have missed events: 410 Gone. */
  compactedRv = 0;

  constructor(
    public type: ResourceType,
    historySize: number,
  ) {
    this.history = new EventRing(historySize);
  }

  get(key: string): Entry | undefined {
    return this.objects.get(key);
  }

  eventsSince(rv: number): Iterable<StoredEvent> {
    return this.history.since(rv);
  }

  record(ev: StoredEvent): void {
    const evicted = this.history.push(ev);
    if (evicted) this.compactedRv = evicted.rv;
    for (const w of this.watchers) w.deliver(ev);
  }

  /** Forgets all history: every rv up to `rv` is now too old to resume from. */
  compact(rv: number): void {
    this.history.clear();
    this.compactedRv = Math.max(this.compactedRv, rv);
  }

  /** Entries whose key starts with `prefix`, in key order, beginning after `after` when given. */
  *range(prefix: string, after?: string): Generator<[string, Entry]> {
    const start = after !== undefined && after > prefix ? after : prefix;
    for (const k of this.keys.from(start, after !== undefined && start === after)) {
      if (!k.startsWith(prefix)) return;
      yield [k, this.objects.get(k)!];
    }
  }

  /** Whether any object lives in the namespace (namespaced collections). */
  hasNamespace(ns: string): boolean {
    for (const _ of this.range(`${ns}/`)) return true;
    return false;
  }
}

export type StoreListener = (ev: StoredEvent, collection: Collection) => void;

export class Store {
  private rvCounter = 0;
  private readonly collections = new Map<string, Collection>();
  private readonly listeners: StoreListener[] = [];

  constructor(private readonly historySize: number) {}

  get resourceVersion(): number {
    return this.rvCounter;
  }

  /** Sets the counter (loading persisted state); never moves it backwards. */
  restoreResourceVersion(rv: number): void {
    this.rvCounter = Math.max(this.rvCounter, rv);
  }

  nextResourceVersion(): number {
    this.rvCounter += 1;
    return this.rvCounter;
  }

  collection(type: ResourceType): Collection {
    const key = typeKey(type.group, type.plural);
    let c = this.collections.get(key);
    if (!c) {
      c = new Collection(type, this.historySize);
      this.collections.set(key, c);
    } else c.type = type;
    return c;
  }

  existing(group: string, plural: string): Collection | undefined {
    return this.collections.get(typeKey(group, plural));
  }

  all(): Collection[] {
    return [...this.collections.values()];
  }

  drop(group: string, plural: string): void {
    this.collections.delete(typeKey(group, plural));
  }

  onEvent(listener: StoreListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Stores `obj` (its metadata.resourceVersion already set to `rv`) and tells watchers and listeners. */
  put(c: Collection, key: string, obj: KubeObject, rv: number, type: EventType, old?: KubeObject): Entry {
    // Serialised at write time: every stored object is listed or watched sooner or later, and
    // paying here keeps the first full list of a big store as fast as the next ones.
    const entry: Entry = { obj, json: JSON.stringify(obj) };
    if (!c.objects.has(key)) c.keys.insert(key);
    c.objects.set(key, entry);
    this.emit(c, old ? { rv, type, entry, old } : { rv, type, entry });
    return entry;
  }

  /** Removes the object; `finalObj` (with the deletion's rv) is what DELETED events carry. */
  remove(c: Collection, key: string, finalObj: KubeObject, rv: number): Entry {
    c.objects.delete(key);
    c.keys.remove(key);
    const entry: Entry = { obj: finalObj };
    this.emit(c, { rv, type: 'DELETED', entry });
    return entry;
  }

  /** Puts an object without an event (loading persisted state). */
  load(c: Collection, key: string, obj: KubeObject): void {
    if (!c.objects.has(key)) c.keys.insert(key);
    c.objects.set(key, { obj });
  }

  private emit(c: Collection, ev: StoredEvent): void {
    c.record(ev);
    for (const l of this.listeners) l(ev, c);
  }
}
