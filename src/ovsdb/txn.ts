/**
 * Transactions: a builder bound to a DatabaseSchema that validates rows before anything is sent,
 * the mapping of the server's result array back to the operations (including the extra
 * commit-error element), an executor and a retry helper.
 *
 * Named uuids: `insert` gives every row a uuid-name (the caller's or a generated one) and returns
 * it; any uuid-typed value in the same transaction may use that name, also before the insert
 * (ovsdb-server resolves names transaction-wide). After the commit, `result.uuidOf(name)` gives
 * the real uuid.
 */
import { decodeDatum, describeJson, encodeDatum, validateValue } from './datum.js';
import { OvsdbDataError, OvsdbTxnBuildError } from './data-errors.js';
import { encodeWhere, type Condition } from './condition.js';
import { encodeMutations, type Mutation } from './mutation.js';
import { columnSchema, tableSchema, type DatabaseSchema, type TableSchema } from './schema.js';
import { OvsdbConnectError, OvsdbConnectionClosedError, OvsdbError, OvsdbTimeoutError } from './errors.js';
import { NAMED_UUID_RE, UUID_RE, type Value } from './value.js';

export { OvsdbTxnBuildError };

export type OpName =
  'insert' | 'select' | 'update' | 'mutate' | 'delete' | 'wait' | 'commit' | 'abort' | 'comment' | 'assert';

/** A row as the builder accepts it: column → native value (undefined members are skipped). */
export type RowInput = Record<string, Value | undefined>;

/**
 * Table name → row type, e.g. the generated `NbTables`; the default accepts any table and column.
 * With a generated map, table names, column names and value types are checked by tsc.
 */
export type TablesMap = Record<string, object>;
type AnyTables = Record<string, RowInput>;
/** Column names of table K (including _uuid and _version). */
export type ColumnOf<T, K extends keyof T> = Extract<keyof T[K], string>;
/** The writable part of a row of table K. */
export type RowOf<T, K extends keyof T> = Partial<Omit<T[K], '_uuid' | '_version'>>;

export interface InsertOptions {
  /** the named uuid other operations use to refer to the new row (generated when omitted) */
  uuidName?: string;
  /** an explicit uuid for the new row (OVS ≥ 2.13; must not exist yet) */
  uuid?: string;
}

export type OpResult =
  | { op: 'insert'; uuid: string }
  | { op: 'select'; rows: Array<Record<string, Value>> }
  | { op: 'update' | 'mutate' | 'delete'; count: number }
  | { op: 'wait' | 'commit' | 'abort' | 'comment' | 'assert'; ok: true };

export interface TxnFailure {
  /** index of the failed operation; equal to the number of operations for a commit error */
  index: number;
  /** the failed operation's name, or 'commit' for the extra commit-error element */
  op: OpName | 'commit';
  /** the server's error string, e.g. "constraint violation", "timed out", "referential integrity violation" */
  error: string;
  details?: string;
  /** true when every operation succeeded but the commit failed (the extra result element) */
  commitError: boolean;
}

export interface TxnResult {
  ok: boolean;
  /** one slot per operation; null after a failed operation */
  results: Array<OpResult | null>;
  error?: TxnFailure;
  /** uuid-name → real uuid of the rows inserted */
  inserted: Map<string, string>;
  /** the real uuid for a name given to (or returned by) insert */
  uuidOf(name: string): string | undefined;
}

/** A transaction failed: a failed operation or a commit error; `failure` says which and why. */
export class OvsdbTransactionError extends OvsdbError {
  readonly failure: TxnFailure;
  readonly result: TxnResult;
  constructor(result: TxnResult) {
    const f = result.error!;
    const what = f.commitError ? 'commit failed' : `operation ${f.index} (${f.op}) failed`;
    super(`transaction ${what}: ${f.error}${f.details ? `: ${f.details}` : ''}`);
    this.failure = f;
    this.result = result;
  }
  get error(): string {
    return this.failure.error;
  }
}

/** The server's reply does not line up with the operations sent. */
export class OvsdbTxnResultError extends OvsdbError {}

interface OpMeta {
  op: OpName;
  table?: TableSchema;
  /** select: the columns asked for (all when undefined) */
  columns?: string[];
  /** insert: the name given to the row */
  uuidName?: string;
  uuid?: string;
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Collects the named uuids a wire value mentions (to check they are all defined by an insert). */
function collectNamedRefs(json: unknown, out: Set<string>): void {
  if (!Array.isArray(json)) return;
  if (json.length === 2 && json[0] === 'named-uuid' && typeof json[1] === 'string') {
    out.add(json[1]);
    return;
  }
  for (const x of json) collectNamedRefs(x, out);
}

let txnCounter = 0;

export class TxnBuilder<T extends object = AnyTables> {
  private readonly ops: Array<Record<string, unknown>> = [];
  private readonly meta: OpMeta[] = [];
  private readonly definedNames = new Set<string>();
  private readonly referencedNames = new Set<string>();
  private readonly namePrefix: string;
  private autoNames = 0;

  constructor(readonly schema: DatabaseSchema) {
    // distinct per builder so that a retried transaction never reuses a name by accident
    this.namePrefix = `row_${(txnCounter++).toString(36)}_`;
  }

  get database(): string {
    return this.schema.name;
  }

  get size(): number {
    return this.ops.length;
  }

  private table(name: string): TableSchema {
    try {
      return tableSchema(this.schema, name);
    } catch (err) {
      throw new OvsdbTxnBuildError((err as Error).message);
    }
  }

  private column(table: TableSchema, name: string) {
    try {
      return columnSchema(table, name);
    } catch (err) {
      throw new OvsdbTxnBuildError((err as Error).message);
    }
  }

  /** Validates and encodes a row; `forUpdate` also refuses immutable columns. */
  private encodeRow(table: TableSchema, row: RowInput, forUpdate: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(row)) {
      const value = row[name];
      if (value === undefined) continue;
      if (name === '_uuid' || name === '_version') {
        throw new OvsdbTxnBuildError(
          `${table.name}.${name} cannot be written${name === '_uuid' && !forUpdate ? ' (use the insert option uuid)' : ''}`,
        );
      }
      const col = this.column(table, name);
      if (forUpdate && !col.mutable) {
        throw new OvsdbTxnBuildError(`${table.name}.${name} is immutable and cannot be updated`);
      }
      validateValue(value, col.type, { column: `${table.name}.${name}` });
      const json = encodeDatum(value, col.type);
      collectNamedRefs(json, this.referencedNames);
      Object.defineProperty(out, name, { value: json, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private where(table: TableSchema, conditions: readonly Condition[]): unknown[] {
    const json = encodeWhere(table, conditions);
    collectNamedRefs(json, this.referencedNames);
    return json;
  }

  private push(op: Record<string, unknown>, meta: OpMeta): number {
    this.ops.push(op);
    this.meta.push(meta);
    return this.ops.length - 1;
  }

  /** Inserts a row; returns the name (or the explicit uuid) other operations can use to refer to it. */
  insert<K extends Extract<keyof T, string>>(table: K, row: RowOf<T, K>, opts: InsertOptions = {}): string {
    const t = this.table(table);
    const op: Record<string, unknown> = {
      op: 'insert',
      table,
      row: this.encodeRow(t, row as RowInput, false),
    };
    if (opts.uuid !== undefined) {
      if (!UUID_RE.test(opts.uuid))
        throw new OvsdbTxnBuildError(`insert uuid ${JSON.stringify(opts.uuid)} is not a UUID`);
      op.uuid = opts.uuid;
    }
    let name = opts.uuidName;
    if (name === undefined && opts.uuid === undefined) name = `${this.namePrefix}${this.autoNames++}`;
    if (name !== undefined) {
      if (!NAMED_UUID_RE.test(name))
        throw new OvsdbTxnBuildError(`uuid-name must be <id> (not ${JSON.stringify(name)})`);
      if (this.definedNames.has(name)) throw new OvsdbTxnBuildError(`duplicate uuid-name ${name}`);
      this.definedNames.add(name);
      op['uuid-name'] = name;
    }
    const meta: OpMeta = { op: 'insert', table: t };
    if (name !== undefined) meta.uuidName = name;
    if (opts.uuid !== undefined) meta.uuid = opts.uuid;
    this.push(op, meta);
    return name ?? opts.uuid!;
  }

  /** Selects rows; the result rows hold `columns` (all columns, with _uuid and _version, when omitted). */
  select<K extends Extract<keyof T, string>>(
    table: K,
    where: readonly Condition<ColumnOf<T, K>>[],
    columns?: readonly ColumnOf<T, K>[],
  ): number {
    const t = this.table(table);
    const op: Record<string, unknown> = { op: 'select', table, where: this.where(t, where) };
    if (columns) {
      for (const c of columns) this.column(t, c);
      op.columns = [...columns];
    }
    return this.push(
      op,
      columns ? { op: 'select', table: t, columns: [...columns] } : { op: 'select', table: t },
    );
  }

  update<K extends Extract<keyof T, string>>(
    table: K,
    where: readonly Condition<ColumnOf<T, K>>[],
    row: RowOf<T, K>,
  ): number {
    const t = this.table(table);
    return this.push(
      { op: 'update', table, where: this.where(t, where), row: this.encodeRow(t, row as RowInput, true) },
      { op: 'update', table: t },
    );
  }

  mutate<K extends Extract<keyof T, string>>(
    table: K,
    where: readonly Condition<ColumnOf<T, K>>[],
    mutations: readonly Mutation<ColumnOf<T, K>>[],
  ): number {
    const t = this.table(table);
    const muts = encodeMutations(t, mutations);
    collectNamedRefs(muts, this.referencedNames);
    return this.push(
      { op: 'mutate', table, where: this.where(t, where), mutations: muts },
      { op: 'mutate', table: t },
    );
  }

  delete<K extends Extract<keyof T, string>>(table: K, where: readonly Condition<ColumnOf<T, K>>[]): number {
    const t = this.table(table);
    return this.push({ op: 'delete', table, where: this.where(t, where) }, { op: 'delete', table: t });
  }

  /**
   * Waits until the rows matching `where`, projected on `columns`, are (`==`) or are not (`!=`)
   * exactly `rows`. With timeoutMs 0 (the default) this is an optimistic-concurrency guard: a
   * mismatch fails the transaction at once with "timed out".
   */
  wait<K extends Extract<keyof T, string>>(
    table: K,
    where: readonly Condition<ColumnOf<T, K>>[],
    columns: readonly ColumnOf<T, K>[],
    until: '==' | '!=',
    rows: readonly RowOf<T, K>[],
    timeoutMs = 0,
  ): number {
    const t = this.table(table);
    if (until !== '==' && until !== '!=')
      throw new OvsdbTxnBuildError(`wait until must be "==" or "!=" (not ${until})`);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0)
      throw new OvsdbTxnBuildError('wait timeout must be a non-negative integer');
    for (const c of columns) this.column(t, c);
    const cols: readonly string[] = columns;
    const encodedRows = (rows as readonly RowInput[]).map((r) => {
      for (const k of Object.keys(r)) {
        if (!cols.includes(k))
          throw new OvsdbTxnBuildError(`wait row column ${k} is not among the wait columns`);
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(r)) {
        const v = r[k];
        if (v === undefined) continue;
        const col = this.column(t, k);
        validateValue(v, col.type, { column: `${t.name}.${k}` });
        out[k] = encodeDatum(v, col.type);
      }
      collectNamedRefs(out, this.referencedNames);
      return out;
    });
    return this.push(
      {
        op: 'wait',
        table,
        where: this.where(t, where),
        columns: [...columns],
        until,
        rows: encodedRows,
        timeout: timeoutMs,
      },
      { op: 'wait', table: t },
    );
  }

  comment(text: string): number {
    return this.push({ op: 'comment', comment: text }, { op: 'comment' });
  }

  /** Fails the transaction with "not owner" unless this session holds lock `lockName`. */
  assert(lockName: string): number {
    return this.push({ op: 'assert', lock: lockName }, { op: 'assert' });
  }

  commit(durable: boolean): number {
    return this.push({ op: 'commit', durable }, { op: 'commit' });
  }

  /** Makes the transaction fail with "aborted" (useful to test a transaction without applying it). */
  abort(): number {
    return this.push({ op: 'abort' }, { op: 'abort' });
  }

  /** The wire operations, ready for `transact(db, ops)`. Throws when a named uuid is used but never defined. */
  operations(): unknown[] {
    for (const name of this.referencedNames) {
      if (!this.definedNames.has(name)) {
        throw new OvsdbTxnBuildError(
          `named uuid ${name} is referenced but no insert in this transaction defines it`,
        );
      }
    }
    return this.ops.slice();
  }

  /** Maps the server's result array onto the operations (see TxnResult). */
  parseResults(raw: unknown): TxnResult {
    if (!Array.isArray(raw))
      throw new OvsdbTxnResultError(`transact result must be an array, got ${typeof raw}`);
    const n = this.meta.length;
    if (raw.length < n || raw.length > n + 1) {
      throw new OvsdbTxnResultError(`transact result has ${raw.length} elements for ${n} operations`);
    }
    const inserted = new Map<string, string>();
    const results: Array<OpResult | null> = [];
    let error: TxnFailure | undefined;
    for (let i = 0; i < raw.length; i++) {
      const r: unknown = raw[i];
      if (i === n) {
        // the extra element: every op succeeded, the commit did not (or null when it did)
        if (!error && r !== null) error = failureFrom(r, i, 'commit', true);
        continue;
      }
      if (error) {
        results.push(null);
        continue;
      }
      const meta = this.meta[i]!;
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        throw new OvsdbTxnResultError(`result ${i} (${meta.op}) is not an object`);
      }
      const o = r as Record<string, unknown>;
      if (hasOwn(o, 'error')) {
        error = failureFrom(o, i, meta.op, false);
        results.push(null);
        continue;
      }
      results.push(this.mapResult(meta, o, i, inserted));
    }
    const result: TxnResult = {
      ok: error === undefined,
      results,
      inserted,
      uuidOf: (name: string) => inserted.get(name),
    };
    if (error) result.error = error;
    return result;
  }

  private mapResult(
    meta: OpMeta,
    o: Record<string, unknown>,
    i: number,
    inserted: Map<string, string>,
  ): OpResult {
    switch (meta.op) {
      case 'insert': {
        const uuid = decodeUuidResult(o.uuid, i);
        if (meta.uuidName) inserted.set(meta.uuidName, uuid);
        if (meta.uuid) inserted.set(meta.uuid, uuid);
        return { op: 'insert', uuid };
      }
      case 'select': {
        if (!Array.isArray(o.rows)) throw new OvsdbTxnResultError(`result ${i} (select) has no rows`);
        const table = meta.table!;
        const rows = o.rows.map((row: unknown) => decodeRow(table, row, meta.columns, i));
        return { op: 'select', rows };
      }
      case 'update':
      case 'mutate':
      case 'delete': {
        if (typeof o.count !== 'number')
          throw new OvsdbTxnResultError(`result ${i} (${meta.op}) has no count`);
        return { op: meta.op, count: o.count };
      }
      default:
        return { op: meta.op, ok: true };
    }
  }
}

function decodeUuidResult(json: unknown, i: number): string {
  if (Array.isArray(json) && json[0] === 'uuid' && typeof json[1] === 'string' && UUID_RE.test(json[1]))
    return json[1];
  throw new OvsdbTxnResultError(`result ${i} (insert) has no valid uuid`);
}

function decodeRow(
  table: TableSchema,
  row: unknown,
  columns: string[] | undefined,
  i: number,
): Record<string, Value> {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw new OvsdbTxnResultError(`result ${i} (select) holds a row that is not an object`);
  }
  const out: Record<string, Value> = {};
  const src = row as Record<string, unknown>;
  for (const name of columns ?? Object.keys(src)) {
    if (!hasOwn(src, name)) continue;
    const col = table.columns.get(name);
    if (!col) throw new OvsdbTxnResultError(`result ${i} (select) has unknown column ${table.name}.${name}`);
    try {
      Object.defineProperty(out, name, {
        value: decodeDatum(src[name], col.type, { allowNamedUuid: false }),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } catch (err) {
      if (err instanceof OvsdbDataError) {
        throw new OvsdbTxnResultError(`result ${i} (select) column ${table.name}.${name}: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
  return out;
}

function failureFrom(r: unknown, index: number, op: OpName | 'commit', commitError: boolean): TxnFailure {
  const o = (r && typeof r === 'object' ? r : {}) as Record<string, unknown>;
  const f: TxnFailure = {
    index,
    op,
    error: typeof o.error === 'string' ? o.error : describeJson(r),
    commitError,
  };
  if (typeof o.details === 'string') f.details = o.details;
  return f;
}

/** The rows of the select at operation `index` (throws when that slot is not a select result). */
export function selectedRows(result: TxnResult, index: number): Array<Record<string, Value>> {
  const r = result.results[index];
  if (!r || r.op !== 'select') throw new OvsdbTxnResultError(`operation ${index} is not a successful select`);
  return r.rows;
}

/** What runTransaction needs: H1's OvsdbClient (or a reconnecting database handle) fits. */
export interface TransactTransport {
  transact(db: string, ops: unknown[]): Promise<unknown[]>;
}

/** Sends the transaction and maps the result; throws OvsdbTransactionError when it failed. */
export async function runTransaction(transport: TransactTransport, txn: TxnBuilder): Promise<TxnResult> {
  const ops = txn.operations();
  const raw = await transport.transact(txn.database, ops);
  const result = txn.parseResults(raw);
  if (!result.ok) throw new OvsdbTransactionError(result);
  return result;
}

export interface RetryOptions {
  /** total tries, including the first (default 3) */
  attempts?: number;
  /**
   * Declares that running the transaction twice does no harm. Only then is it retried after a
   * connection error or timeout, where it is unknown whether the server committed it.
   */
  idempotent?: boolean;
  /** overrides the default decision (see retryTransaction) */
  isRetryable?: (err: unknown, attempt: number) => boolean;
  /** pause before retry n (1-based); default none */
  delayMs?: (attempt: number) => number;
}

/** Connection-level failures after which the transaction's fate on the server is unknown. */
export function isConnectionError(err: unknown): boolean {
  return (
    err instanceof OvsdbConnectionClosedError ||
    err instanceof OvsdbConnectError ||
    err instanceof OvsdbTimeoutError
  );
}

/**
 * Runs `build()` and sends it; on a retryable failure builds again (so guards and values are
 * recomputed from fresh state) and retries. By default retryable are: a "timed out" failure of
 * a `wait` guard (optimistic concurrency: someone changed the rows), and connection errors when
 * the caller declared the transaction idempotent. Everything else is thrown at once.
 */
export async function retryTransaction(
  build: () => TxnBuilder,
  transport: TransactTransport,
  opts: RetryOptions = {},
): Promise<TxnResult> {
  const attempts = opts.attempts ?? 3;
  const defaultRetryable = (err: unknown): boolean => {
    if (err instanceof OvsdbTransactionError)
      return err.failure.error === 'timed out' && err.failure.op === 'wait';
    return opts.idempotent === true && isConnectionError(err);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransaction(transport, build());
    } catch (err) {
      const retryable = opts.isRetryable ? opts.isRetryable(err, attempt) : defaultRetryable(err);
      if (!retryable || attempt >= attempts) throw err;
      const pause = opts.delayMs?.(attempt) ?? 0;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
  }
}
