/**
 * `--state FILE`: every object and the resourceVersion counter, kept as a snapshot plus a journal.
 *
 * - FILE is a snapshot: `{"version":1,"resourceVersion":N,"objects":[...]}`, written atomically
 *   (temp file + rename). It is what a stopped simulator leaves behind (stop folds the journal in).
 * - FILE.journal holds the changes since the snapshot, one line each, appended behind the changes
 *   (debounced). A line is the change's watch event (`{"type":"ADDED"|"MODIFIED"|"DELETED",
 *   "object":OBJECT}`, the object carrying the change's resourceVersion): the very bytes the watch
 *   streams write, built once per change. A write costs the size of the changed object, not of
 *   the store: rewriting the whole store per burst of writes cost a big store a core's worth of
 *   CPU. The snapshot is rewritten only when the journal has grown as large as it (amortised O(1)
 *   per written byte), and at stop.
 *
 * Loading reads the snapshot, then replays the journal records newer than its resourceVersion (a
 * crash between a snapshot's rename and the journal's truncation leaves older ones, already in
 * it), ignoring a torn last line (a crash mid-append).
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import type { ResourceRegistry } from './resources.js';
import { objectKey, entryJson, storedEventLine, type Entry, type Store, type StoredEvent } from './store.js';
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

interface JournalRecord {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

/** What loadState found: the persister starts from it. */
export interface LoadedState {
  /** Objects now in the store. */
  objects: number;
  /** Whether FILE existed. */
  snapshot: boolean;
  /** FILE's size in bytes (0 when absent). */
  snapshotBytes: number;
  /** Journal records applied on top of the snapshot. */
  journalRecords: number;
  /** The journal's size in bytes (0 when absent). */
  journalBytes: number;
  /** The store's resourceVersion counter right after loading. */
  resourceVersion: number;
}

const CRD_API = 'apiextensions.k8s.io/v1';

export function journalPathOf(path: string): string {
  return `${path}.journal`;
}

/** Identity of a stored object across versions of it: group, kind, namespace/name. */
function identity(obj: KubeObject): string {
  const apiVersion = String(obj.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return `${group}|${String(obj.kind)}|${objectKey(obj.metadata?.namespace, String(obj.metadata?.name))}`;
}

async function readIfExists(path: string, what: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(what, (err as Error).message);
  }
}

/** A journal record with its resourceVersion (the object's). */
interface JournalChange {
  rv: number;
  deleted: boolean;
  object: KubeObject;
}

/** Journal records in file order; a last line without its newline (a torn append) is ignored. */
function parseJournal(text: string, path: string): JournalChange[] {
  const lines = text.split('\n');
  // Everything after the last newline is an unfinished append.
  lines.pop();
  const out: JournalChange[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    let rec: JournalRecord;
    try {
      rec = JSON.parse(line) as JournalRecord;
    } catch (err) {
      throw new StateFileError(path, `journal line ${i + 1}: ${(err as Error).message}`);
    }
    const rv = Number(rec?.object?.metadata?.resourceVersion);
    const known = rec?.type === 'ADDED' || rec?.type === 'MODIFIED' || rec?.type === 'DELETED';
    if (!known || !Number.isInteger(rv)) {
      throw new StateFileError(
        path,
        `journal line ${i + 1}: expected {type: ADDED|MODIFIED|DELETED, object} with a resourceVersion`,
      );
    }
    out.push({ rv, deleted: rec.type === 'DELETED', object: rec.object });
  }
  return out;
}

/** Loads the snapshot and journal if they exist. */
export async function loadState(
  path: string,
  store: Store,
  registry: ResourceRegistry,
  allocator: ServiceAllocator,
): Promise<LoadedState> {
  const text = await readIfExists(path, path);
  let state: StateFile = { version: 1, resourceVersion: 0, objects: [] };
  if (text !== undefined) {
    try {
      state = JSON.parse(text) as StateFile;
    } catch (err) {
      throw new StateFileError(path, (err as Error).message);
    }
    if (!Array.isArray(state.objects) || typeof state.resourceVersion !== 'number') {
      throw new StateFileError(path, 'expected {resourceVersion, objects}');
    }
  }
  const journalPath = journalPathOf(path);
  const journalText = await readIfExists(journalPath, journalPath);
  const journal = journalText === undefined ? [] : parseJournal(journalText, journalPath);
  let objects: KubeObject[] = state.objects;
  let rv = state.resourceVersion;
  let applied = 0;
  if (journal.some((r) => r.rv > state.resourceVersion)) {
    const byIdentity = new Map<string, KubeObject>();
    for (const o of state.objects) byIdentity.set(identity(o), o);
    for (const r of journal) {
      if (r.rv <= state.resourceVersion) continue;
      if (r.deleted) byIdentity.delete(identity(r.object));
      else byIdentity.set(identity(r.object), r.object);
      rv = Math.max(rv, r.rv);
      applied++;
    }
    objects = [...byIdentity.values()];
  }
  // CRDs first: their objects need the types they define.
  const crds = objects.filter((o) => o.apiVersion === CRD_API && o.kind === 'CustomResourceDefinition');
  for (const crd of crds) {
    const t = crdType(crd);
    if (!registry.get(t.group, t.plural)?.builtin) registry.add(t);
  }
  let n = 0;
  for (const obj of objects) {
    const t = registry.findByKind(String(obj.apiVersion), String(obj.kind));
    if (!t) continue;
    store.load(store.collection(t), objectKey(obj.metadata.namespace, obj.metadata.name!), obj);
    if (t.group === '' && t.plural === 'services') allocator.reserve(obj);
    n++;
  }
  store.restoreResourceVersion(rv);
  // Clients' resourceVersions from before the restart cannot be resumed: history starts now.
  for (const c of store.all()) c.compact(store.resourceVersion);
  return {
    objects: n,
    snapshot: text !== undefined,
    snapshotBytes: text === undefined ? 0 : Buffer.byteLength(text),
    journalRecords: applied,
    journalBytes: journalText === undefined ? 0 : Buffer.byteLength(journalText),
    resourceVersion: store.resourceVersion,
  };
}

/** Snapshot text is written in pieces of about this many characters (no store-sized string). */
const SNAPSHOT_PIECE_CHARS = 4 * 1024 * 1024;

export interface StatePersisterOptions {
  /** Debounce of journal appends (ms). Default 50. */
  delayMs?: number;
  /** Rewrite the snapshot once the journal is this many times its size. Default 1. */
  compactRatio?: number;
  /** Journals below this size never trigger a snapshot rewrite (bytes). Default 1 MiB. */
  minCompactBytes?: number;
}

export class StatePersister {
  private readonly journalPath: string;
  private readonly delayMs: number;
  private readonly compactRatio: number;
  private readonly minCompactBytes: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  /** Journal lines not yet appended. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** A change since the last snapshot that the journal may not hold: the next write is a snapshot. */
  private snapshotDue: boolean;
  /** Changes since the last snapshot (a stop folds them into one). */
  private changedSinceSnapshot: boolean;
  private journal: FileHandle | undefined;
  private journalBytes = 0;
  private snapshotBytes: number;
  private closed = false;
  private writes = 0;
  /** Snapshot rewrites and journal appends so far (tests, diagnostics). */
  readonly counts = { snapshots: 0, appends: 0 };
  /** The last failed background write (the next change retries). */
  lastError: Error | undefined;

  /**
   * `loaded` tells what is on disk already: without a snapshot, with journal records on top of it,
   * or with changes made since loading (default namespaces, seeds), the first write is a fresh
   * snapshot (which then starts an empty journal).
   */
  constructor(
    private readonly path: string,
    private readonly store: Store,
    loaded: LoadedState,
    opts: StatePersisterOptions = {},
  ) {
    this.journalPath = journalPathOf(path);
    this.delayMs = opts.delayMs ?? 50;
    this.compactRatio = opts.compactRatio ?? 1;
    this.minCompactBytes = opts.minCompactBytes ?? 1024 * 1024;
    this.snapshotBytes = loaded.snapshotBytes;
    this.journalBytes = loaded.journalBytes;
    this.snapshotDue =
      !loaded.snapshot || loaded.journalRecords > 0 || store.resourceVersion !== loaded.resourceVersion;
    this.changedSinceSnapshot = this.snapshotDue;
    if (this.snapshotDue) this.schedule();
  }

  /** Called on every change (store listener): queues its journal line. */
  record(ev: StoredEvent): void {
    this.changedSinceSnapshot = true;
    if (!this.snapshotDue) {
      const line = storedEventLine(ev);
      this.pending.push(line);
      this.pendingBytes += line.length;
    }
    this.schedule();
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  private schedule(): void {
    if (this.closed || this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writeOnce()
        .catch((err: unknown) => {
          this.lastError = err instanceof Error ? err : new Error(String(err));
          // The journal may now miss lines: only a snapshot makes the file whole again.
          this.snapshotDue = true;
          this.dropPending();
        })
        .finally(() => {
          this.writing = undefined;
          if (this.hasWork() && !this.closed) this.schedule();
        });
    }, this.delayMs);
  }

  private hasWork(): boolean {
    return this.snapshotDue || this.pending.length > 0;
  }

  /** One write: a snapshot when due or when the journal has outgrown it, else an append. */
  private async writeOnce(): Promise<void> {
    const journalAfter = this.journalBytes + this.pendingBytes;
    const limit = Math.max(this.minCompactBytes, this.snapshotBytes * this.compactRatio);
    if (this.snapshotDue || journalAfter > limit) await this.writeSnapshot();
    else if (this.pending.length > 0) await this.appendPending();
  }

  private async appendPending(): Promise<void> {
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.dropPending();
    this.journal ??= await open(this.journalPath, 'a');
    await this.journal.write(bytes, 0, bytes.length, null);
    this.journalBytes += bytes.length;
    this.counts.appends++;
  }

  /**
   * Writes every object as of now (a consistent point: the entries are captured synchronously and
   * stored objects are immutable), then starts an empty journal. Lines queued while it is written
   * are newer than the snapshot and go to the new journal.
   */
  private async writeSnapshot(): Promise<void> {
    const entries: Entry[] = [];
    for (const c of this.store.all()) for (const [, e] of c.range('')) entries.push(e);
    const rv = this.store.resourceVersion;
    this.snapshotDue = false;
    this.changedSinceSnapshot = false;
    this.dropPending();
    const tmp = `${this.path}.tmp-${process.pid}-${++this.writes}`;
    const out = await open(tmp, 'w');
    let bytes = 0;
    try {
      const put = async (s: string): Promise<void> => {
        const b = Buffer.from(s);
        await out.write(b, 0, b.length, null);
        bytes += b.length;
      };
      await put(`{"version":1,"resourceVersion":${rv},"objects":[\n`);
      let piece: string[] = [];
      let chars = 0;
      for (let i = 0; i < entries.length; i++) {
        const json = entryJson(entries[i]!);
        piece.push(i === 0 ? json : `,\n${json}`);
        chars += json.length + 2;
        if (chars >= SNAPSHOT_PIECE_CHARS) {
          await put(piece.join(''));
          piece = [];
          chars = 0;
        }
      }
      piece.push('\n]}\n');
      await put(piece.join(''));
    } catch (err) {
      this.snapshotDue = true;
      this.changedSinceSnapshot = true;
      await out.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    await out.close();
    await rename(tmp, this.path);
    this.snapshotBytes = bytes;
    // Every journal record so far is in the snapshot (rv <= its resourceVersion): start afresh.
    await this.journal?.close();
    this.journal = await open(this.journalPath, 'w');
    this.journalBytes = 0;
    this.counts.snapshots++;
  }

  /** Waits for the write in progress, if any. */
  private async settle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Folds every change into the snapshot, removes the journal and stops writing (on stop). */
  async flush(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.settle();
    if (this.changedSinceSnapshot || this.snapshotDue) await this.writeSnapshot();
    await this.journal?.close();
    this.journal = undefined;
    await rm(this.journalPath, { force: true });
  }
}
