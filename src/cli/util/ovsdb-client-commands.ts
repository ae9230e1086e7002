/**
 * The commands of `ovn-k8s-util ovsdb-client` (registered in ./ovsdb-client.ts, which loads this
 * module only when one of them runs): list-dbs, get-schema[-version|-cksum], list-tables,
 * list-columns, transact, query, dump, monitor, monitor-cond,
 * printing exactly what OVS's C tool prints for the same input.
 */
import { OvsdbClient, type OvsdbClientOptions, type TableUpdates } from '../../ovsdb/client.js';
import { OvsdbRpcError } from '../../ovsdb/errors.js';
import { parseSchema, type DatabaseSchema } from '../../ovsdb/schema.js';
import { takeDatabase, takeServer, noMoreArgs } from '../../ovsdb/tool/args.js';
import { dumpColumns, dumpTable } from '../../ovsdb/tool/dump.js';
import { listColumnsTable } from '../../ovsdb/tool/list-columns.js';
import { ToolUsageError } from '../../ovsdb/tool/errors.js';
import {
  monitorCondRequest,
  monitorRequest,
  monitorUpdate2Table,
  monitorUpdateTable,
  monitoredTable,
  type MonitoredTable,
} from '../../ovsdb/tool/monitor.js';
import { compareUtf8, formatOvsJson } from '../../ovsdb/tool/ovs-json.js';
import { shashOrder } from '../../ovsdb/tool/ovs-hash.js';
import { OUTPUT_FORMATS, TablePrinter, type OutputFormat } from '../../ovsdb/tool/table.js';
import { parseJson } from '../../ovsdb/wire/json.js';

/** The tool's options as commander parses them (see addToolOptions in ./ovsdb-client.ts). */
export interface ToolFlags {
  format: string;
  pretty?: boolean;
  headings: boolean;
  privateKey?: string;
  certificate?: string;
  caCert?: string;
  timeout: string;
}

/** Everything a command needs: parsed flags, the printer and the connection. */
interface ToolContext {
  flags: ToolFlags;
  format: OutputFormat;
  printer: TablePrinter;
  out: (text: string) => void;
}

const out = (text: string): void => {
  process.stdout.write(text);
};

function contextOf(flags: ToolFlags): ToolContext {
  if (!OUTPUT_FORMATS.includes(flags.format as OutputFormat)) {
    throw new ToolUsageError(
      `unknown --format ${JSON.stringify(flags.format)} (supported: ${OUTPUT_FORMATS.join(', ')})`,
    );
  }
  const format = flags.format as OutputFormat;
  return {
    flags,
    format,
    printer: new TablePrinter({ format, pretty: flags.pretty === true, headings: flags.headings }, out),
    out,
  };
}

function clientOptions(server: string, flags: ToolFlags): OvsdbClientOptions {
  const timeoutSec = Number(flags.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0) {
    throw new ToolUsageError(`--timeout expects a number of seconds, got ${JSON.stringify(flags.timeout)}`);
  }
  const opts: OvsdbClientOptions = {
    // like the C tool: wait as long as it takes unless --timeout says otherwise
    requestTimeoutMs: timeoutSec * 1000,
    dumpTimeoutMs: timeoutSec * 1000,
    connectTimeoutMs: timeoutSec > 0 ? timeoutSec * 1000 : 10_000,
  };
  if (server.startsWith('ssl:')) {
    if (!flags.privateKey || !flags.certificate || !flags.caCert) {
      throw new ToolUsageError(`${server}: an ssl: server needs --private-key, --certificate and --ca-cert`);
    }
    opts.tls = { privateKey: flags.privateKey, certificate: flags.certificate, caCert: flags.caCert };
  }
  return opts;
}

async function withClient<T>(
  server: string,
  flags: ToolFlags,
  fn: (c: OvsdbClient) => Promise<T>,
): Promise<T> {
  const client = await OvsdbClient.connect(server, clientOptions(server, flags));
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function sortedDbs(client: OvsdbClient): Promise<string[]> {
  return (await client.listDbs()).sort(compareUtf8);
}

async function fetchSchema(
  client: OvsdbClient,
  db: string,
): Promise<{ raw: unknown; schema: DatabaseSchema }> {
  const raw = await client.getSchema(db);
  return { raw, schema: parseSchema(raw) };
}

// ---- commands ----------------------------------------------------------------------------

async function listDbs(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  noMoreArgs(rest);
  await withClient(server, ctx.flags, async (c) => {
    for (const db of await sortedDbs(c)) ctx.out(`${db}\n`);
  });
}

async function getSchema(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  await withClient(server, ctx.flags, async (c) => {
    const dbs = await sortedDbs(c);
    const { db, rest: left } = takeDatabase(rest, dbs, 0);
    noMoreArgs(left, dbs);
    const { raw } = await fetchSchema(c, db);
    ctx.out(`${formatOvsJson(raw, { pretty: ctx.flags.pretty === true })}\n`);
  });
}

async function listTables(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  await withClient(server, ctx.flags, async (c) => {
    const dbs = await sortedDbs(c);
    const { db, rest: left } = takeDatabase(rest, dbs, 0);
    noMoreArgs(left, dbs);
    const { raw } = await fetchSchema(c, db);
    const tablesJson = (raw as { tables?: Record<string, unknown> }).tables ?? {};
    // the C tool parses the reply into one hash map and copies it into another: same order twice
    const order = shashOrder(shashOrder(Object.keys(tablesJson)));
    ctx.printer.print({ headings: ['Table'], rows: order.map((t) => [{ text: t }]) });
  });
}

/** get-schema-version / get-schema-cksum: one member of the schema, or an empty line without it. */
function schemaMember(member: 'version' | 'cksum'): Handler {
  return async (args, ctx) => {
    const { server, rest } = takeServer(args);
    await withClient(server, ctx.flags, async (c) => {
      const dbs = await sortedDbs(c);
      const { db, rest: left } = takeDatabase(rest, dbs, 0);
      noMoreArgs(left, dbs);
      const { raw } = await fetchSchema(c, db);
      const v = (raw as Record<string, unknown>)[member];
      ctx.out(`${typeof v === 'string' ? v : ''}\n`);
    });
  };
}

async function listColumns(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  await withClient(server, ctx.flags, async (c) => {
    const dbs = await sortedDbs(c);
    const { db, rest: left } = takeDatabase(rest, dbs, 0);
    const [table, ...extra] = left;
    noMoreArgs(extra, dbs);
    const { raw, schema } = await fetchSchema(c, db);
    ctx.printer.print(listColumnsTable(schema, raw, table));
  });
}

/** query: transact with an "abort" appended (so nothing commits), its result left out. */
async function query(args: string[], ctx: ToolContext): Promise<void> {
  return transactCommand(args, ctx, true);
}

async function transact(args: string[], ctx: ToolContext): Promise<void> {
  return transactCommand(args, ctx, false);
}

async function transactCommand(args: string[], ctx: ToolContext, readOnly: boolean): Promise<void> {
  const { server, rest } = takeServer(args);
  if (rest.length !== 1) throw new ToolUsageError('transact needs exactly one TRANSACTION argument (JSON)');
  let txn: unknown;
  try {
    txn = parseJson(rest[0]!, true);
  } catch (err) {
    throw new ToolUsageError(`TRANSACTION is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(txn) || typeof txn[0] !== 'string') {
    throw new ToolUsageError('not a valid OVSDB query: TRANSACTION must be ["DATABASE", operation...]');
  }
  const [db, ...ops] = txn as [string, ...unknown[]];
  await withClient(server, ctx.flags, async (c) => {
    let result: unknown[];
    try {
      result = await c.transact(db, readOnly ? [...ops, { op: 'abort' }] : ops);
      // the abort's own result (an "aborted" error) is left out, as the C tool does; when an
      // earlier operation failed, the abort never ran and its null slot stays
      const last = result[result.length - 1] as { error?: unknown } | null | undefined;
      if (readOnly && result.length === ops.length + 1 && last?.error === 'aborted')
        result = result.slice(0, -1);
    } catch (err) {
      if (err instanceof OvsdbRpcError) {
        throw new ToolUsageError(`transaction returned error: ${formatOvsJson(err.raw)}`);
      }
      throw err;
    }
    ctx.out(`${formatOvsJson(result, { pretty: ctx.flags.pretty === true })}\n`);
  });
}

async function dump(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  await withClient(server, ctx.flags, async (c) => {
    const dbs = await sortedDbs(c);
    const { db, rest: left } = takeDatabase(rest, dbs, 0);
    const { schema } = await fetchSchema(c, db);
    const [tableName, ...columnArgs] = left;
    let targets: { name: string; columns: string[] }[];
    if (tableName === undefined) {
      targets = [...schema.tables.keys()].sort(compareUtf8).map((name) => ({
        name,
        columns: dumpColumns(schema.tables.get(name)!),
      }));
    } else {
      const table = schema.tables.get(tableName);
      if (!table) throw new ToolUsageError(`no table ${JSON.stringify(tableName)} in database ${db}`);
      targets = [{ name: tableName, columns: dumpColumns(table, columnArgs) }];
    }
    const ops = targets.map((t) => ({ op: 'select', table: t.name, where: [], columns: t.columns }));
    const result = await c.transact(db, ops);
    targets.forEach((t, i) => {
      const r = result[i] as { rows?: Record<string, unknown>[]; error?: string; details?: string } | null;
      if (!r || !Array.isArray(r.rows)) {
        throw new ToolUsageError(`dump of ${t.name} failed: ${formatOvsJson(r)}`);
      }
      ctx.printer.print(dumpTable(schema.tables.get(t.name)!, t.columns, r.rows));
    });
  });
}

/**
 * A streaming command: connects, lets `start` send its monitor request and print what it answers,
 * then runs until SIGINT/SIGTERM (exit 0) or until the server closes the connection (an error).
 */
async function streamUntilStopped(
  server: string,
  ctx: ToolContext,
  start: (client: OvsdbClient) => Promise<void>,
): Promise<void> {
  const client = await OvsdbClient.connect(server, clientOptions(server, ctx.flags));
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    client.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await start(client);
    const reason = await client.closed();
    if (!stopped) {
      throw new ToolUsageError(`${server}: connection closed${reason ? `: ${reason.message}` : ''}`);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    client.close();
  }
}

/**
 * Update notifications may be delivered before the initial reply's promise settles: `onUpdate`
 * holds them until `initialPrinted()`, then prints them as they come.
 */
function updatesAfterInitial(print: (updates: TableUpdates) => void): {
  onUpdate(updates: TableUpdates): void;
  initialPrinted(): void;
} {
  let pending: TableUpdates[] | undefined = [];
  return {
    onUpdate: (updates) => {
      if (pending) pending.push(updates);
      else print(updates);
    },
    initialPrinted: () => {
      const held = pending ?? [];
      pending = undefined;
      for (const u of held) print(u);
    },
  };
}

/** monitor: the contents of TABLE (or ALL tables), then every change (table-updates v1). */
async function monitor(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  await streamUntilStopped(server, ctx, async (client) => {
    const dbs = await sortedDbs(client);
    const { db, rest: left } = takeDatabase(rest, dbs, 1);
    const { schema } = await fetchSchema(client, db);
    const [tableName, ...columnArgs] = left;
    if (tableName === undefined) throw new ToolUsageError('monitor needs a TABLE (or ALL)');
    let mts: MonitoredTable[];
    if (tableName === 'ALL' && columnArgs.length === 0) {
      mts = [...schema.tables.keys()]
        .sort(compareUtf8)
        .map((t) => monitoredTable(schema.tables.get(t)!, db, []));
    } else {
      const table = schema.tables.get(tableName);
      if (!table)
        throw new ToolUsageError(`${server}: ${db} does not have a table named ${JSON.stringify(tableName)}`);
      mts = [monitoredTable(table, db, columnArgs)];
    }
    const withCaptions = mts.length > 1;
    const print = (updates: TableUpdates, initial: boolean): void => {
      for (const mt of mts) {
        const rows = updates[mt.table.name];
        if (!rows) continue;
        const t = monitorUpdateTable(mt, rows, initial, withCaptions ? mt.table.name : undefined);
        if (t) ctx.printer.print(t);
      }
    };
    const updates = updatesAfterInitial((u) => print(u, false));
    const requests: Record<string, unknown> = {};
    for (const mt of mts) requests[mt.table.name] = monitorRequest(mt);
    const initial = await client.monitor(db, null, requests, {
      handler: (n) => {
        if (n.method === 'update') updates.onUpdate(n.updates);
      },
    });
    print(initial, true);
    updates.initialPrinted();
  });
}

/** monitor-cond: like monitor, for the rows matching CONDITION, printing table-updates2. */
async function monitorCond(args: string[], ctx: ToolContext): Promise<void> {
  const { server, rest } = takeServer(args);
  await streamUntilStopped(server, ctx, async (client) => {
    const dbs = await sortedDbs(client);
    const { db, rest: left } = takeDatabase(rest, dbs, 2);
    const { schema } = await fetchSchema(client, db);
    const [conditionText, tableName, ...columnArgs] = left;
    if (conditionText === undefined || tableName === undefined)
      throw new ToolUsageError('monitor-cond needs a CONDITION and a TABLE');
    let where: unknown;
    try {
      where = parseJson(conditionText, true);
    } catch (err) {
      throw new ToolUsageError(`CONDITION is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(where)) throw new ToolUsageError('CONDITION must be a JSON array of clauses');
    const table = schema.tables.get(tableName);
    if (!table)
      throw new ToolUsageError(`${server}: ${db} does not have a table named ${JSON.stringify(tableName)}`);
    const mt = monitoredTable(table, db, columnArgs);
    const print = (updates: TableUpdates): void => {
      const rows = updates[mt.table.name];
      const t = rows ? monitorUpdate2Table(mt, rows) : undefined;
      if (t) ctx.printer.print(t);
    };
    const updates = updatesAfterInitial(print);
    let initial: TableUpdates;
    try {
      initial = await client.monitorCond(
        db,
        null,
        { [tableName]: monitorCondRequest(mt, where) },
        {
          handler: (n) => {
            if (n.method === 'update2') updates.onUpdate(n.updates);
          },
        },
      );
    } catch (err) {
      if (err instanceof OvsdbRpcError)
        throw new ToolUsageError(`monitor-cond refused: ${formatOvsJson(err.raw)}`);
      throw err;
    }
    print(initial);
    updates.initialPrinted();
  });
}

// ---- dispatch ----------------------------------------------------------------------------

type Handler = (args: string[], ctx: ToolContext) => Promise<void>;

const HANDLERS: Record<string, Handler> = {
  'list-dbs': listDbs,
  'get-schema': getSchema,
  'get-schema-version': schemaMember('version'),
  'get-schema-cksum': schemaMember('cksum'),
  'list-tables': listTables,
  'list-columns': listColumns,
  transact,
  query,
  dump,
  monitor,
  'monitor-cond': monitorCond,
};

/** Runs command `name` (one of the names ./ovsdb-client.ts registers) with its arguments. */
export async function runToolCommand(name: string, args: string[], flags: ToolFlags): Promise<void> {
  const run = HANDLERS[name];
  if (!run) throw new ToolUsageError(`unknown command ${JSON.stringify(name)}`);
  await run(args, contextOf(flags));
}
