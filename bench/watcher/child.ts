/**
 * Child process of the watcher bench: one watcher run (a cold sync or a warm restart) in a fresh
 * process, as a real restart would be. Prints one JSON line: seconds from start to idle, NB
 * transactions and operations, annotation writes, and the process's peak RSS (getrusage maxrss).
 * usage: child.ts NB_REMOTE K8S_URL CLUSTER_SUBNET
 *
 * The watcher measured is the built one in dist/ (what `ovn-k8s-watcher` runs), loaded with
 * dynamic imports that tsx leaves alone: only this small driver is compiled on the fly, so the
 * figures carry none of tsx's per-function overhead. `npm run bench` builds first.
 */
import type * as ConnectionModule from '../../src/k8s/connection.js';
import type * as WatcherModule from '../../src/watcher/watcher.js';

const DIST = new URL('../../dist/', import.meta.url);
const { resolveConnection } = (await import(
  new URL('k8s/connection.js', DIST).href
)) as typeof ConnectionModule;
const { Watcher } = (await import(new URL('watcher/watcher.js', DIST).href)) as typeof WatcherModule;

export interface ChildResult {
  seconds: number;
  transactions: number;
  operations: number;
  maxRssBytes: number;
  keysProcessed: number;
  keysRetried: number;
  /** user+system CPU seconds of the run (the machine may be shared: wall time alone misleads) */
  cpuSeconds: number;
  /** V8 heap in use once idle (what the caches and stores hold, plus not yet collected garbage) */
  heapUsedBytes: number;
}

async function main(): Promise<void> {
  const [nbRemote, url, subnet] = process.argv.slice(2);
  if (!nbRemote || !url || !subnet) throw new Error('usage: child.ts NB_REMOTE K8S_URL CLUSTER_SUBNET');
  const kc = resolveConnection({
    flags: { server: url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const w = await Watcher.start({
    nbRemotes: nbRemote,
    kubeConfig: kc,
    clusterSubnets: [subnet],
    k8sSyncTimeoutMs: 600_000,
    nbOpenTimeoutMs: 600_000,
    ...(process.env.BENCH_WATCHER_CONCURRENCY
      ? { concurrency: Number(process.env.BENCH_WATCHER_CONCURRENCY) }
      : {}),
  });
  await w.whenIdle();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = w.stats();
  const heapUsedBytes = process.memoryUsage().heapUsed;
  await w.stop();
  const result: ChildResult = {
    seconds,
    transactions: stats.batcher.transactions,
    operations: stats.batcher.operations,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    keysProcessed: stats.queue.processed,
    keysRetried: stats.queue.retried,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    heapUsedBytes,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `watcher bench child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
