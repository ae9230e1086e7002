/**
 * Watch streams: newline-delimited JSON events over a chunked HTTP response, kept open until the
 * client goes away or timeoutSeconds passes. Each event is serialised once per (type, format,
 * apiVersion) and the same Buffer is written to every watcher that matches it.
 */
import type { ServerResponse } from 'node:http';
import { statusBody } from './errors.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { Matcher } from './selectors.js';
import {
  entryJson,
  storedEventLine,
  type Collection,
  type Entry,
  type EventSink,
  type EventType,
  type Store,
  type StoredEvent,
} from './store.js';
import { toTable } from './table.js';

export interface WatchRequest {
  type: ResourceType;
  version: string;
  namespace?: string;
  matcher?: Matcher;
  table: boolean;
  bookmarks: boolean;
  /** undefined, '' or '0': start with synthetic ADDED events for the current state. */
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
}

const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

function objectJson(t: ResourceType, entry: Entry, apiVersion: string, table: boolean): string {
  if (table) {
    return JSON.stringify(toTable(t, [entry.obj], { resourceVersion: entry.obj.metadata.resourceVersion }));
  }
  if (t.view) return JSON.stringify(t.view.toView(entry.obj));
  if (entry.obj.apiVersion === apiVersion) return entryJson(entry);
  return JSON.stringify({ ...entry.obj, apiVersion });
}

/** The event line, built on first use and cached on the event for every other watcher. */
function eventLine(
  ev: StoredEvent,
  type: EventType,
  t: ResourceType,
  apiVersion: string,
  table: boolean,
): Buffer {
  if (type === ev.type && !table && !t.view && apiVersion === ev.entry.obj.apiVersion) {
    return storedEventLine(ev);
  }
  const key = `${type}|${table ? 'table' : 'json'}|${apiVersion}`;
  ev.lines ??= new Map();
  let line = ev.lines.get(key);
  if (!line) {
    line = Buffer.from(`{"type":"${type}","object":${objectJson(t, ev.entry, apiVersion, table)}}\n`);
    ev.lines.set(key, line);
  }
  return line;
}

export class WatchHub {
  readonly open = new Set<Watcher>();
  started = 0;

  dropAll(): void {
    for (const w of [...this.open]) w.end();
  }
}

export class Watcher implements EventSink {
  private readonly apiVersion: string;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  /**
   * Event lines waiting for the end of this turn of the event loop: every event of a burst of
   * requests goes out in one chunk and one write, instead of a write (and a wakeup of the client)
   * per event.
   */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private readonly flushQueued = (): void => {
    this.flushScheduled = false;
    if (this.closed || this.queued.length === 0) return;
    const chunk = this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued, this.queuedBytes);
    this.queued = [];
    this.queuedBytes = 0;
    this.res.write(chunk);
    // A watcher that stopped reading would hold every event in memory: drop it, as the real
    // server drops slow watchers (the client re-watches from its last resourceVersion).
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.end();
  };

  constructor(
    private readonly res: ServerResponse,
    private readonly req: WatchRequest,
    private readonly store: Store,
    private readonly collection: Collection,
    private readonly hub: WatchHub,
  ) {
    this.apiVersion = apiVersionOf(req.type.group, req.version);
  }

  /** Sends the initial part (replay or current state) and stays subscribed. */
  start(): void {
    const { req, res } = this;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache',
    });
    res.flushHeaders();
    this.hub.started += 1;
    const rvText = req.resourceVersion;
    const initial = req.sendInitialEvents === true || rvText === undefined || rvText === '' || rvText === '0';
    if (initial) {
      const prefix = req.type.namespaced && req.namespace ? `${req.namespace}/` : '';
      for (const [, entry] of this.collection.range(prefix)) {
        if (req.matcher && !req.matcher(entry.obj)) continue;
        res.write(`{"type":"ADDED","object":${objectJson(req.type, entry, this.apiVersion, req.table)}}\n`);
      }
      if (req.bookmarks) this.bookmark(req.sendInitialEvents === true);
    } else {
      const rv = Number(rvText);
      if (!Number.isInteger(rv) || rv < 0) {
        this.fail(400, 'BadRequest', `invalid resource version "${rvText}"`);
        return;
      }
      if (rv < this.collection.compactedRv) {
        this.fail(410, 'Expired', `too old resource version: ${rv} (${this.collection.compactedRv})`);
        return;
      }
      for (const ev of this.collection.eventsSince(rv)) this.deliver(ev);
      if (req.bookmarks) this.bookmark(false);
    }
    this.collection.watchers.add(this);
    this.hub.open.add(this);
    res.on('close', () => this.cleanup());
    if (req.bookmarks) {
      const t = setInterval(() => this.bookmark(false), req.bookmarkIntervalMs);
      t.unref();
      this.timers.push(t);
    }
    if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) {
      const t = setTimeout(() => this.end(), req.timeoutSeconds * 1000);
      t.unref();
      this.timers.push(t);
    }
  }

  deliver(ev: StoredEvent): void {
    if (this.closed) return;
    const { req } = this;
    const obj = ev.entry.obj;
    if (req.namespace && req.type.namespaced && obj.metadata.namespace !== req.namespace) return;
    let type: EventType = ev.type;
    if (req.matcher) {
      const now = req.matcher(obj);
      if (ev.type === 'MODIFIED') {
        const before = ev.old ? req.matcher(ev.old) : now;
        if (!now && !before) return;
        // An object moving into or out of the selection is an ADDED or DELETED to this watcher.
        if (now && !before) type = 'ADDED';
        else if (!now && before) type = 'DELETED';
      } else if (!now) return;
    }
    this.enqueue(eventLine(ev, type, req.type, this.apiVersion, req.table));
  }

  private enqueue(line: Buffer): void {
    this.queued.push(line);
    this.queuedBytes += line.length;
    if (this.queuedBytes > MAX_BUFFERED_BYTES) {
      this.flushQueued();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushQueued);
    }
  }

  private bookmark(initialEnd: boolean): void {
    if (this.closed) return;
    const metadata: Record<string, unknown> = { resourceVersion: String(this.store.resourceVersion) };
    if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    const object = { kind: this.req.type.kind, apiVersion: this.apiVersion, metadata };
    this.enqueue(Buffer.from(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`));
  }

  /** The real server reports a too-old resourceVersion as an ERROR event on a 200 stream. */
  private fail(code: number, reason: string, message: string): void {
    this.res.end(`${JSON.stringify({ type: 'ERROR', object: statusBody(code, reason, message) })}\n`);
    this.closed = true;
  }

  end(): void {
    if (this.closed) return;
    if (this.queued.length > 0) this.flushQueued();
    if (this.closed) return;
    this.cleanup();
    this.res.end();
  }

  private cleanup(): void {
    this.closed = true;
    this.queued = [];
    this.queuedBytes = 0;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.collection.watchers.delete(this);
    this.hub.open.delete(this);
  }
}
