/**
 * The controllers of the IPAM load bench in their own process, as the watcher runs in a cluster:
 * the watcher (primary network: addresses, NB ports, `k8s.ovn.org/pod-networks`) and, with
 * `--ipam`, the central IPAM controller for the secondary attachments.
 * usage: controllers-child.ts NB_REMOTE K8S_URL CLUSTER_SUBNET [--ipam]
 * Prints `ready` once converged on the pre-existing objects; on SIGTERM stops, prints one JSON line
 * of statistics and exits.
 */
import { resolveConnection } from '../../src/k8s/connection.js';
import { IpamController } from '../../src/watcher/ipam/controller.js';
import { Watcher } from '../../src/watcher/watcher.js';

export interface ControllersStats {
  watcherKeysProcessed: number;
  watcherKeysRetried: number;
  nbTransactions: number;
  maxRssBytes: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const withIpam = args.includes('--ipam');
  const [nbRemote, url, subnet] = args.filter((a) => !a.startsWith('--'));
  if (!nbRemote || !url || !subnet)
    throw new Error('usage: controllers-child.ts NB_REMOTE K8S_URL CLUSTER_SUBNET [--ipam]');
  const kubeConfig = resolveConnection({
    flags: { server: url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  const watcher = await Watcher.start({ nbRemotes: nbRemote, kubeConfig, clusterSubnets: [subnet] });
  // IPAM_LOAD_IPAM_CONCURRENCY: an experiment knob (the controller's default otherwise).
  const concurrency = Number(process.env.IPAM_LOAD_IPAM_CONCURRENCY) || undefined;
  const ipam = withIpam
    ? new IpamController({ kubeConfig, gcIntervalMs: 0, ...(concurrency ? { concurrency } : {}) })
    : undefined;
  await ipam?.start();
  await watcher.whenIdle();
  await ipam?.whenIdle();
  process.stdout.write('ready\n');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const stats = watcher.stats();
    const out: ControllersStats = {
      watcherKeysProcessed: stats.queue.processed,
      watcherKeysRetried: stats.queue.retried,
      nbTransactions: stats.batcher.transactions,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    Promise.all([watcher.stop(), ipam?.stop()]).then(
      () => {
        process.stdout.write(`${JSON.stringify(out)}\n`);
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `ipam-load controllers: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
