/**
 * A JSON-RPC 1.0 session over a byte stream, exactly as ovsdb-server speaks it:
 *   request       {"method": M, "params": [...], "id": ID}
 *   response      {"result": R, "error": null, "id": ID}  or  {"result": null, "error": E, "id": ID}
 *   notification  {"method": M, "params": [...], "id": null}
 * There is no "jsonrpc" member. Either side may send "echo"; ovsdb-server drops clients that do
 * not answer its echo probes, so this session always answers them.
 *
 * Messages are handled strictly in arrival order: a notification that arrived before a
 * response is delivered to listeners before the response's promise settles (ovsdb-server sends
 * the updates caused by our own transaction before the transaction reply), and the code awaiting
 * a response runs before any message that arrived after it (see drainInbox).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  OvsdbConnectionClosedError,
  OvsdbError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbTimeoutError,
} from '../errors.js';
import { JsonFramer } from './framer.js';
import { parseJson, stringifyJson } from './json.js';

export interface JsonRpcSessionOptions {
  /**
   * Client-side inactivity probe: when nothing has been received for this long, send "echo";
   * when still nothing arrives within another interval, close the session with an
   * OvsdbTimeoutError. 0 disables it. Default 5000 (ovsdb-server's own default).
   */
  probeIntervalMs?: number;
  /** Default per-request budget; 0 = wait forever. Default 30 000. */
  requestTimeoutMs?: number;
  /** Largest single message accepted, in bytes. */
  maxMessageBytes?: number;
  /** Name used in error messages (usually the remote string). */
  peerName?: string;
}

export interface CallOptions {
  /** Budget for this request in ms (0 = no limit); overrides the session default. */
  timeoutMs?: number;
  /** Aborting rejects the call; `onAbort` may tell the server (e.g. a "cancel" notification). */
  signal?: AbortSignal;
}

/** A request that was sent: its id (for `cancel`) and the promise of its result. */
export interface SentRequest<T = unknown> {
  id: number;
  result: Promise<T>;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface JsonRpcSessionEvents {
  /** A notification (id null) from the peer. */
  notification: [method: string, params: unknown];
  /** The peer sent an echo request (already answered). */
  echo: [params: unknown];
  /** The session is closed; `reason` is set when it closed because of an error. */
  close: [reason: Error | undefined];
}

type Json = Record<string, unknown>;

export class JsonRpcSession extends EventEmitter<JsonRpcSessionEvents> {
  readonly peerName: string;
  private readonly stream: Duplex;
  private readonly framer: JsonFramer;
  private readonly pending = new Map<number, Pending>();
  private readonly requestTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private nextId = 1;
  private closedReason: Error | undefined | null = null; // null = open
  private lastReceived = Date.now();
  private probeTimer: NodeJS.Timeout | undefined;
  private probeOutstanding = false;
  /** received, not yet handled messages (see drainInbox) */
  private inbox: unknown[] = [];
  private inboxHead = 0;
  private drainScheduled = false;
  /** why the session will close once the inbox is handled */
  private pendingClose: Error | undefined;

  constructor(stream: Duplex, opts: JsonRpcSessionOptions = {}) {
    super();
    this.stream = stream;
    this.peerName = opts.peerName ?? 'OVSDB peer';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 5_000;
    this.framer = new JsonFramer({ maxValueBytes: opts.maxMessageBytes });
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err: Error) =>
      this.closeAfterInbox(
        new OvsdbConnectionClosedError(`connection to ${this.peerName} failed: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    stream.on('end', () => {
      const how = this.framer.inValue ? ' in the middle of a message' : '';
      this.closeAfterInbox(new OvsdbConnectionClosedError(`${this.peerName} closed the connection${how}`));
    });
    stream.on('close', () =>
      this.closeAfterInbox(new OvsdbConnectionClosedError(`connection to ${this.peerName} closed`)),
    );
    if (this.probeIntervalMs > 0) this.armProbe(this.probeIntervalMs);
    if (stream.destroyed || !stream.readable) {
      // no event would ever tell us; calls would hang until their timeouts
      queueMicrotask(() =>
        this.closeAfterInbox(
          new OvsdbConnectionClosedError(`connection to ${this.peerName} is already closed`),
        ),
      );
    }
  }

  /** True until the session closed (by either side or by an error). */
  get isOpen(): boolean {
    return this.closedReason === null && !this.pendingClose;
  }

  /** Why the session closed: an error, or undefined when closed on purpose; null while open. */
  get closeReason(): Error | undefined | null {
    return this.closedReason;
  }

  /** Number of requests waiting for a response. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Sends a request; resolves with its result, rejects with OvsdbRpcError / OvsdbTimeoutError / OvsdbConnectionClosedError. */
  call<T = unknown>(method: string, params: unknown[], opts: CallOptions = {}): Promise<T> {
    return this.send<T>(method, params, opts).result;
  }

  /** Like `call`, but also returns the request id (needed for "cancel"). */
  send<T = unknown>(
    method: string,
    params: unknown[],
    opts: CallOptions & { onAbort?: (id: number) => void } = {},
  ): SentRequest<T> {
    const id = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      if (!this.isOpen) {
        reject(this.closedError(method));
        return;
      }
      if (opts.signal?.aborted) {
        reject(abortError(method, opts.signal));
        return;
      }
      const p: Pending = {
        method,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: undefined,
        signal: opts.signal,
        onAbort: undefined,
      };
      const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.settle(id)?.reject(
            new OvsdbTimeoutError(`${method} to ${this.peerName}: no reply within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        p.timer.unref?.();
      }
      if (opts.signal) {
        const signal = opts.signal;
        p.onAbort = () => {
          const settled = this.settle(id);
          if (!settled) return;
          settled.reject(abortError(method, signal));
          opts.onAbort?.(id);
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
      try {
        this.write({ method, params, id });
      } catch (err) {
        this.settle(id);
        reject(err as Error);
      }
    });
    return { id, result };
  }

  /** Sends a notification (id null); nothing comes back. */
  notify(method: string, params: unknown[]): void {
    if (!this.isOpen) throw this.closedError(method);
    this.write({ method, params, id: null });
  }

  /** Closes the session: outstanding requests reject with OvsdbConnectionClosedError. */
  close(reason?: Error): void {
    this.shutdown(
      reason ?? new OvsdbConnectionClosedError(`connection to ${this.peerName} closed by the client`),
      !reason,
    );
  }

  private write(msg: Json): void {
    this.stream.write(stringifyJson(msg));
  }

  private closedError(method: string): OvsdbConnectionClosedError {
    const reason = this.closedReason ?? this.pendingClose;
    const why = reason ? `: ${reason.message}` : '';
    return new OvsdbConnectionClosedError(`${method}: connection to ${this.peerName} is closed${why}`, {
      cause: reason,
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    return p;
  }

  private onData(chunk: Buffer): void {
    if (this.closedReason !== null || this.pendingClose) return;
    this.lastReceived = Date.now();
    this.probeOutstanding = false;
    try {
      this.framer.push(chunk, (text, hasLongNumber) => this.inbox.push(parseJson(text, hasLongNumber)));
    } catch (err) {
      const e =
        err instanceof OvsdbProtocolError
          ? new OvsdbProtocolError(`malformed input from ${this.peerName}: ${err.message}`, { cause: err })
          : err instanceof OvsdbError
            ? err
            : new OvsdbProtocolError(`bad input from ${this.peerName}: ${(err as Error).message}`, {
                cause: err,
              });
      // the messages framed before the bad input are still handled, then the session closes
      this.closeAfterInbox(e);
      return;
    }
    this.drainInbox();
  }

  /**
   * Handles received messages in order. After a message that settles a call, the rest waits
   * for the next macrotask: the caller's continuation (a chain of microtasks) then runs before
   * any later message is delivered, so e.g. the code awaiting a monitor's initial dump always
   * sees it before the first update that followed it in the same chunk.
   */
  private drainInbox(): void {
    if (this.drainScheduled) return;
    const inbox = this.inbox;
    while (this.inboxHead < inbox.length && this.closedReason === null) {
      const msg = inbox[this.inboxHead]!;
      inbox[this.inboxHead++] = undefined; // let big replies be collected as soon as handled
      let settledCall: boolean;
      try {
        settledCall = this.onMessage(msg);
      } catch (err) {
        const e = err as Error;
        this.shutdown(
          e instanceof OvsdbProtocolError
            ? new OvsdbProtocolError(`malformed message from ${this.peerName}: ${e.message}`, { cause: e })
            : e,
        );
        return;
      }
      if (settledCall && this.inboxHead < inbox.length) {
        this.drainScheduled = true;
        setImmediate(() => {
          this.drainScheduled = false;
          this.drainInbox();
        });
        return;
      }
    }
    this.inbox = [];
    this.inboxHead = 0;
    if (this.pendingClose && this.closedReason === null) this.shutdown(this.pendingClose);
  }

  /** Closes once every message already received has been handled (replies that made it are not lost). */
  private closeAfterInbox(reason: Error): void {
    if (this.closedReason !== null) return;
    this.pendingClose ??= reason;
    this.drainInbox();
  }

  /** Handles one message; returns true when it settled one of our calls. */
  private onMessage(msg: unknown): boolean {
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      throw new OvsdbProtocolError(`expected a JSON-RPC object, got ${describe(msg)}`);
    }
    const m = msg as Json;
    if (typeof m.method === 'string') {
      if (!Array.isArray(m.params)) {
        throw new OvsdbProtocolError(`"${m.method}" message without a params array`);
      }
      if (m.id === null || m.id === undefined) {
        this.deliver(() => this.emit('notification', m.method as string, m.params));
      } else if (m.method === 'echo') {
        this.write({ result: m.params, error: null, id: m.id });
        this.deliver(() => this.emit('echo', m.params));
      } else {
        // ovsdb-server only ever asks us for echo; refuse anything else without dropping the session
        this.write({ result: null, error: { error: 'unknown method', details: m.method }, id: m.id });
      }
      return false;
    }
    if (!('id' in m) || !('result' in m || 'error' in m)) {
      throw new OvsdbProtocolError(`message is neither request, notification nor response: ${describe(msg)}`);
    }
    if (typeof m.id !== 'number') return false; // not one of ours (we only use numeric ids)
    const p = this.settle(m.id);
    if (!p) return false; // late reply to a request that timed out or was aborted
    if (m.error !== null && m.error !== undefined) p.reject(new OvsdbRpcError(p.method, m.error));
    else p.resolve(m.result);
    return true;
  }

  /**
   * Runs listener code. A throwing listener is the listener's bug, not a protocol error: it must
   * not tear down the framer, so it is rethrown outside the read path.
   */
  private deliver(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private armProbe(delay: number): void {
    this.probeTimer = setTimeout(() => this.probeTick(), Math.max(1, delay));
    this.probeTimer.unref?.();
  }

  private probeTick(): void {
    if (this.closedReason !== null) return;
    const idle = Date.now() - this.lastReceived;
    if (idle < this.probeIntervalMs) {
      this.armProbe(this.probeIntervalMs - idle);
      return;
    }
    if (!this.probeOutstanding) {
      this.probeOutstanding = true;
      // the reply (or any other traffic) resets lastReceived; its own result does not matter
      this.call('echo', [], { timeoutMs: 0 }).catch(() => undefined);
      this.armProbe(this.probeIntervalMs);
      return;
    }
    this.shutdown(
      new OvsdbTimeoutError(
        `${this.peerName} sent nothing for ${idle} ms and did not answer an echo probe (inactivity probe ${this.probeIntervalMs} ms)`,
      ),
    );
  }

  private shutdown(reason: Error, clean = false): void {
    if (this.closedReason !== null) return;
    this.closedReason = clean ? undefined : reason;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    const pending = [...this.pending.keys()];
    for (const id of pending) {
      const p = this.settle(id)!;
      p.reject(
        new OvsdbConnectionClosedError(`${p.method}: ${reason.message}`, {
          cause: reason,
        }),
      );
    }
    this.stream.destroy();
    this.emit('close', clean ? undefined : reason);
  }
}

function abortError(method: string, signal: AbortSignal): OvsdbError {
  const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new OvsdbError(`${method} aborted${why}`, { cause: signal.reason });
}

function describe(v: unknown): string {
  const s = stringifyJson(v);
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}
