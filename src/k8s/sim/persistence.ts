/**
 * `--state FILE`: every object and the resourceVersion counter in one JSON file, written behind
 * the changes (debounced) and atomically (temp file + rename), loaded at start.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ResourceRegistry } from './resources.js';
import { objectKey, entryJson, type Store } from './store.js';
import { crdType, type ServiceAllocator } from './strategies.js';
import type { KubeObject } from './types.js';

export class StateFileError extends Error {
  constructor(path: string, cause: string) {
    super(`cannot load simulator state from ${path}: ${cause}`);
    this.name = 'StateFileError';
  }
}

interface StateFile {
  version: 1;
  resourceVersion: number;
  objects: KubeObject[];
}

const CRD_API = 'apiextensions.k8s.io/v1';

/** Loads the file if it exists; returns the number of objects loaded. */
export async function loadState(
  path: string,
  store: Store,
  registry: ResourceRegistry,
  allocator: ServiceAllocator,
): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new StateFileError(path, (err as Error).message);
  }
  let state: StateFile;
  try {
    state = JSON.parse(text) as StateFile;
  } catch (err) {
    throw new StateFileError(path, (err as Error).message);
  }
  if (!Array.isArray(state.objects) || typeof state.resourceVersion !== 'number') {
    throw new StateFileError(path, 'expected {resourceVersion, objects}');
  }
  // CRDs first: their objects need the types they define.
  const crds = state.objects.filter((o) => o.apiVersion === CRD_API && o.kind === 'CustomResourceDefinition');
  for (const crd of crds) {
    const t = crdType(crd);
    if (!registry.get(t.group, t.plural)?.builtin) registry.add(t);
  }
  let n = 0;
  for (const obj of state.objects) {
    const t = registry.findByKind(String(obj.apiVersion), String(obj.kind));
    if (!t) continue;
    store.load(store.collection(t), objectKey(obj.metadata.namespace, obj.metadata.name!), obj);
    if (t.group === '' && t.plural === 'services') allocator.reserve(obj);
    n++;
  }
  store.restoreResourceVersion(state.resourceVersion);
  // Clients' resourceVersions from before the restart cannot be resumed: history starts now.
  for (const c of store.all()) c.compact(store.resourceVersion);
  return n;
}

export class StatePersister {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private writes = 0;
  private lastWriteMs = 0;
  /** The last failed background write (the next change retries). */
  lastError: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly store: Store,
    private readonly delayMs = 50,
  ) {}

  /** Called on every change; coalesces bursts into one write. */
  schedule(): void {
    this.dirty = true;
    if (this.closed || this.timer || this.writing) return;
    // A big store takes a while to write: space writes out so they never dominate the process.
    const delay = Math.max(this.delayMs, this.lastWriteMs * 4);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow().catch((err: unknown) => {
        this.lastError = err instanceof Error ? err : new Error(String(err));
      });
    }, delay);
  }

  private async writeNow(): Promise<void> {
    if (this.writing) {
      await this.writing;
      return;
    }
    this.dirty = false;
    this.writing = this.write();
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
    if (this.dirty && !this.closed) this.schedule();
  }

  private async write(): Promise<void> {
    const started = Date.now();
    const parts: string[] = [];
    for (const c of this.store.all()) {
      for (const [, e] of c.range('')) parts.push(entryJson(e));
    }
    const text = `{"version":1,"resourceVersion":${this.store.resourceVersion},"objects":[\n${parts.join(',\n')}\n]}\n`;
    const tmp = `${this.path}.tmp-${process.pid}-${++this.writes}`;
    await writeFile(tmp, text);
    await rename(tmp, this.path);
    this.lastWriteMs = Date.now() - started;
  }

  /** Writes any pending change now and stops scheduling (on stop). */
  async flush(): Promise<void> {
    this.closed = true;
    for (;;) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (!this.dirty) return;
      this.dirty = false;
      this.writing = this.write();
      try {
        await this.writing;
      } finally {
        this.writing = undefined;
      }
    }
  }
}
