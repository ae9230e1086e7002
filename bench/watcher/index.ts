/**
 * Watcher bench (issue 4): a cold sync of 1,000 nodes, 100,000 pods and 10,000 services (two
 * ports, five endpoints each) from the Kubernetes simulator into an empty NB database, then a warm
 * restart on the result: seconds, NB transactions, peak RSS. `--scale` multiplies the counts.
 *
 * Set-up kept out of the figures: the objects are written to a simulator state file and loaded by
 * the simulator (`ovn-k8s-util k8s-sim --state`, built code) before any clock starts. The
 * simulator is its own process; its CPU and ovsdb-server's during each run are reported next to
 * the watcher's (on a small machine all three share the cores). Each watcher run is a
 * fresh child process (as a restart is), so its peak RSS is its own (getrusage maxrss). NB is a
 * real ovsdb-server without northd (northd is not part of the figure).
 *
 * Baselines from the same run (see baselines.ts): listing every object through client-node, and
 * loading the very rows the cold sync wrote into an empty NB in one bare JSON-RPC transaction.
 * BENCH_WATCHER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to the
 * children's node, for profiling; BENCH_WATCHER_SIM_NODE_ARGS likewise to the simulator's, and
 * BENCH_WATCHER_CONCURRENCY overrides the watcher's key concurrency (default: the watcher's own).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startOvnCentral } from '../../src/runtime/ovn-central.js';
import { freePort } from '../../src/runtime/process.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { assertBuilt } from '../lib/built.js';
import type { BenchModule, BenchResult } from '../lib/report.js';
import { listEverything, nbRowsAsTransaction, rawNbLoad } from './baselines.js';
import type { ChildResult } from './child.js';
import { shapeFor, writeSimState } from './state.js';

const CLUSTER_SUBNET = '10.128.0.0/12/23';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 2 ** 20;

export class BenchChildError extends Error {
  override name = 'BenchChildError';
}

function nodeArgs(): string[] {
  return (process.env.BENCH_WATCHER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/** CPU seconds (user+system) a process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
}

/** The simulator as its own process, loaded from `state`; resolves with its URL once it serves. */
async function spawnSim(state: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_WATCHER_SIM_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      'dist/cli/ovn-k8s-util.js',
      'k8s-sim',
      '--listen',
      `127.0.0.1:${port}`,
      '--state',
      state,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('http'));
      if (line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new BenchChildError(`k8s-sim exited (${code}) before serving`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One watcher run in a fresh child process. */
async function runWatcherChild(nbRemote: string, url: string): Promise<ChildResult> {
  const child = spawn(
    process.execPath,
    [...nodeArgs(), '--import', 'tsx', 'bench/watcher/child.ts', nbRemote, url, CLUSTER_SUBNET],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new BenchChildError(`watcher child exited ${code}: ${out}`);
  return JSON.parse(line) as ChildResult;
}

export const watcherBench: BenchModule = {
  name: 'watcher',
  description: 'cold sync of nodes/pods/services into an empty NB, then a warm restart',
  async run({ scale, log }): Promise<BenchResult> {
    assertBuilt(ROOT);
    const shape = shapeFor(scale);
    const tmp = tempDir('bw-');
    const statePath = `${tmp.dir}/sim.json`;
    log(`writing simulator state: ${shape.nodes} nodes, ${shape.pods} pods, ${shape.services} services`);
    const objects = await writeSimState(statePath, shape);
    const central = await startOvnCentral({ dir: `${tmp.dir}/c`, northd: false });
    let sim: Awaited<ReturnType<typeof spawnSim>> | undefined;
    try {
      log(`starting the simulator process with ${objects} objects`);
      sim = await spawnSim(statePath);
      const kc = resolveConnection({
        flags: { server: sim.url },
        env: {},
        serviceAccountDir: '/nonexistent',
      }).kubeConfig;
      log('baseline: LIST everything through client-node');
      // once to warm the simulator's serialisation cache, as the watcher's run would otherwise pay it
      await listEverything(kc);
      const list = await listEverything(kc);
      // the other processes' CPU during each run: on a 2-core machine they share the cores with the watcher
      const others = (): { sim: number; nb: number } => ({
        sim: cpuSecondsOf(sim!.pid),
        nb: cpuSecondsOf(central.nb.pid),
      });
      log('cold sync');
      const cold0 = others();
      const cold = await runWatcherChild(central.nb.unix, sim.url);
      const coldOthers = others();
      log(`cold: ${JSON.stringify(cold)}`);
      log('warm restart');
      const warm = await runWatcherChild(central.nb.unix, sim.url);
      const warmOthers = others();
      log(`warm: ${JSON.stringify(warm)}`);
      log('baseline: the same NB rows in one raw transaction');
      const txn = await nbRowsAsTransaction(central.nb.unix);
      const rawS = await rawNbLoad(`${tmp.dir}/r`, txn.text);
      const full = scale === 1;
      const listName = `LIST of all ${list.objects} objects via client-node typed APIs`;
      return {
        comparisons: [
          {
            metric: 'cold sync vs LIST',
            unit: 's',
            ours: cold.seconds,
            baseline: list.seconds,
            baselineName: listName,
            higherIsBetter: false,
          },
          {
            metric: 'cold sync vs raw NB load',
            unit: 's',
            ours: cold.seconds,
            baseline: rawS,
            baselineName: `the same ${txn.rows} NB rows, 1 bare JSON-RPC transact`,
            higherIsBetter: false,
          },
          {
            metric: 'warm restart vs LIST',
            unit: 's',
            ours: warm.seconds,
            baseline: list.seconds,
            baselineName: listName,
            higherIsBetter: false,
          },
        ],
        measurements: [
          {
            metric: 'cold sync',
            unit: 's',
            value: cold.seconds,
            ...(full ? { max: 60, targetText: '< 60 s' } : {}),
          },
          { metric: 'cold sync, watcher CPU (user+sys)', unit: 's', value: cold.cpuSeconds },
          {
            metric: 'cold sync, simulator CPU',
            unit: 's',
            value: coldOthers.sim - cold0.sim,
          },
          { metric: 'cold sync, NB ovsdb-server CPU', unit: 's', value: coldOthers.nb - cold0.nb },
          { metric: 'cold sync NB transactions', unit: 'txn', value: cold.transactions },
          { metric: 'cold sync NB operations', unit: 'op', value: cold.operations },
          {
            metric: 'cold sync peak RSS',
            unit: 'MiB',
            value: cold.maxRssBytes / MiB,
            ...(full ? { max: 1536, targetText: '< 1.5 GiB' } : {}),
          },
          {
            metric: 'warm restart',
            unit: 's',
            value: warm.seconds,
            ...(full ? { max: 15, targetText: '< 15 s' } : {}),
          },
          { metric: 'warm restart, watcher CPU (user+sys)', unit: 's', value: warm.cpuSeconds },
          { metric: 'warm restart, simulator CPU', unit: 's', value: warmOthers.sim - coldOthers.sim },
          {
            metric: 'warm restart NB transactions',
            unit: 'txn',
            value: warm.transactions,
            max: 0,
            targetText: '0',
          },
          { metric: 'warm restart peak RSS', unit: 'MiB', value: warm.maxRssBytes / MiB },
          {
            metric: 'heap in use when idle after the cold sync',
            unit: 'MiB',
            value: cold.heapUsedBytes / MiB,
          },
        ],
        notes: [
          `${shape.nodes} nodes, ${shape.pods} pods, ${shape.services} services x 2 ports x 5 endpoints; NB rows after cold sync: ${txn.rows}`,
          'the simulator is a separate process (the built ovn-k8s-util k8s-sim --state, objects loaded before timing); watcher, simulator and ovsdb-server share the machine, so their CPU figures are given apart',
          "each watcher run is a fresh child process; times are from Watcher.start to idle (every key handled, every pod annotated); peak RSS is that process's maxrss",
          `keys handled: cold ${cold.keysProcessed} (${cold.keysRetried} retried), warm ${warm.keysProcessed}`,
          `targets are checked at --scale 1 only (this run: ${scale}); 1-minute load average at the end: ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs (a busy machine stretches wall time, not CPU time)`,
        ],
      };
    } finally {
      await sim?.stop();
      await central.stop();
      tmp.cleanup();
    }
  },
};
