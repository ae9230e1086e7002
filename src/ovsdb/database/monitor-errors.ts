/**
 * Monitor requests that can never succeed, told apart from failures that may pass.
 *
 * The data monitor of OvsdbDatabase is built from the application's table selection and the
 * schema. When ovsdb-server refuses it because of the request itself (a column or table the
 * schema lacks, an unknown condition function, a value of the wrong type in a where clause),
 * asking again gives the same answer: retrying until the open timeout only hides the server's
 * message behind a generic timeout. Everything else (connection refused or reset, a server not
 * serving the database yet, not the leader, a timeout) may change and is retried.
 */
import { OvsdbError, OvsdbRpcError } from '../errors.js';

/**
 * The `error` strings ovsdb-server answers a malformed monitor request with (checked against
 * ovsdb-server 3.x: "syntax error" for an unknown table or column in `columns`, an unknown member
 * or a wrongly typed value; "unknown column" / "unknown function" in a where clause;
 * "constraint violation" for a value outside a column's constraints).
 */
const PERMANENT_MONITOR_ERRORS: ReadonlySet<string> = new Set([
  'syntax error',
  'unknown column',
  'unknown function',
  'constraint violation',
]);

/** True when `err` is the server refusing a monitor request for a reason retries cannot fix. */
export function isPermanentMonitorRefusal(err: unknown): err is OvsdbRpcError {
  return err instanceof OvsdbRpcError && PERMANENT_MONITOR_ERRORS.has(err.error);
}

/**
 * The data monitor asked for cannot work against this database: the table selection or a where
 * clause does not fit the schema. `OvsdbDatabase.open` fails with it at once.
 */
export class InvalidMonitorRequestError extends OvsdbError {
  constructor(
    readonly database: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${database}: invalid monitor request: ${message}`, options);
  }
}

/**
 * ovsdb-server refused the data monitor for a reason that does not change on retry. `error` and
 * `details` are the server's (e.g. "unknown column", "No column foo in table Logical_Switch."),
 * `syntax` the part of the request it pointed at when it said, `raw` its error object as received.
 */
export class MonitorRejectedError extends InvalidMonitorRequestError {
  readonly error: string;
  readonly details: string | undefined;
  readonly syntax: string | undefined;
  readonly raw: unknown;
  constructor(
    database: string,
    readonly remote: string,
    cause: OvsdbRpcError,
  ) {
    const { error, details, raw } = cause;
    const syntax = syntaxOf(raw);
    const where = syntax ? ` (in ${syntax})` : '';
    super(database, `${remote} refused it: ${error}${details ? `: ${details}` : ''}${where}`, { cause });
    this.error = error;
    this.details = details;
    this.syntax = syntax;
    this.raw = raw;
  }
}

function syntaxOf(raw: unknown): string | undefined {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const s = (raw as Record<string, unknown>).syntax;
    if (typeof s === 'string') return s;
  }
  return undefined;
}
