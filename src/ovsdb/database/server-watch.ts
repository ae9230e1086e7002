/**
 * Monitoring our database's row of `_Server.Database` on one connection: the first step of
 * every connection (is this server acceptable?) and, while connected, the detector of
 * leadership or cluster-connection loss.
 */
import type { OvsdbClient, MonitorNotification } from '../client.js';
import { DatabaseCache } from '../cache/database-cache.js';
import { parseSchema, type DatabaseSchema } from '../schema.js';
import { serverDbInfoFromRow, type ServerDbInfo } from './server-selection.js';

export const SERVER_DB = '_Server';
const SERVER_MONITOR_ID = ['ovn-k8s', '_Server'];
const SERVER_COLUMNS = ['name', 'model', 'connected', 'leader', 'schema', 'cid', 'sid', 'index'];

export interface ServerWatch {
  /** our database's row now (undefined when the server does not serve it) */
  current(): ServerDbInfo | undefined;
  /** called after every change of the row (not for the initial dump) */
  onChange(listener: (info: ServerDbInfo | undefined) => void): void;
}

let cachedServerSchema: DatabaseSchema | undefined;

/**
 * Starts the `_Server` monitor on `client` for database `db`. Resolves with undefined when the
 * server has no `_Server` database (OVS < 2.9): such a server can only be treated as standalone.
 */
export async function watchServerDb(client: OvsdbClient, db: string): Promise<ServerWatch | undefined> {
  const dbs = await client.listDbs();
  if (!dbs.includes(SERVER_DB)) return undefined;
  // the _Server schema is fixed per OVS release; parse it once per process
  cachedServerSchema ??= parseSchema(await client.getSchema(SERVER_DB));
  const schema = cachedServerSchema;
  const cache = new DatabaseCache(schema, {
    Database: { columns: SERVER_COLUMNS.filter((c) => schema.tables.get('Database')?.columns.has(c)) },
  });
  const listeners: ((info: ServerDbInfo | undefined) => void)[] = [];
  const read = (): ServerDbInfo | undefined => {
    for (const row of cache.table('Database').rows()) {
      if (row.name === db) return serverDbInfoFromRow(row);
    }
    return undefined;
  };
  let live = false;
  const pending: MonitorNotification[] = [];
  const apply = (n: MonitorNotification): void => {
    if (n.method === 'monitor_canceled') return;
    cache.applyUpdates(n.updates, n.method === 'update' ? 1 : 2);
    const info = read();
    for (const l of listeners) l(info);
  };
  const result = await client.monitorBest(
    SERVER_DB,
    SERVER_MONITOR_ID,
    { Database: [{ columns: cache.table('Database').columnNames(), where: [['name', '==', db]] }] },
    undefined,
    {
      handler: (n) => {
        if (live) apply(n);
        else pending.push(n);
      },
    },
  );
  cache.resync(result.updates, result.method === 'monitor' ? 1 : 2);
  live = true;
  for (const n of pending.splice(0)) apply(n);
  return {
    current: read,
    onChange: (l) => listeners.push(l),
  };
}
