/**
 * An informer's local cache: objects by key (`namespace/name` or `name`) plus indexes that answer
 * "which objects have index value V" from a map lookup, without scanning the store.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Index values of an object (none, one or several). */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** Read side of a store, what controllers get. */
export interface ReadonlyStore<T> {
  readonly size: number;
  get(key: string): T | undefined;
  getByName(name: string, namespace?: string): T | undefined;
  has(key: string): boolean;
  keys(): string[];
  list(): T[];
  /** Objects whose index `indexName` yields `value`. Throws for an unknown index name. */
  byIndex(indexName: string, value: string): T[];
  /** Keys of those objects. */
  indexKeys(indexName: string, value: string): string[];
  /** Index values currently present for `indexName`. */
  indexValues(indexName: string): string[];
}

export class UnknownIndexError extends Error {
  constructor(indexName: string) {
    super(`no index named ${indexName}`);
    this.name = 'UnknownIndexError';
  }
}

export class Store<T extends KubernetesObject> implements ReadonlyStore<T> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** indexName -> index value -> keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Adds an index (built at once from the objects already stored). A name already present is kept. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) return;
    const index = new Map<string, Set<string>>();
    for (const [key, obj] of this.items) {
      for (const v of fn(obj)) {
        let keys = index.get(v);
        if (!keys) index.set(v, (keys = new Set()));
        keys.add(key);
      }
    }
    this.indexers.set(name, fn);
    this.indices.set(name, index);
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  list(): T[] {
    return [...this.items.values()];
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new UnknownIndexError(indexName);
    const keys = index.get(value);
    return keys ? [...keys] : [];
  }

  indexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new UnknownIndexError(indexName);
    return [...index.keys()];
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    this.index(key, obj);
    return old;
  }

  /** Removes; returns the removed object. */
  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const v of fn(obj)) {
        let keys = index.get(v);
        if (!keys) index.set(v, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const v of fn(obj)) {
        const keys = index.get(v);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(v);
      }
    }
  }
}
