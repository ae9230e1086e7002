/**
 * The two baselines of the watcher bench, measured in the same run:
 *
 * - LIST: every node, pod, service and EndpointSlice listed from the simulator through
 *   client-node's typed APIs (pages of 500, as the informers ask), deserialized into its model
 *   classes: the least any watcher built on client-node must do before it can write anything.
 * - raw NB load: the rows the cold sync wrote, read back from NB and loaded into a fresh, empty NB
 *   ovsdb-server in ONE transaction sent as bare JSON-RPC on its unix socket: the server's own cost
 *   for those rows, with no client library at all. (`ovsdb-client transact` takes the transaction
 *   as one command-line argument, and Linux caps one argument at 128 KiB, far below these rows.)
 */
import { connect } from 'node:net';
import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { encodeDatum } from '../../src/ovsdb/datum.js';
import { MANAGED_TABLES } from '../../src/ovn/reconcile/index.js';
import { NB_SCHEMA, startOvsdbServer } from '../../src/runtime/ovsdb-server.js';

interface Paged {
  items?: unknown[];
  metadata?: { _continue?: string };
}

/** Seconds to list every object of the four kinds the watcher watches; also the object count. */
export async function listEverything(kc: KubeConfig): Promise<{ seconds: number; objects: number }> {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const lists: Array<(p: { limit: number; _continue?: string }) => Promise<Paged>> = [
    (p) => core.listNode(p),
    (p) => core.listPodForAllNamespaces(p),
    (p) => core.listServiceForAllNamespaces(p),
    (p) => discovery.listEndpointSliceForAllNamespaces(p),
  ];
  const t0 = performance.now();
  let objects = 0;
  // the informers list the four kinds at the same time, so does the baseline
  await Promise.all(
    lists.map(async (list) => {
      let cont: string | undefined;
      do {
        const page = await list({ limit: 500, ...(cont ? { _continue: cont } : {}) });
        objects += page.items?.length ?? 0;
        cont = page.metadata?._continue || undefined;
      } while (cont);
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, objects };
}

type Json = unknown;

/** Replaces every ["uuid", U] whose U is a row of the load by ["named-uuid", name]. */
function nameRefs(v: Json, names: Map<string, string>): Json {
  if (!Array.isArray(v)) return v;
  if (v.length === 2 && v[0] === 'uuid' && typeof v[1] === 'string') {
    const n = names.get(v[1]);
    return n ? ['named-uuid', n] : v;
  }
  return v.map((x) => nameRefs(x, names));
}

/** The managed NB tables' rows as one transaction's params (JSON text), and the row count. */
export async function nbRowsAsTransaction(nbRemote: string): Promise<{ text: string; rows: number }> {
  const db = await OvsdbDatabase.open({
    remotes: nbRemote,
    database: 'OVN_Northbound',
    tables: Object.fromEntries(MANAGED_TABLES.map((t) => [t, {}])),
    openTimeoutMs: 600_000,
  });
  try {
    const names = new Map<string, string>();
    for (const t of MANAGED_TABLES)
      for (const r of db.cache.table(t).rows()) names.set(r._uuid, `r${names.size}`);
    const ops: Json[] = [];
    for (const t of MANAGED_TABLES) {
      const schema = db.schema.tables.get(t)!;
      for (const r of db.cache.table(t).rows()) {
        const row: Record<string, Json> = {};
        for (const [col, value] of Object.entries(r)) {
          if (col.startsWith('_')) continue;
          row[col] = nameRefs(encodeDatum(value, schema.columns.get(col)!.type), names);
        }
        ops.push({ op: 'insert', table: t, 'uuid-name': names.get(r._uuid)!, row });
      }
    }
    return { text: JSON.stringify(['OVN_Northbound', ...ops]), rows: names.size };
  } finally {
    await db.close();
  }
}

/** Seconds for a fresh NB ovsdb-server to commit `params` as one transaction over its unix socket. */
export async function rawNbLoad(dir: string, params: string): Promise<number> {
  const server = await startOvsdbServer({ dir, name: 'raw', schema: NB_SCHEMA });
  try {
    const sock = connect(server.unix.slice('unix:'.length));
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    try {
      const t0 = performance.now();
      const reply = await new Promise<string>((resolve, reject) => {
        let buf = '';
        sock.setEncoding('utf8').on('data', (chunk: string) => {
          buf += chunk;
          // the server's messages are whole JSON objects; only the end of one can close the reply
          if (!buf.endsWith('}')) return;
          let msg: { id?: unknown; method?: string; params?: unknown; result?: unknown; error?: unknown };
          try {
            msg = JSON.parse(buf) as typeof msg;
          } catch {
            return;
          }
          buf = '';
          if (msg.method === 'echo')
            sock.write(JSON.stringify({ id: msg.id, result: msg.params, error: null }));
          else if (msg.id === 1) resolve(JSON.stringify(msg.result ?? msg.error));
        });
        sock.once('error', reject);
        sock.write(`{"id":1,"method":"transact","params":${params}}`);
      });
      const seconds = (performance.now() - t0) / 1000;
      if (reply.includes('"error"')) throw new Error(`raw NB load failed: ${reply.slice(0, 300)}`);
      return seconds;
    } finally {
      sock.destroy();
    }
  } finally {
    await server.stop();
  }
}
