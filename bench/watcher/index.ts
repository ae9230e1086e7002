/**
 * Watcher bench (issue 4): a cold sync of 1,000 nodes, 100,000 pods and 10,000 services (two
 * ports, five endpoints each) from the Kubernetes simulator into an empty NB database, then a warm
 * restart on the result: seconds, NB transactions, peak RSS. `--scale` multiplies the counts.
 *
 * The simulator runs in this process (seeded through its object API, no HTTP), so its CPU shares
 * the watcher's; NB is a real ovsdb-server without northd (northd is not part of the figure).
 */
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim } from '../../src/k8s/sim/index.js';
import { startOvnCentral } from '../../src/runtime/ovn-central.js';
import { Watcher } from '../../src/watcher/watcher.js';
import { tempDir } from '../../test/helpers/tmp.js';
import type { BenchModule, BenchResult } from '../lib/report.js';

const CLUSTER_SUBNET = '10.128.0.0/12/23';

function rssSampler(): { peak(): number; stop(): void } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  timer.unref();
  return { peak: () => Math.max(peak, process.memoryUsage().rss), stop: () => clearInterval(timer) };
}

export const watcherBench: BenchModule = {
  name: 'watcher',
  description: 'cold sync of nodes/pods/services into an empty NB, then a warm restart',
  async run({ scale, log }): Promise<BenchResult> {
    const nodes = Math.max(1, Math.round(1000 * scale));
    const pods = Math.max(1, Math.round(100_000 * scale));
    const services = Math.max(1, Math.round(10_000 * scale));
    const tmp = tempDir('bw-');
    const central = await startOvnCentral({ dir: `${tmp.dir}/c`, northd: false });
    const sim = await startK8sSim({ watchHistory: 1000 });
    try {
      const kc = resolveConnection({
        flags: { server: sim.url },
        env: {},
        serviceAccountDir: '/nonexistent',
      }).kubeConfig;
      const type = (g: string, p: string) => sim.api.registry.get(g, p)!;
      log(`seeding ${nodes} nodes, ${pods} pods, ${services} services`);
      for (let i = 0; i < nodes; i++)
        sim.api.create(type('', 'nodes'), undefined, { metadata: { name: `n${i}` } });
      for (let i = 0; i < pods; i++) {
        sim.api.create(type('', 'pods'), 'default', {
          metadata: { name: `p${i}`, namespace: 'default', labels: { app: `a${i % services}` } },
          spec: { nodeName: `n${i % nodes}`, containers: [{ name: 'c', image: 'x' }] },
        });
      }
      for (let i = 0; i < services; i++) {
        sim.api.create(type('', 'services'), 'default', {
          metadata: { name: `s${i}`, namespace: 'default' },
          spec: {
            selector: { app: `a${i}` },
            ports: [
              { name: 'a', port: 80, targetPort: 8080 },
              { name: 'b', port: 81, targetPort: 8081 },
            ],
          },
        });
        sim.api.create(type('discovery.k8s.io', 'endpointslices'), 'default', {
          metadata: {
            name: `s${i}-x`,
            namespace: 'default',
            labels: { 'kubernetes.io/service-name': `s${i}` },
          },
          addressType: 'IPv4',
          ports: [
            { name: 'a', port: 8080, protocol: 'TCP' },
            { name: 'b', port: 8081, protocol: 'TCP' },
          ],
          endpoints: [1, 2, 3, 4, 5].map((k) => ({
            addresses: [`10.${200 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${(i & 255) ^ k}`],
            conditions: { ready: true },
          })),
        });
      }
      const rss = rssSampler();
      log('cold sync');
      const t0 = performance.now();
      const cold = await Watcher.start({
        nbRemotes: central.nb.unix,
        kubeConfig: kc,
        clusterSubnets: [CLUSTER_SUBNET],
      });
      await cold.whenIdle();
      const coldS = (performance.now() - t0) / 1000;
      const coldTxns = cold.stats().batcher.transactions;
      await cold.stop();
      log('warm restart');
      const t1 = performance.now();
      const warm = await Watcher.start({
        nbRemotes: central.nb.unix,
        kubeConfig: kc,
        clusterSubnets: [CLUSTER_SUBNET],
      });
      await warm.whenIdle();
      const warmS = (performance.now() - t1) / 1000;
      const warmTxns = warm.stats().batcher.transactions;
      await warm.stop();
      rss.stop();
      const full = scale === 1;
      return {
        comparisons: [],
        measurements: [
          {
            metric: 'cold sync',
            unit: 's',
            value: coldS,
            ...(full ? { max: 60, targetText: '< 60 s' } : {}),
          },
          { metric: 'cold sync NB transactions', unit: 'txn', value: coldTxns },
          {
            metric: 'peak RSS',
            unit: 'MiB',
            value: rss.peak() / 2 ** 20,
            ...(full ? { max: 1536, targetText: '< 1.5 GiB' } : {}),
          },
          {
            metric: 'warm restart',
            unit: 's',
            value: warmS,
            ...(full ? { max: 15, targetText: '< 15 s' } : {}),
          },
          { metric: 'warm restart NB transactions', unit: 'txn', value: warmTxns, max: 0, targetText: '0' },
        ],
        notes: [
          `${nodes} nodes, ${pods} pods, ${services} services x 2 ports x 5 endpoints`,
          'the Kubernetes simulator runs in the same process (its CPU and memory are in the figures)',
        ],
      };
    } finally {
      await sim.stop();
      await central.stop();
      tmp.cleanup();
    }
  },
};
