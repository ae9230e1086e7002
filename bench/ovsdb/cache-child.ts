/**
 * Child process of the ovsdb bench (run with --expose-gc, in a fresh heap): opens an
 * OvsdbDatabase on REMOTE monitoring Logical_Switch and Logical_Switch_Port with all columns,
 * and prints one JSON line: seconds until the cache is consistent, and the heap it holds.
 * usage: cache-child.ts REMOTE
 */
import { OvsdbDatabase } from '../../src/ovsdb/database.js';

const gc = (globalThis as { gc?: () => void }).gc;

function collect(): void {
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

async function main(): Promise<void> {
  const remote = process.argv[2];
  if (!remote) throw new Error('usage: cache-child.ts REMOTE');
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const db = await OvsdbDatabase.open({
    remotes: remote,
    database: 'OVN_Northbound',
    tables: { Logical_Switch: {}, Logical_Switch_Port: {} },
    dumpTimeoutMs: 0,
    openTimeoutMs: 600_000,
  });
  const seconds = (performance.now() - t0) / 1000;
  collect();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  const switches = db.cache.table('Logical_Switch').size;
  const ports = db.cache.table('Logical_Switch_Port').size;
  process.stdout.write(`${JSON.stringify({ seconds, heapBytes, switches, ports })}\n`);
  await db.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`cache-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
