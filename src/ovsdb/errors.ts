/**
 * Named errors of the OVSDB client. Callers branch on the class (instanceof), never on the
 * message text; the messages are written for humans reading logs.
 */

/** Base class of every error the OVSDB client raises. */
export class OvsdbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The server answered a request with a JSON-RPC error. `error` is the server's short error
 * string (e.g. "unknown method", "canceled", "duplicate monitor ID"), `details` its optional
 * explanation; `raw` is the error value exactly as received.
 */
export class OvsdbRpcError extends OvsdbError {
  readonly error: string;
  readonly details: string | undefined;
  readonly method: string;
  readonly raw: unknown;
  constructor(method: string, raw: unknown) {
    const { error, details } = describeRpcError(raw);
    super(`${method} failed: ${error}${details ? `: ${details}` : ''}`);
    this.method = method;
    this.error = error;
    this.details = details;
    this.raw = raw;
  }
}

function describeRpcError(raw: unknown): { error: string; details: string | undefined } {
  if (typeof raw === 'string') return { error: raw, details: undefined };
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const error = typeof o.error === 'string' ? o.error : JSON.stringify(raw);
    const details = typeof o.details === 'string' ? o.details : undefined;
    return { error, details };
  }
  return { error: String(JSON.stringify(raw)), details: undefined };
}

/** A request got no answer within its budget, or the connection went silent (inactivity probe). */
export class OvsdbTimeoutError extends OvsdbError {}

/** The connection closed (or was closed) while the request was outstanding, or before it was sent. */
export class OvsdbConnectionClosedError extends OvsdbError {}

/** Connecting to a remote failed (refused, unreachable, TLS verification, connect timeout). */
export class OvsdbConnectError extends OvsdbError {
  readonly remote: string;
  constructor(remote: string, message: string, options?: { cause?: unknown }) {
    super(`cannot connect to ${remote}: ${message}`, options);
    this.remote = remote;
  }
}

/** The peer sent something that is not valid JSON-RPC as ovsdb-server speaks it. */
export class OvsdbProtocolError extends OvsdbError {}

/** A remote string such as `tcp:127.0.0.1:6641` could not be parsed. */
export class RemoteParseError extends OvsdbError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`invalid OVSDB remote ${JSON.stringify(input)}: ${reason}`);
    this.input = input;
  }
}
