/**
 * OvsdbClient: one JSON-RPC connection to one ovsdb-server, with every method of RFC 7047 and
 * the OVS extensions. Parameters and results are raw JSON (the wire notation); typing them is
 * the job of the schema/datum layers, and reconnecting is the job of the database handle built
 * on top of this class.
 *
 * Monitor notifications are routed by monitor id: each monitor call registers a handler under
 * its id, so several subscribers on one connection each get their own updates. They are also
 * emitted as events ('update', 'update2', 'update3', 'monitor_canceled') for whoever listens.
 * Delivery is in arrival order: the updates caused by our own transaction reach subscribers
 * before the transaction's promise resolves, and the code awaiting a reply (e.g. a monitor's
 * initial dump) runs before any notification that arrived after that reply.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { OvsdbError, OvsdbProtocolError, OvsdbRpcError, RemoteParseError } from './errors.js';
import { connectRemote, type ConnectOptions } from './remote/connect.js';
import { formatRemote, parseRemotes, type Remote } from './remote/parse.js';
import {
  JsonRpcSession,
  type CallOptions,
  type JsonRpcSessionOptions,
  type SentRequest,
} from './wire/jsonrpc.js';
import { isUuid } from './value.js';
import { stringifyJson } from './wire/json.js';

/** "No transaction seen yet" for monitor_cond_since (the server rejects null). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** A monitor id: any JSON value (ovsdb-server compares them as JSON). */
export type MonitorId = unknown;

/** `{table: monitor-request | monitor-request[]}` in wire notation. */
export type MonitorRequests = Record<string, unknown>;

/** `{table: {uuid: row-update}}` (update) or `{table: {uuid: row-update2}}` (update2/update3), raw. */
export type TableUpdates = Record<string, Record<string, unknown>>;

export type MonitorNotification =
  | { method: 'update'; monitorId: MonitorId; updates: TableUpdates }
  | { method: 'update2'; monitorId: MonitorId; updates: TableUpdates }
  | { method: 'update3'; monitorId: MonitorId; lastTxnId: string; updates: TableUpdates }
  | { method: 'monitor_canceled'; monitorId: MonitorId };

export type MonitorHandler = (n: MonitorNotification) => void;

export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';

export interface MonitorCallOptions extends CallOptions {
  /** receives this monitor's notifications (registered before the request is sent) */
  handler?: MonitorHandler;
}

export interface MonitorCondSinceResult {
  found: boolean;
  lastTxnId: string;
  updates: TableUpdates;
}

export interface MonitorBestResult {
  /** the method the server accepted; 'monitor' means `updates` are table-updates (v1), else update2 format */
  method: MonitorMethod;
  /** true only when monitor_cond_since found `lastTxnId` in the server's history (updates are then a diff) */
  found: boolean;
  /** the server's last transaction id (ZERO_UUID unless monitor_cond_since is in use) */
  lastTxnId: string;
  updates: TableUpdates;
}

export interface OvsdbClientOptions extends ConnectOptions, JsonRpcSessionOptions {
  /** budget for monitor requests, whose reply is the initial dump (default 10 minutes; 0 = no limit) */
  dumpTimeoutMs?: number;
}

export interface OvsdbClientEvents {
  update: [monitorId: MonitorId, updates: TableUpdates];
  update2: [monitorId: MonitorId, updates: TableUpdates];
  update3: [monitorId: MonitorId, lastTxnId: string, updates: TableUpdates];
  monitor_canceled: [monitorId: MonitorId];
  locked: [lockId: string];
  stolen: [lockId: string];
  /** any other notification */
  notification: [method: string, params: unknown[]];
  /** the connection closed; `reason` is undefined when closed by `close()` */
  close: [reason: Error | undefined];
}

const DEFAULT_DUMP_TIMEOUT_MS = 10 * 60_000;

export class OvsdbClient extends EventEmitter<OvsdbClientEvents> {
  readonly session: JsonRpcSession;
  readonly remote: string;
  private readonly dumpTimeoutMs: number;
  private readonly monitors = new Map<string, MonitorHandler>();

  /** Connects to one remote (`unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`). */
  static async connect(remote: string | Remote, opts: OvsdbClientOptions = {}): Promise<OvsdbClient> {
    let r: Remote;
    if (typeof remote === 'string') {
      const list = parseRemotes(remote);
      if (list.length !== 1) {
        throw new RemoteParseError(
          remote,
          'OvsdbClient connects to exactly one remote; pick one from the list',
        );
      }
      r = list[0]!;
    } else {
      r = remote;
    }
    const stream = await connectRemote(r, opts);
    return new OvsdbClient(stream, { ...opts, peerName: opts.peerName ?? formatRemote(r) });
  }

  /** Wraps an already open stream (used by tests and by callers with their own transport). */
  constructor(stream: Duplex, opts: OvsdbClientOptions = {}) {
    super();
    this.remote = opts.peerName ?? 'OVSDB server';
    this.dumpTimeoutMs = opts.dumpTimeoutMs ?? DEFAULT_DUMP_TIMEOUT_MS;
    this.session = new JsonRpcSession(stream, { ...opts, peerName: this.remote });
    this.session.on('notification', (method, params) => this.onNotification(method, params as unknown[]));
    this.session.on('close', (reason) => this.emit('close', reason));
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /** Closes the connection; outstanding calls reject with OvsdbConnectionClosedError. */
  close(): void {
    this.session.close();
  }

  /** Resolves once the connection is closed (immediately when it already is). */
  closed(): Promise<Error | undefined> {
    const reason = this.session.closeReason;
    if (reason !== null) return Promise.resolve(reason);
    return new Promise((resolve) => this.session.once('close', resolve));
  }

  // ---- RFC 7047 -------------------------------------------------------------------------

  async listDbs(opts?: CallOptions): Promise<string[]> {
    const r = await this.session.call('list_dbs', [], opts);
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string')) throw badResult('list_dbs', r);
    return r as string[];
  }

  /** The schema JSON as the server sends it (parse it with the schema layer). */
  getSchema(db: string, opts?: CallOptions): Promise<unknown> {
    return this.session.call('get_schema', [db], opts);
  }

  /** Runs a transaction; resolves with the raw result array (one slot per op, plus an extra one on commit failure). */
  transact(db: string, ops: unknown[], opts?: CallOptions): Promise<unknown[]> {
    return this.transactRequest(db, ops, opts).result;
  }

  /**
   * Like `transact`, but also returns the request id for `cancel`. Aborting `opts.signal`
   * rejects the promise at once and sends "cancel" for the id, so the server can drop a
   * transaction blocked in a `wait`.
   */
  transactRequest(db: string, ops: unknown[], opts: CallOptions = {}): SentRequest<unknown[]> {
    const sent = this.session.send<unknown>('transact', [db, ...ops], {
      ...opts,
      onAbort: (id) => this.cancel(id),
    });
    return {
      id: sent.id,
      result: sent.result.then((r) => {
        if (!Array.isArray(r)) throw badResult('transact', r);
        return r;
      }),
    };
  }

  /**
   * Sends the "cancel" notification for request `id`. RFC 7047 says the request then fails with
   * "canceled", but ovsdb-server 3.1 was seen not to answer a cancelled blocked `wait` at all, so
   * do not wait for that answer: abort the call through `transactRequest`'s signal instead.
   */
  cancel(id: number): void {
    if (this.session.isOpen) this.session.notify('cancel', [id]);
  }

  /** `monitor`: resolves with the initial table-updates; later changes arrive as 'update'. */
  monitor(
    db: string,
    monitorId: MonitorId,
    requests: MonitorRequests,
    opts: MonitorCallOptions = {},
  ): Promise<TableUpdates> {
    return this.startMonitor('monitor', [db, monitorId, requests], monitorId, opts).then((r) =>
      asTableUpdates('monitor', r),
    );
  }

  /** `monitor_cond`: resolves with the initial table-updates2; later changes arrive as 'update2'. */
  monitorCond(
    db: string,
    monitorId: MonitorId,
    requests: MonitorRequests,
    opts: MonitorCallOptions = {},
  ): Promise<TableUpdates> {
    return this.startMonitor('monitor_cond', [db, monitorId, requests], monitorId, opts).then((r) =>
      asTableUpdates('monitor_cond', r),
    );
  }

  /**
   * `monitor_cond_since`: with `found` true the updates are only what changed after
   * `lastTxnId`; otherwise they are the full initial contents. Later changes arrive as 'update3'.
   */
  async monitorCondSince(
    db: string,
    monitorId: MonitorId,
    requests: MonitorRequests,
    lastTxnId: string = ZERO_UUID,
    opts: MonitorCallOptions = {},
  ): Promise<MonitorCondSinceResult> {
    if (typeof lastTxnId !== 'string' || !isUuid(lastTxnId)) {
      // ovsdb-server rejects null ("last-txn-id must be string"); all zeros means "none"
      throw new OvsdbError(
        `monitorCondSince: lastTxnId must be a UUID string (ZERO_UUID for none), got ${String(lastTxnId)}`,
      );
    }
    const r = await this.startMonitor(
      'monitor_cond_since',
      [db, monitorId, requests, lastTxnId],
      monitorId,
      opts,
    );
    if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'boolean' || typeof r[1] !== 'string') {
      throw badResult('monitor_cond_since', r);
    }
    return { found: r[0], lastTxnId: r[1], updates: asTableUpdates('monitor_cond_since', r[2]) };
  }

  /**
   * The best monitor the server supports: monitor_cond_since, else monitor_cond, else monitor,
   * falling back only when the server answers "unknown method". For plain `monitor` the
   * `where` clauses are dropped (it has none), so that subscriber receives every row.
   */
  async monitorBest(
    db: string,
    monitorId: MonitorId,
    requests: MonitorRequests,
    lastTxnId: string = ZERO_UUID,
    opts: MonitorCallOptions = {},
  ): Promise<MonitorBestResult> {
    try {
      const r = await this.monitorCondSince(db, monitorId, requests, lastTxnId, opts);
      return { method: 'monitor_cond_since', ...r };
    } catch (err) {
      if (!isUnknownMethod(err)) throw err;
    }
    try {
      const updates = await this.monitorCond(db, monitorId, requests, opts);
      return { method: 'monitor_cond', found: false, lastTxnId: ZERO_UUID, updates };
    } catch (err) {
      if (!isUnknownMethod(err)) throw err;
    }
    const updates = await this.monitor(db, monitorId, withoutWhere(requests), opts);
    return { method: 'monitor', found: false, lastTxnId: ZERO_UUID, updates };
  }

  /**
   * `monitor_cond_change`: new conditions for monitor `oldId`, renamed to `newId`. Rows that
   * start or stop matching arrive as update2/update3 inserts/deletes before this resolves.
   */
  async monitorCondChange(
    oldId: MonitorId,
    newId: MonitorId,
    requests: MonitorRequests,
    opts?: CallOptions,
  ): Promise<void> {
    const oldKey = monitorKey(oldId);
    const newKey = monitorKey(newId);
    const handler = this.monitors.get(oldKey);
    const renamed = oldKey !== newKey;
    // updates for the changed condition may already carry the new id
    if (handler && renamed) this.monitors.set(newKey, handler);
    try {
      await this.session.call('monitor_cond_change', [oldId, newId, requests], opts);
    } catch (err) {
      if (handler && renamed && this.monitors.get(newKey) === handler) this.monitors.delete(newKey);
      throw err;
    }
    if (renamed && this.monitors.get(oldKey) === handler) this.monitors.delete(oldKey);
  }

  async monitorCancel(monitorId: MonitorId, opts?: CallOptions): Promise<void> {
    await this.session.call('monitor_cancel', [monitorId], opts);
    this.monitors.delete(monitorKey(monitorId));
  }

  /** `lock`: resolves with whether we hold the lock now; if not, 'locked' fires when we get it. */
  async lock(lockId: string, opts?: CallOptions): Promise<{ locked: boolean }> {
    return asLockResult('lock', await this.session.call('lock', [lockId], opts));
  }

  /** `steal`: takes the lock from its holder (who gets 'stolen'). */
  async steal(lockId: string, opts?: CallOptions): Promise<{ locked: boolean }> {
    return asLockResult('steal', await this.session.call('steal', [lockId], opts));
  }

  async unlock(lockId: string, opts?: CallOptions): Promise<void> {
    await this.session.call('unlock', [lockId], opts);
  }

  /** `echo`: the server returns the params unchanged. */
  async echo(params: unknown[] = [], opts?: CallOptions): Promise<unknown[]> {
    const r = await this.session.call('echo', params, opts);
    if (!Array.isArray(r)) throw badResult('echo', r);
    return r;
  }

  /** `set_db_change_aware`: ask for 'monitor_canceled' instead of a disconnect when a database changes. */
  async setDbChangeAware(aware = true, opts?: CallOptions): Promise<void> {
    await this.session.call('set_db_change_aware', [aware], opts);
  }

  /** `get_server_id`: the server's UUID (stable for the process lifetime). */
  async getServerId(opts?: CallOptions): Promise<string> {
    const r = await this.session.call('get_server_id', [], opts);
    if (typeof r !== 'string') throw badResult('get_server_id', r);
    return r;
  }

  /** Registers (or replaces) the handler of an existing monitor id. */
  setMonitorHandler(monitorId: MonitorId, handler: MonitorHandler | undefined): void {
    const key = monitorKey(monitorId);
    if (handler) this.monitors.set(key, handler);
    else this.monitors.delete(key);
  }

  // ---- internals ------------------------------------------------------------------------

  private async startMonitor(
    method: MonitorMethod,
    params: unknown[],
    monitorId: MonitorId,
    opts: MonitorCallOptions,
  ): Promise<unknown> {
    const key = monitorKey(monitorId);
    const { handler, ...callOpts } = opts;
    if (handler) {
      if (this.monitors.has(key))
        throw new OvsdbError(`${method}: monitor id ${key} is already in use on this connection`);
      this.monitors.set(key, handler);
    }
    try {
      return await this.session.call(method, params, { timeoutMs: this.dumpTimeoutMs, ...callOpts });
    } catch (err) {
      if (handler && this.monitors.get(key) === handler) this.monitors.delete(key);
      throw err;
    }
  }

  private onNotification(method: string, params: unknown[]): void {
    let n: MonitorNotification | undefined;
    try {
      n = parseMonitorNotification(method, params);
    } catch (err) {
      // a malformed notification ends the session (it is the server's fault, not a subscriber's)
      this.session.close(err as OvsdbProtocolError);
      return;
    }
    if (n) {
      this.monitors.get(monitorKey(n.monitorId))?.(n);
      switch (n.method) {
        case 'update':
        case 'update2':
          this.emit(n.method, n.monitorId, n.updates);
          return;
        case 'update3':
          this.emit('update3', n.monitorId, n.lastTxnId, n.updates);
          return;
        case 'monitor_canceled':
          this.monitors.delete(monitorKey(n.monitorId));
          this.emit('monitor_canceled', n.monitorId);
          return;
      }
    }
    if (method === 'locked' || method === 'stolen') {
      this.emit(method, String(params[0]));
      return;
    }
    this.emit('notification', method, params);
  }
}

/** Reads a monitor notification's params; undefined for other methods; OvsdbProtocolError when malformed. */
function parseMonitorNotification(method: string, params: unknown[]): MonitorNotification | undefined {
  switch (method) {
    case 'update':
    case 'update2':
      return { method, monitorId: params[0], updates: asTableUpdates(method, params[1]) };
    case 'update3':
      if (typeof params[1] !== 'string') throw new OvsdbProtocolError('update3 without a last-txn-id string');
      return {
        method,
        monitorId: params[0],
        lastTxnId: params[1],
        updates: asTableUpdates(method, params[2]),
      };
    case 'monitor_canceled':
      return { method, monitorId: params[0] };
    default:
      return undefined;
  }
}

/**
 * The registry key of a monitor id. ovsdb-server compares ids as JSON values (object member
 * order does not matter) and may echo an object id back with its members reordered, so the
 * key is the JSON text with object members sorted.
 */
function monitorKey(id: MonitorId): string {
  return stringifyJson(sortKeys(id));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** True for the server's reply to a method it does not implement. */
export function isUnknownMethod(err: unknown): boolean {
  return err instanceof OvsdbRpcError && err.error === 'unknown method';
}

function withoutWhere(requests: MonitorRequests): MonitorRequests {
  const out: MonitorRequests = {};
  for (const [table, req] of Object.entries(requests)) {
    const strip = (r: unknown): unknown => {
      if (!r || typeof r !== 'object' || Array.isArray(r)) return r;
      const { where: _where, ...rest } = r as Record<string, unknown>;
      return rest;
    };
    out[table] = Array.isArray(req) ? req.map(strip) : strip(req);
  }
  return out;
}

function asTableUpdates(method: string, v: unknown): TableUpdates {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badResult(method, v);
  return v as TableUpdates;
}

function asLockResult(method: string, r: unknown): { locked: boolean } {
  if (!r || typeof r !== 'object' || typeof (r as { locked?: unknown }).locked !== 'boolean')
    throw badResult(method, r);
  return { locked: (r as { locked: boolean }).locked };
}

function badResult(method: string, r: unknown): OvsdbProtocolError {
  const s = stringifyJson(r) ?? 'undefined';
  return new OvsdbProtocolError(
    `${method}: unexpected result ${s.length > 120 ? `${s.slice(0, 120)}...` : s}`,
  );
}
