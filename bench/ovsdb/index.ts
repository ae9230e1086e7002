/**
 * Bench "ovsdb" (issue 2, Speed):
 * 1. Load S switches x 100 ports into a fresh standalone NB ovsdb-server, one transaction per
 *    switch (the switch and its 100 ports), through our OvsdbClient + TxnBuilder; against
 *    `ovsdb-client transact` run once per batch with the same transactions from a prepared file
 *    (the C tool takes one transaction per call, so "same batching" means one process per batch;
 *    the cost of starting that process is sampled and reported too); and against the same
 *    transaction texts written as bare JSON-RPC to a unix socket (the floor for any client).
 * 2. Monitor that database (Logical_Switch + Logical_Switch_Port, all columns) into our cache
 *    (OvsdbDatabase, in a fresh child process for a clean heap): seconds and heap per port;
 *    against `ovsdb-client dump` of the database (wall time) and Python's ovs.db.idl.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { TxnBuilder } from '../../src/ovsdb/txn.js';
import { NB_SCHEMA, startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import type { BenchContext, BenchModule, BenchResult, Comparison, Measurement } from '../lib/report.js';
import { NB_DB, shapeFor, switchRows, switchTxnJson, type Shape } from './data.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  stdoutBytes: number;
}

/** Runs a command; wall time from spawn to exit. `keepStdout` false only counts the bytes. */
function runProc(
  cmd: string,
  args: string[],
  opts: { keepStdout?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let stdoutBytes = 0;
    child.stdout.on('data', (b: Buffer) => {
      stdoutBytes += b.length;
      if (opts.keepStdout !== false) out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: (performance.now() - t0) / 1000,
        stdoutBytes,
      }),
    );
  });
}

function check(r: ProcResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function withServer<T>(dir: string, name: string, fn: (s: OvsdbServer) => Promise<T>): Promise<T> {
  const server = await startOvsdbServer({ dir, name, schema: NB_SCHEMA });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Our load: one TxnBuilder transaction per switch, sent in order through one OvsdbClient. */
async function loadWithOurs(remote: string, shape: Shape): Promise<number> {
  const client = await OvsdbClient.connect(remote, { requestTimeoutMs: 0 });
  try {
    const schema = parseSchema(await client.getSchema(NB_DB));
    const t0 = performance.now();
    for (let s = 0; s < shape.switches; s++) {
      const txn = new TxnBuilder(schema);
      const { sw, ports } = switchRows(s, shape);
      const names = ports.map((p) => txn.insert('Logical_Switch_Port', p));
      txn.insert('Logical_Switch', { ...sw, ports: names });
      const result = txn.parseResults(await client.transact(NB_DB, txn.operations()));
      if (!result.ok) throw new Error(`our load: switch ${s} failed: ${JSON.stringify(result.error)}`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    client.close();
  }
}

const EMPTY_TXN = JSON.stringify([NB_DB, { op: 'comment', comment: 'start-up probe' }]);

/**
 * The C tool: one `ovsdb-client transact` per switch, each reading its prepared transaction.
 * Every 5th batch is preceded by an empty transaction, so the cost of starting the tool is
 * sampled under the same machine load as the batches themselves.
 */
async function loadWithC(remote: string, files: string[]): Promise<{ seconds: number; startCost: number }> {
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  let seconds = 0;
  const empty: number[] = [];
  for (const [i, txn] of texts.entries()) {
    if (i % 5 === 0) {
      const e = await runProc('ovsdb-client', ['transact', remote, EMPTY_TXN]);
      check(e, 'ovsdb-client transact (empty)');
      empty.push(e.seconds);
    }
    const r = await runProc('ovsdb-client', ['transact', remote, txn]);
    check(r, `ovsdb-client transact (batch ${i})`);
    if (r.stdout.includes('"error"'))
      throw new Error(`ovsdb-client transact batch ${i}: ${r.stdout.slice(0, 300)}`);
    seconds += r.seconds;
  }
  return { seconds, startCost: median(empty) };
}

/**
 * The floor for any client: the same transaction texts written to a unix socket as bare
 * JSON-RPC requests, one at a time, with no library at all (answers the server's echo).
 */
async function loadWithRawSocket(remote: string, texts: string[]): Promise<number> {
  if (!remote.startsWith('unix:')) throw new Error('raw socket baseline needs a unix: remote');
  const sock = connect(remote.slice('unix:'.length));
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  let buf = '';
  let pending: { id: number; resolve(v: unknown): void } | undefined;
  sock.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let msg: { id?: unknown; method?: string; params?: unknown; result?: unknown };
    try {
      msg = JSON.parse(buf) as typeof msg; // replies here are small: re-parsing until complete is fine
    } catch {
      return;
    }
    buf = '';
    if (msg.method === 'echo') sock.write(JSON.stringify({ id: msg.id, result: msg.params, error: null }));
    else if (pending && msg.id === pending.id) pending.resolve(msg.result);
  });
  try {
    const t0 = performance.now();
    for (const [i, text] of texts.entries()) {
      const result = await new Promise((resolve) => {
        pending = { id: i, resolve };
        sock.write(`{"id":${i},"method":"transact","params":${text}}`);
      });
      if (JSON.stringify(result).includes('"error"'))
        throw new Error(`raw socket batch ${i}: ${JSON.stringify(result).slice(0, 300)}`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    sock.destroy();
  }
}

interface CacheFigures {
  seconds: number;
  heapBytes: number;
  switches: number;
  ports: number;
}

/** Runs cache-child.ts in a fresh node (same tsx loader as this process) with --expose-gc. */
async function ourCache(remote: string): Promise<CacheFigures> {
  const args = [...process.execArgv.filter((a) => a !== '--expose-gc'), '--expose-gc'];
  if (process.env.BENCH_CPU_PROF) args.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`);
  const r = await runProc(process.execPath, [...args, join(HERE, 'cache-child.ts'), remote]);
  check(r, 'cache-child');
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as CacheFigures;
}

async function pythonIdl(remote: string): Promise<{ seconds: number; ports: number }> {
  const r = await runProc(PYTHON, [join(HERE, 'python_idl.py'), remote, NB_SCHEMA]);
  check(r, 'python IDL');
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; ports: number };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const shape = shapeFor(ctx.scale);
  const nPorts = shape.switches * shape.portsPerSwitch;
  const nRows = nPorts + shape.switches;
  const dir = await mkdtemp(join(tmpdir(), 'ovb-'));
  const comparisons: Comparison[] = [];
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  const loadAtStart = loadavg()[0]!;
  try {
    ctx.log(`preparing ${shape.switches} transaction files (${nRows} rows)`);
    const files: string[] = [];
    for (let s = 0; s < shape.switches; s++) {
      const f = join(dir, `txn${s}.json`);
      await writeFile(f, switchTxnJson(s, shape));
      files.push(f);
    }

    // 1. load
    ctx.log('load: ovsdb-client transact, one call per switch');
    const { seconds: cSeconds, startCost } = await withServer(dir, 'c', (srv) => loadWithC(srv.unix, files));
    ctx.log('load: bare JSON-RPC on a socket');
    const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
    const rawSeconds = await withServer(dir, 'raw', (srv) => loadWithRawSocket(srv.unix, texts));
    ctx.log('load: our client');
    const loaded = await startOvsdbServer({ dir, name: 'ours', schema: NB_SCHEMA });
    try {
      const ourSeconds = await loadWithOurs(loaded.unix, shape);
      comparisons.push({
        metric: `load ${nRows.toLocaleString('en-US')} rows (${shape.switches} txns of 1 LS + ${shape.portsPerSwitch} LSPs)`,
        unit: 'rows/s',
        ours: nRows / ourSeconds,
        baseline: nRows / cSeconds,
        baselineName: 'ovsdb-client transact, 1 process per txn, from prepared files',
        higherIsBetter: true,
        target: 0.8,
        targetText: '>= 0.8x',
      });
      comparisons.push({
        metric: 'load, same transactions',
        unit: 'rows/s',
        ours: nRows / ourSeconds,
        baseline: nRows / rawSeconds,
        baselineName: 'bare JSON-RPC on a unix socket (no library; the floor)',
        higherIsBetter: true,
      });
      notes.push(
        `load: ours ${ourSeconds.toFixed(2)} s, ovsdb-client ${cSeconds.toFixed(2)} s (${((cSeconds / shape.switches) * 1000).toFixed(1)} ms per call), bare socket ${rawSeconds.toFixed(2)} s; an empty ovsdb-client transact takes ${(startCost * 1000).toFixed(1)} ms (median, sampled before every 5th batch)`,
      );

      // 2. monitor into the cache, on the database our client loaded
      const repeats = 3;
      ctx.log(`monitor: ovsdb-client dump x${repeats}`);
      const dumpTimes: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const r = await runProc('ovsdb-client', ['dump', '--format=json', loaded.unix, NB_DB], {
          keepStdout: false,
        });
        check(r, 'ovsdb-client dump');
        dumpTimes.push(r.seconds);
      }
      ctx.log(`monitor: our cache x${repeats}`);
      const ours: CacheFigures[] = [];
      for (let i = 0; i < repeats; i++) ours.push(await ourCache(loaded.unix));
      for (const o of ours) {
        if (o.ports !== nPorts || o.switches !== shape.switches)
          throw new Error(
            `our cache holds ${o.switches} switches / ${o.ports} ports, expected ${shape.switches} / ${nPorts}`,
          );
      }
      ctx.log('monitor: python ovs.db.idl');
      const py = await pythonIdl(loaded.unix);
      if (py.ports !== nPorts) throw new Error(`python IDL saw ${py.ports} ports, expected ${nPorts}`);
      const ourSecs = median(ours.map((o) => o.seconds));
      const heapPerPort = median(ours.map((o) => o.heapBytes)) / nPorts;
      comparisons.push(
        {
          metric: `monitor LS+LSP into cache (${nRows.toLocaleString('en-US')} rows)`,
          unit: 's',
          ours: ourSecs,
          baseline: median(dumpTimes),
          baselineName: 'ovsdb-client dump --format=json (whole NB db, process wall time)',
          higherIsBetter: false,
          target: 1.5,
          targetText: '<= 1.5x',
        },
        {
          metric: 'monitor LS+LSP into cache',
          unit: 's',
          ours: ourSecs,
          baseline: py.seconds,
          baselineName: 'Python ovs.db.idl, Idl() until has_ever_connected()',
          higherIsBetter: false,
          target: 1 / 3,
          targetText: '>= 3x faster (<= 0.33x)',
        },
      );
      measurements.push({
        metric: 'heap per cached port (heapUsed delta after gc / ports)',
        unit: 'B',
        value: heapPerPort,
        max: 1024,
        targetText: '<= 1 KiB',
      });
      notes.push(
        `monitor: median of ${repeats} runs for ours and for ovsdb-client dump, 1 run of the Python IDL; ours: ${ours
          .map((o) => `${o.seconds.toFixed(2)} s / ${(o.heapBytes / 2 ** 20).toFixed(1)} MiB`)
          .join(', ')}`,
        'our cache runs in a fresh node process (tsx, --expose-gc); heap counts the whole OvsdbDatabase (cache, indexes, schema, connection)',
      );
    } finally {
      await loaded.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  notes.push(
    `machine: ${cpus().length} CPUs, 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (figures are wall times: a busy machine slows both sides)`,
  );
  return { comparisons, measurements, notes };
}

export const ovsdbBench: BenchModule = {
  name: 'ovsdb',
  description: 'OVSDB client: bulk load of logical switch ports and monitoring them into the cache',
  run,
};
