/**
 * OvsdbDatabase: the long-lived handle on one database that the rest of the project uses.
 *
 * It owns one connection at a time (OvsdbClient) and keeps it alive across server restarts,
 * leader changes and network trouble, the way OVS's ovsdb-cs / Python IDL do:
 * - remotes are shuffled and tried in turn with jittered exponential backoff;
 * - each server is first vetted through `_Server.Database` (server-selection.ts), and watched
 *   afterwards: losing leadership (leader-only) or the cluster connection moves us on, and the
 *   backoff is reset so that every remote is tried once at once;
 * - the data monitor resumes with monitor_cond_since and the last transaction id: when the
 *   server still has the history only the delta is applied, otherwise the cache is resynced
 *   from the new dump and only the real differences are emitted;
 * - reads and transactions wait until the cache is consistent after every (re)connection.
 */
import { EventEmitter } from 'node:events';
import { DatabaseCache, type TableRowTypes, type TableSelection } from './cache/database-cache.js';
import type { ApplyResult, CacheProblem } from './cache/events.js';
import { CacheLookupError, type TableCache } from './cache/table-cache.js';
import type { IndexKey } from './cache/indexes.js';
import {
  OvsdbClient,
  ZERO_UUID,
  isUnknownMethod,
  type MonitorBestResult,
  type MonitorMethod,
  type MonitorNotification,
  type OvsdbClientOptions,
} from './client.js';
import { OvsdbError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';
import { OvsdbTxnBuildError } from './data-errors.js';
import { formatRemote, parseRemotes } from './remote/parse.js';
import { parseJson, stringifyJson } from './wire/json.js';
import type { TlsOptions } from './remote/connect.js';
import { encodeCondition, type Condition } from './condition.js';
import { parseSchema, type DatabaseSchema } from './schema.js';
import type { TransactTransport } from './txn.js';
import { Backoff, type BackoffOptions } from './database/backoff.js';
import {
  RemoteRotation,
  checkServerDb,
  checkServerDbWhileConnected,
  type ServerDbInfo,
} from './database/server-selection.js';
import { watchServerDb } from './database/server-watch.js';
import {
  InvalidMonitorRequestError,
  MonitorRejectedError,
  isPermanentMonitorRefusal,
} from './database/monitor-errors.js';

export { InvalidMonitorRequestError, MonitorRejectedError } from './database/monitor-errors.js';

/**
 * One condition of a monitor: a typed condition of condition.ts (`where.eq('name', 'sw0')`,
 * encoded with the table's schema), or one already in wire notation (`["name", "==", "sw0"]`),
 * or the literal true/false.
 */
export type WhereClause = Condition | readonly unknown[];

/** A monitored table: which columns, which rows, which client indexes. */
export interface TableMonitorOptions extends TableSelection {
  /** the rows to replicate (all when omitted or empty) */
  where?: readonly WhereClause[];
}

/** The subset of pino's logger the handle uses (pino satisfies it). */
export interface DatabaseLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OvsdbDatabaseOptions {
  /** `tcp:IP:PORT,ssl:IP:PORT,unix:PATH` (a comma list or an array of such strings) */
  remotes: string | readonly string[];
  database: string;
  tables: Record<string, TableMonitorOptions>;
  /** writers should use the leader (default true, as the Python IDL) */
  leaderOnly?: boolean;
  /** accept only a cluster whose cid starts with this */
  clusterId?: string;
  tls?: TlsOptions;
  connectTimeoutMs?: number;
  /** client inactivity probe (0 disables; default 5000) */
  probeIntervalMs?: number;
  /** per-request budget of ordinary calls (default 30 000) */
  requestTimeoutMs?: number;
  /** budget of the initial dump (default 10 minutes) */
  dumpTimeoutMs?: number;
  /** default budget of `transact` and of reads waiting for consistency (default 60 000) */
  transactTimeoutMs?: number;
  /** how long `open()` waits for the first consistent cache (default 60 000) */
  openTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** shuffle the remotes (default true) */
  shuffle?: boolean;
  logger?: DatabaseLogger;
}

/** A transaction builder as txn.ts provides it: the ops to send and the mapping of the raw reply. */
export interface TransactionLike<R> {
  operations(): unknown[];
  parseResults(raw: unknown[]): R;
}

export interface TransactOptions {
  /** overall budget including the wait for a connection (default `transactTimeoutMs`) */
  timeoutMs?: number;
}

export interface DatabaseEvents {
  /** monitoring on a server (after the cache became consistent) */
  connected: [info: { remote: string; model: string; resumed: boolean }];
  disconnected: [info: { remote: string; reason: string }];
  /** the server we used stopped being the leader (or lost its cluster): we move on */
  'leader-changed': [info: { remote: string; reason: string }];
  /** the cache was rebuilt from a full dump; `changes` real differences were emitted */
  resynced: [info: { remote: string; changes: number }];
  'lock-acquired': [lockId: string];
  'lock-lost': [lockId: string, reason: 'stolen' | 'disconnected' | 'released'];
  /** the cache disagreed with the server; a full resync follows */
  inconsistent: [problems: CacheProblem[]];
}

export class DatabaseClosedError extends OvsdbError {}
export class DatabaseNotReadyError extends OvsdbTimeoutError {}
export class ServerRejectedError extends OvsdbError {
  constructor(
    readonly remote: string,
    readonly reason: string,
  ) {
    super(`${remote} rejected: ${reason}`);
  }
}

const DATA_MONITOR_ID = ['ovn-k8s', 'data'];
const NOOP_LOGGER: DatabaseLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** State of the connection in use. */
interface Connection {
  client: OvsdbClient;
  remote: string;
  method: MonitorMethod | undefined;
  /** resolves when this connection is over, with the reason */
  ended: Promise<EndReason>;
  end(reason: EndReason): void;
  isOver: boolean;
  /** whether the handle was consistent on this connection when it ended */
  wasConsistent: boolean;
}

type EndReason = {
  kind: 'closed' | 'leadership' | 'inconsistent' | 'canceled' | 'shutdown';
  message: string;
};

/**
 * `T` maps table names to row types (e.g. the generated `NbTables`) for the typed accessors:
 * `OvsdbDatabase.open<NbTables>({...})`.
 */
export class OvsdbDatabase<T extends TableRowTypes = TableRowTypes> extends EventEmitter<DatabaseEvents> {
  readonly database: string;
  private readonly opts: OvsdbDatabaseOptions;
  private readonly log: DatabaseLogger;
  private readonly rotation: RemoteRotation<string>;
  private readonly backoff: Backoff;
  private readonly leaderOnly: boolean;
  private cacheInstance: DatabaseCache<T> | undefined;
  private schemaInstance: DatabaseSchema | undefined;
  private conn: Connection | undefined;
  /** the connection being set up (not yet consistent), so that close() can end it */
  private connecting: Connection | undefined;
  private consistent = false;
  private closed = false;
  private waiters = new Set<Waiter>();
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;
  private lastTxnId = ZERO_UUID;
  private minIndex: bigint | null = null;
  private readonly conditions = new Map<string, readonly WhereClause[] | undefined>();
  /** the conditions the cache contents reflect (wire JSON text per table) */
  private sentConditions = new Map<string, string>();
  /**
   * A monitor_cond_change was sent and not answered: the server may have applied it or not, so
   * the cache may hold rows of either condition and resuming from the last txn id could leave
   * it wrong (the delta is computed under the new condition only). OVS fixed the same in the
   * Python/C IDL (5202710a7, 407140d68).
   */
  private conditionsUncertain = false;
  private condQueue: Promise<void> = Promise.resolve();
  private readonly wantedLocks = new Set<string>();
  private readonly heldLocks = new Set<string>();
  private loop: Promise<void> | undefined;
  private lastError: Error | undefined;
  /** whether the cache was ever consistent: from then on every failure is retried */
  private everConsistent = false;
  /** why the handle gave up before it was ever consistent (a monitor request that cannot work) */
  private fatalError: InvalidMonitorRequestError | undefined;

  /**
   * Creates the handle, starts connecting and resolves once the cache is consistent. Servers that
   * are unreachable, not (yet) serving the database or not the leader are retried until
   * `openTimeoutMs` (DatabaseNotReadyError); a monitor request that cannot work against the
   * schema fails at once with InvalidMonitorRequestError (MonitorRejectedError when the server
   * refused it, carrying its error and details).
   */
  static async open<T extends TableRowTypes = TableRowTypes>(
    opts: OvsdbDatabaseOptions,
  ): Promise<OvsdbDatabase<T>> {
    const db = new OvsdbDatabase<T>(opts);
    db.start();
    try {
      await db.ready(opts.openTimeoutMs ?? 60_000);
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }

  /** Use `open()`; the constructor does not connect until `start()`. */
  constructor(opts: OvsdbDatabaseOptions) {
    super();
    this.opts = opts;
    this.database = opts.database;
    this.log = opts.logger ?? NOOP_LOGGER;
    this.leaderOnly = opts.leaderOnly ?? true;
    const list = (typeof opts.remotes === 'string' ? [opts.remotes] : opts.remotes).flatMap((r) =>
      parseRemotes(r).map(formatRemote),
    );
    this.rotation = new RemoteRotation(list, opts.shuffle === false ? () => 0 : Math.random);
    this.backoff = new Backoff(opts.backoff);
    // every remote is tried once at once before backing off
    this.backoff.resetWithFreeAttempts(list.length);
    for (const [t, sel] of Object.entries(opts.tables)) this.conditions.set(t, sel.where);
  }

  /** Starts the connection loop (idempotent). */
  start(): void {
    this.loop ??= this.runLoop().catch((err) => {
      this.log.error({ err }, 'OVSDB connection loop failed');
    });
  }

  // ---- reading ----------------------------------------------------------------------------

  /** The replica. Synchronous access: check `isConsistent` or `await ready()` first. */
  get cache(): DatabaseCache<T> {
    if (!this.cacheInstance) throw new DatabaseNotReadyError(`${this.database}: not connected yet, no cache`);
    return this.cacheInstance;
  }

  get schema(): DatabaseSchema {
    if (!this.schemaInstance)
      throw new DatabaseNotReadyError(`${this.database}: not connected yet, no schema`);
    return this.schemaInstance;
  }

  /** True while connected with a cache that matches the server. */
  get isConsistent(): boolean {
    return this.consistent;
  }

  /** The remote in use, if any. */
  get remote(): string | undefined {
    return this.conn?.remote;
  }

  /** The last transaction id seen (monitor reply or update3); all zeros when unknown. */
  get lastTransactionId(): string {
    return this.lastTxnId;
  }

  /** The monitor method the current server accepted. */
  get monitorMethod(): MonitorMethod | undefined {
    return this.conn?.method;
  }

  /** Resolves when connected and the cache is consistent; rejects after `timeoutMs` or on close. */
  ready(timeoutMs = this.opts.transactTimeoutMs ?? 60_000): Promise<void> {
    if (this.fatalError) return Promise.reject(this.fatalError);
    if (this.closed) return Promise.reject(new DatabaseClosedError(`${this.database}: handle is closed`));
    if (this.consistent) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve: () => {
          if (w.timer) clearTimeout(w.timer);
          this.waiters.delete(w);
          resolve();
        },
        reject: (err) => {
          if (w.timer) clearTimeout(w.timer);
          this.waiters.delete(w);
          reject(err);
        },
        timer: undefined,
      };
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          const why = this.lastError ? `: last error: ${this.lastError.message}` : '';
          w.reject(
            new DatabaseNotReadyError(
              `${this.database}: no consistent connection within ${timeoutMs} ms${why}`,
            ),
          );
        }, timeoutMs);
      }
      this.waiters.add(w);
    });
  }

  /** A monitored table once the cache is consistent. */
  async table<N extends keyof T & string>(name: N, timeoutMs?: number): Promise<TableCache<T[N]>> {
    await this.ready(timeoutMs);
    return this.cache.table(name);
  }

  async get<N extends keyof T & string>(table: N, uuid: string): Promise<T[N] | undefined> {
    return (await this.table(table)).get(uuid);
  }

  async list<N extends keyof T & string>(table: N): Promise<T[N][]> {
    return [...(await this.table(table)).rows()];
  }

  async lookup<N extends keyof T & string>(table: N, index: string, key: IndexKey): Promise<T[N][]> {
    return (await this.table(table)).lookup(index, key);
  }

  // ---- writing ----------------------------------------------------------------------------

  /**
   * Sends a transaction once the cache is consistent (waiting through a reconnection, bounded by
   * the timeout). With a builder the result is its `parseResults`; with raw ops the raw reply.
   * When the connection drops while the transaction is outstanding it is NOT resent: it may
   * have committed (writes are at-least-once), so only the caller can decide - use `wait`
   * guards to make a retry idempotent.
   */
  transact(ops: unknown[], opts?: TransactOptions): Promise<unknown[]>;
  transact<R>(txn: TransactionLike<R>, opts?: TransactOptions): Promise<R>;
  async transact<R>(txn: unknown[] | TransactionLike<R>, opts: TransactOptions = {}): Promise<unknown[] | R> {
    const budget = opts.timeoutMs ?? this.opts.transactTimeoutMs ?? 60_000;
    const deadline = Date.now() + budget;
    const ops = Array.isArray(txn) ? txn : txn.operations();
    let conn = this.conn;
    for (;;) {
      await this.ready(Math.max(1, deadline - Date.now()));
      conn = this.conn;
      if (conn?.client.isOpen) break;
      // The session has already closed (e.g. EPIPE as a leader died) but the handle has not
      // processed it yet. Nothing has been sent, so waiting for the next connection is safe.
      if (Date.now() >= deadline) throw new DatabaseNotReadyError(`${this.database}: connection lost`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const remaining = Math.max(1, deadline - Date.now());
    const raw = await conn.client.transact(this.database, ops, { timeoutMs: remaining });
    return Array.isArray(txn) ? raw : txn.parseResults(raw);
  }

  /**
   * This handle as the transport of txn.ts (`runTransaction`, `retryTransaction`): transactions
   * wait for a consistent connection like `transact` does.
   */
  transport(opts: TransactOptions = {}): TransactTransport {
    return {
      transact: (dbName: string, ops: unknown[]) => {
        if (dbName !== this.database) {
          return Promise.reject(new OvsdbError(`this handle serves ${this.database}, not ${dbName}`));
        }
        return this.transact(ops, opts);
      },
    };
  }

  /**
   * Changes the rows monitored in `table` (monitor_cond_change). Rows that now match arrive as
   * inserts, rows that no longer match as deletes, all before this resolves. While disconnected
   * the new condition is used by the next monitor request.
   */
  setCondition(table: string, where: readonly WhereClause[] | undefined): Promise<void> {
    if (!this.opts.tables[table]) return Promise.reject(new OvsdbError(`table ${table} is not monitored`));
    this.conditions.set(table, where);
    const run = this.condQueue.then(() => this.syncConditions());
    this.condQueue = run.catch(() => undefined);
    return run;
  }

  // ---- locks ------------------------------------------------------------------------------

  /**
   * Asks for lock `lockId` now and after every reconnection. Resolves with whether it is held
   * at once; 'lock-acquired' fires whenever it is obtained, 'lock-lost' when stolen or when the
   * connection drops (the lock belongs to a connection). With `steal` the lock is taken from
   * its holder now (who gets 'stolen'); after a reconnection it is asked for normally.
   */
  async acquireLock(lockId: string, opts: { steal?: boolean } = {}): Promise<boolean> {
    this.wantedLocks.add(lockId);
    const conn = this.conn;
    if (!conn || !this.consistent) return false;
    return this.requestLock(conn, lockId, opts.steal === true);
  }

  async releaseLock(lockId: string): Promise<void> {
    this.wantedLocks.delete(lockId);
    const conn = this.conn;
    // we stop acting as the owner before the server can hand the lock to someone else
    if (this.heldLocks.delete(lockId)) this.emit('lock-lost', lockId, 'released');
    if (conn && !conn.isOver) await conn.client.unlock(lockId).catch(() => undefined);
  }

  hasLock(lockId: string): boolean {
    return this.heldLocks.has(lockId);
  }

  // ---- shutting down -----------------------------------------------------------------------

  /** Stops everything: the connection, timers, waiters. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.consistent = false;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    this.wakeSleep?.();
    this.conn?.end({ kind: 'shutdown', message: 'closed by the application' });
    this.connecting?.end({ kind: 'shutdown', message: 'closed by the application' });
    for (const w of [...this.waiters]) w.reject(new DatabaseClosedError(`${this.database}: handle closed`));
    await this.loop;
  }

  // ---- the connection loop -----------------------------------------------------------------

  private async runLoop(): Promise<void> {
    while (!this.closed) {
      const delay = this.backoff.next();
      if (delay > 0) await this.sleep(delay);
      if (this.closed) break;
      const remote = this.rotation.next();
      let conn: Connection | undefined;
      try {
        conn = await this.connectOnce(remote);
      } catch (err) {
        this.lastError = err as Error;
        if (err instanceof InvalidMonitorRequestError) {
          if (!this.everConsistent) {
            this.giveUp(err);
            break;
          }
          // it worked before: the schema changed under us (a conversion); keep trying, loudly,
          // since a running application has no better option than waiting for a fitting server
          this.log.error({ remote, err: err.message }, 'OVSDB server refuses the data monitor');
          continue;
        }
        const level = err instanceof ServerRejectedError ? 'info' : 'warn';
        this.log[level](
          { remote, err: (err as Error).message },
          'OVSDB server not usable, trying the next one',
        );
        continue;
      }
      if (!conn) continue;
      this.backoff.reset();
      const reason = await conn.ended;
      this.onConnectionEnded(conn, reason);
      // after a connection that worked, each remote gets one try without delay before backing
      // off again: after a leadership loss or a crash the new leader is usually one of the other
      // remotes (OVS: reconnect backoff_free_tries = number of remotes; daf627f45)
      this.backoff.resetWithFreeAttempts(this.rotation.size);
    }
  }

  /** Stops trying for good: the monitor request cannot work, waiting for it would only time out. */
  private giveUp(err: InvalidMonitorRequestError): void {
    this.fatalError = err;
    this.log.error({ err: err.message }, 'OVSDB data monitor cannot work, giving up');
    for (const w of [...this.waiters]) w.reject(err);
  }

  private onConnectionEnded(conn: Connection, reason: EndReason): void {
    const wasConsistent = conn.wasConsistent;
    conn.client.close();
    for (const l of [...this.heldLocks]) {
      this.heldLocks.delete(l);
      this.emit('lock-lost', l, 'disconnected');
    }
    if (reason.kind === 'shutdown') return;
    this.log.info({ remote: conn.remote, reason: reason.message }, 'OVSDB connection ended');
    if (wasConsistent) this.emit('disconnected', { remote: conn.remote, reason: reason.message });
  }

  /** One attempt on one remote: vet the server, start the data monitor, and become consistent. */
  private async connectOnce(remote: string): Promise<Connection | undefined> {
    const clientOpts: OvsdbClientOptions = {};
    if (this.opts.tls) clientOpts.tls = this.opts.tls;
    if (this.opts.connectTimeoutMs !== undefined) clientOpts.connectTimeoutMs = this.opts.connectTimeoutMs;
    if (this.opts.probeIntervalMs !== undefined) clientOpts.probeIntervalMs = this.opts.probeIntervalMs;
    if (this.opts.requestTimeoutMs !== undefined) clientOpts.requestTimeoutMs = this.opts.requestTimeoutMs;
    if (this.opts.dumpTimeoutMs !== undefined) clientOpts.dumpTimeoutMs = this.opts.dumpTimeoutMs;
    const client = await OvsdbClient.connect(remote, clientOpts);
    if (this.closed) {
      client.close();
      return undefined;
    }
    let endResolve!: (r: EndReason) => void;
    const conn: Connection = {
      client,
      remote,
      method: undefined,
      ended: new Promise<EndReason>((r) => (endResolve = r)),
      isOver: false,
      wasConsistent: false,
      end: (reason) => {
        if (conn.isOver) return;
        conn.isOver = true;
        // closed at once, not when the loop gets to it, so that no read or write starts on it
        conn.wasConsistent = this.conn === conn && this.consistent;
        if (this.conn === conn) {
          this.consistent = false;
          this.conn = undefined;
        }
        client.close();
        endResolve(reason);
      },
    };
    client.on('close', (err) =>
      conn.end({ kind: 'closed', message: err ? err.message : 'connection closed' }),
    );
    this.connecting = conn;
    try {
      return await this.setUp(conn);
    } catch (err) {
      conn.end({ kind: 'closed', message: (err as Error).message });
      throw err;
    } finally {
      this.connecting = undefined;
    }
  }

  private async setUp(conn: Connection): Promise<Connection | undefined> {
    const { client, remote } = conn;
    try {
      await client.setDbChangeAware(true);
    } catch (err) {
      if (!isUnknownMethod(err)) throw err;
    }
    // 1. is this server acceptable?
    const watch = await watchServerDb(client, this.database);
    let info: ServerDbInfo | undefined;
    if (watch) {
      info = watch.current();
      const verdict = checkServerDb(info, {
        leaderOnly: this.leaderOnly,
        minIndex: this.minIndex,
        clusterId: this.opts.clusterId ?? null,
      });
      if (!verdict.accept) throw new ServerRejectedError(remote, verdict.reason);
      this.minIndex = verdict.minIndex;
      watch.onChange((now) => this.onServerRowChange(conn, now));
    } else if (!(await client.listDbs()).includes(this.database)) {
      throw new ServerRejectedError(remote, `server does not serve ${this.database}`);
    }
    // 2. the schema (first connection only; later ones reuse the cache built from it)
    if (!this.schemaInstance) {
      const text = info?.schema;
      const schema = parseSchema(text ? parseJson(text) : await client.getSchema(this.database));
      // both or neither: a selection that does not fit the schema leaves the handle without one
      this.cacheInstance = this.checkedRequest(() => new DatabaseCache<T>(schema, this.opts.tables));
      this.schemaInstance = schema;
    }
    const cache = this.cacheInstance!;
    // 3. the data monitor; notifications that arrive before its reply is applied are queued
    const sent = new Map<string, string>();
    const requests: Record<string, unknown> = {};
    for (const name of cache.tableNames()) {
      const req: Record<string, unknown> = { columns: cache.table(name).columnNames() };
      const where = this.checkedRequest(() => this.wireWhere(name));
      if (where !== undefined) req.where = where;
      sent.set(name, stringifyJson(where) ?? '');
      requests[name] = [req];
    }
    let live = false;
    const queued: MonitorNotification[] = [];
    // resuming is only valid for the conditions the cache was built with
    let conditionsChanged = this.conditionsUncertain;
    for (const [t, text] of sent) if (this.sentConditions.get(t) !== text) conditionsChanged = true;
    if (conditionsChanged) this.lastTxnId = ZERO_UUID;
    const since = this.lastTxnId;
    let result: MonitorBestResult;
    try {
      result = await client.monitorBest(this.database, DATA_MONITOR_ID, requests, since, {
        handler: (n) => {
          if (live) this.onDataNotification(conn, n);
          else queued.push(n);
        },
      });
    } catch (err) {
      if (isPermanentMonitorRefusal(err)) throw new MonitorRejectedError(this.database, remote, err);
      throw err;
    }
    if (conn.isOver) return undefined;
    conn.method = result.method;
    const resumed = result.method === 'monitor_cond_since' && result.found;
    let applied: ApplyResult;
    if (resumed) {
      applied = cache.applyUpdates(result.updates, 2);
    } else {
      applied = cache.resync(result.updates, result.method === 'monitor' ? 1 : 2);
    }
    this.lastTxnId = result.lastTxnId;
    this.sentConditions = sent;
    this.conditionsUncertain = false;
    live = true;
    for (const n of queued.splice(0)) this.onDataNotification(conn, n);
    if (applied.problems.length > 0 && this.reportProblems(conn, applied.problems)) return undefined;
    if (conn.isOver) return undefined;
    // 4. consistent: let waiting readers and writers through
    this.conn = conn;
    this.consistent = true;
    this.everConsistent = true;
    this.lastError = undefined;
    this.log.info(
      {
        remote,
        method: result.method,
        resumed,
        changes: applied.events.length,
        model: info?.model ?? 'unknown',
      },
      'OVSDB monitoring',
    );
    for (const w of [...this.waiters]) w.resolve();
    if (!resumed) this.emit('resynced', { remote, changes: applied.events.length });
    this.emit('connected', { remote, model: info?.model ?? 'standalone', resumed });
    for (const l of this.wantedLocks) void this.requestLock(conn, l).catch(() => undefined);
    client.on('locked', (l) => this.onLockNotification(conn, l, true));
    client.on('stolen', (l) => this.onLockNotification(conn, l, false));
    // conditions changed while we were connecting
    if (this.conditionsDiffer()) {
      this.condQueue = this.condQueue.then(() => this.setConditionsNow()).catch(() => undefined);
    }
    return conn;
  }

  /**
   * Runs a step that builds the monitor request from the table selection and the schema: the
   * errors it can raise (an unknown table, column or index; a condition that does not fit its
   * column) will be the same on every server, so they become InvalidMonitorRequestError.
   */
  private checkedRequest<R>(build: () => R): R {
    try {
      return build();
    } catch (err) {
      if (err instanceof CacheLookupError || err instanceof OvsdbTxnBuildError) {
        throw new InvalidMonitorRequestError(this.database, err.message, { cause: err });
      }
      throw err;
    }
  }

  private onServerRowChange(conn: Connection, info: ServerDbInfo | undefined): void {
    if (conn.isOver) return;
    const verdict = checkServerDbWhileConnected(info, {
      leaderOnly: this.leaderOnly,
      minIndex: this.minIndex,
      clusterId: this.opts.clusterId ?? null,
    });
    if (verdict.accept) {
      this.minIndex = verdict.minIndex;
      return;
    }
    this.log.info({ remote: conn.remote, reason: verdict.reason }, 'OVSDB server no longer usable');
    if (this.consistent && this.conn === conn)
      this.emit('leader-changed', { remote: conn.remote, reason: verdict.reason });
    conn.end({ kind: 'leadership', message: verdict.reason });
  }

  private onDataNotification(conn: Connection, n: MonitorNotification): void {
    if (conn.isOver) return;
    if (n.method === 'monitor_canceled') {
      this.lastTxnId = ZERO_UUID;
      conn.end({ kind: 'canceled', message: 'the server canceled the monitor (database changed)' });
      return;
    }
    const res = this.cacheInstance!.applyUpdates(n.updates, n.method === 'update' ? 1 : 2);
    if (n.method === 'update3') this.lastTxnId = n.lastTxnId;
    if (res.problems.length > 0) this.reportProblems(conn, res.problems);
  }

  /** Logs problems; when they mean the replica is wrong, forces a full resync. Returns true then. */
  private reportProblems(conn: Connection, problems: CacheProblem[]): boolean {
    this.log.warn(
      { remote: conn.remote, problems: problems.slice(0, 10) },
      'OVSDB cache out of sync with the server',
    );
    this.emit('inconsistent', problems);
    this.lastTxnId = ZERO_UUID;
    conn.end({ kind: 'inconsistent', message: problems[0]!.message });
    return true;
  }

  // ---- conditions -------------------------------------------------------------------------

  /** The wanted condition of `table` in wire notation (undefined: every row). */
  private wireWhere(table: string): unknown[] | undefined {
    const w = this.conditions.get(table);
    if (w === undefined || w.length === 0) return undefined;
    const ts = this.schema.tables.get(table)!;
    return w.map((c) => (Array.isArray(c) ? c : encodeCondition(ts, c as Condition)));
  }

  private conditionsDiffer(): boolean {
    for (const t of this.conditions.keys()) {
      if ((stringifyJson(this.wireWhere(t)) ?? '') !== this.sentConditions.get(t)) return true;
    }
    return false;
  }

  /** Brings the server's conditions in line with the wanted ones (on the current connection). */
  private async syncConditions(): Promise<void> {
    if (!this.conn || !this.consistent) {
      // the next monitor request carries them; resolve when that one is in place
      await this.ready();
      if (!this.conditionsDiffer()) return;
    }
    await this.setConditionsNow();
  }

  private async setConditionsNow(): Promise<void> {
    const conn = this.conn;
    if (!conn || conn.isOver) return this.syncConditions();
    if (conn.method === 'monitor') {
      throw new OvsdbError(`${conn.remote} supports only "monitor": conditions cannot be changed`);
    }
    const wanted = new Map<string, string>();
    const requests: Record<string, unknown> = {};
    for (const t of this.conditions.keys()) {
      const w = this.wireWhere(t);
      const text = stringifyJson(w) ?? '';
      if (text === this.sentConditions.get(t)) continue;
      wanted.set(t, text);
      // an absent condition is "all rows": send the literal true
      requests[t] = [{ where: w ?? [true] }];
    }
    if (Object.keys(requests).length === 0) return;
    this.conditionsUncertain = true;
    try {
      await conn.client.monitorCondChange(DATA_MONITOR_ID, DATA_MONITOR_ID, requests);
    } catch (err) {
      // a refusal by a live server changed nothing; a lost connection leaves it uncertain, and
      // the next monitor request carries the new conditions: resolve once that one is in place
      if (err instanceof OvsdbRpcError && !conn.isOver) {
        this.conditionsUncertain = false;
        throw err;
      }
      return this.syncConditions();
    }
    if (conn.isOver) return;
    for (const [t, text] of wanted) this.sentConditions.set(t, text);
    this.conditionsUncertain = false;
  }

  // ---- locks ------------------------------------------------------------------------------

  private async requestLock(conn: Connection, lockId: string, steal = false): Promise<boolean> {
    const { locked } = steal ? await conn.client.steal(lockId) : await conn.client.lock(lockId);
    if (locked && !conn.isOver && this.wantedLocks.has(lockId) && !this.heldLocks.has(lockId)) {
      this.heldLocks.add(lockId);
      this.emit('lock-acquired', lockId);
    }
    return locked;
  }

  private onLockNotification(conn: Connection, lockId: string, locked: boolean): void {
    if (conn.isOver || !this.wantedLocks.has(lockId)) return;
    if (locked && !this.heldLocks.has(lockId)) {
      this.heldLocks.add(lockId);
      this.emit('lock-acquired', lockId);
    } else if (!locked && this.heldLocks.delete(lockId)) {
      this.emit('lock-lost', lockId, 'stolen');
    }
  }

  // ---- timers ------------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeSleep = () => {
        this.wakeSleep = undefined;
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        resolve();
      };
      this.sleepTimer = setTimeout(() => this.wakeSleep?.(), ms);
    });
  }
}
