/**
 * Transaction batching: the operations of many keys (each the result of one reconcile) go to NB in
 * few transactions instead of one per key.
 *
 * A submission waits at most `lingerMs` for others (or until `maxOps` operations are pending), then
 * the whole batch is sent as one transaction. Each submitter gets its own outcome: when a batch
 * fails, every key of it is retried in a transaction of its own, so one bad key (a row that
 * vanished, a guard that fired) fails alone and the others still commit.
 *
 * Named uuids must be unique across a batch: every submission gets its own prefix, which the caller
 * passes to the reconciler (`uuidNamePrefix`) before it submits.
 */
import type { DatabaseSchema } from '../ovsdb/schema.js';
import { OvsdbTransactionError, TxnBuilder, type TxnResult } from '../ovsdb/txn.js';
import { appendToTxn, type NbOperation } from '../ovn/reconcile/operations.js';

/** What the batcher needs from the NB handle (OvsdbDatabase fits). */
export interface BatchTransport {
  readonly schema: DatabaseSchema;
  transact<R>(txn: { operations(): unknown[]; parseResults(raw: unknown[]): R }): Promise<R>;
}

export interface BatcherOptions {
  /** how long the first submission of a batch waits for others (default 5 ms) */
  lingerMs?: number;
  /** send at once when this many operations are pending (default 2000) */
  maxOps?: number;
  /**
   * Transactions in flight at most (default 2). While that many are unanswered, submissions keep
   * gathering (up to maxOps) and go together as soon as one is answered: under load batches grow
   * with the server's latency instead of one small transaction per linger period. Every
   * transaction costs ovsdb-server and every client's cache work proportional to the rows it
   * touches, and a load-balancer group row with a member per service is touched by most of them.
   */
  maxInFlight?: number;
  /** called for every transaction that was committed (metrics, tests) */
  onCommit?: (info: { keys: number; operations: number }) => void;
}

export interface BatcherStats {
  /** transactions sent (committed or not) */
  transactions: number;
  committed: number;
  failed: number;
  /** batches that failed and were split into one transaction per key */
  split: number;
  operations: number;
}

export class BatchClosedError extends Error {
  override name = 'BatchClosedError';
}

interface Submission {
  key: string;
  ops: readonly NbOperation[];
  resolve(r: TxnResult): void;
  reject(err: unknown): void;
}

export class TxnBatcher {
  private readonly lingerMs: number;
  private readonly maxOps: number;
  private readonly maxInFlight: number;
  private pending: Submission[] = [];
  private pendingOps = 0;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counters: BatcherStats = {
    transactions: 0,
    committed: 0,
    failed: 0,
    split: 0,
    operations: 0,
  };

  constructor(
    private readonly transport: BatchTransport,
    private readonly opts: BatcherOptions = {},
  ) {
    this.lingerMs = opts.lingerMs ?? 5;
    this.maxOps = opts.maxOps ?? 2000;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  }

  /** A named-uuid prefix no other submission of this batcher uses. */
  uuidPrefix(): string {
    return `k${(this.seq++).toString(36)}_`;
  }

  stats(): BatcherStats {
    return { ...this.counters };
  }

  /**
   * Queues the operations of one key; resolves once they are committed (with the result of the
   * transaction that carried them), rejects with the key's own failure. No operations: resolves at
   * once without any transaction.
   */
  submit(key: string, ops: readonly NbOperation[]): Promise<TxnResult | undefined> {
    if (ops.length === 0) return Promise.resolve(undefined);
    if (this.closed) return Promise.reject(new BatchClosedError('transaction batcher is closed'));
    return new Promise<TxnResult>((resolve, reject) => {
      this.pending.push({ key, ops, resolve, reject });
      this.pendingOps += ops.length;
      if (this.pendingOps >= this.maxOps) this.flush();
      else this.timer ??= setTimeout(() => this.flushIfRoom(), this.lingerMs);
    });
  }

  /** After the linger: sends unless the in-flight limit is reached (then an answer sends it). */
  private flushIfRoom(): void {
    this.timer = undefined;
    if (this.inFlight.size < this.maxInFlight) this.flush();
  }

  /** Sends what is pending now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingOps = 0;
    const p = this.send(batch).finally(() => {
      this.inFlight.delete(p);
      // what gathered while the limit was reached goes now (its linger is long over)
      if (this.pending.length > 0 && !this.timer && this.inFlight.size < this.maxInFlight) this.flush();
    });
    this.inFlight.add(p);
  }

  /** Sends what is pending, waits for every transaction in flight, then refuses new work. */
  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async send(batch: Submission[]): Promise<void> {
    try {
      const result = await this.transact(batch);
      for (const s of batch) s.resolve(result);
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
    }
    // one key's failure must not fail the others: each on its own
    this.counters.split++;
    await Promise.all(
      batch.map(async (s) => {
        try {
          s.resolve(await this.transact([s]));
        } catch (err) {
          s.reject(err);
        }
      }),
    );
  }

  private async transact(batch: Submission[]): Promise<TxnResult> {
    const txn = new TxnBuilder(this.transport.schema);
    let count = 0;
    for (const s of batch) {
      appendToTxn(txn, s.ops);
      count += s.ops.length;
    }
    this.counters.transactions++;
    this.counters.operations += count;
    const result = await this.transport.transact(txn);
    if (!result.ok) {
      this.counters.failed++;
      throw new OvsdbTransactionError(result);
    }
    this.counters.committed++;
    this.opts.onCommit?.({ keys: batch.length, operations: count });
    return result;
  }
}
