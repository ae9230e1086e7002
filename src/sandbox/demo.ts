/**
 * The demo: a sandbox (NB, SB, northd, Kubernetes simulator), the sample cluster, master-init,
 * the watcher (in-process), convergence, the topology, and the ovn-trace checks, each PASSED or
 * FAILED. Everything started is stopped by pid at the end unless `keep`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import { resolveConnection } from '../k8s/connection.js';
import { buildTopology, dotToSvg, readNbSnapshot, renderDot } from '../ovn/topology/index.js';
import { liveNbView } from '../watcher/nb-view.js';
import { masterInit } from '../watcher/master-init.js';
import { openNb } from '../watcher/nb-connect.js';
import { podNetworkFromAnnotation } from '../watcher/convert.js';
import { Watcher } from '../watcher/watcher.js';
import { waitFor } from '../runtime/process.js';
import { SAMPLE_CLUSTER_SUBNET, createSampleCluster } from './sample-cluster.js';
import { startSandbox, stopSandbox } from './sandbox.js';
import { formatTopology } from './topology.js';
import { runTraceChecks } from './trace-checks.js';

export interface DemoOptions {
  dir?: string;
  keep?: boolean;
  write?: (line: string) => void;
}

/** Runs the demo; resolves with the exit status (0: every check passed). */
export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  const ownDir = !opts.dir;
  // our own output dir outlives the run (the picture stays); only the sandbox inside it goes
  const outDir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ovnk8s-demo-'));
  const dir = ownDir ? join(outDir, 'sandbox') : outDir;
  write(`== sandbox in ${dir}`);
  const info = await startSandbox(dir);
  write(`NB ${info.nb} (${info.nbTcp}), SB ${info.sb}, Kubernetes simulator ${info.k8sApiServer}`);
  let watcher: Watcher | undefined;
  let db: Awaited<ReturnType<typeof openNb>> | undefined;
  try {
    const kc = resolveConnection({ flags: { kubeconfig: info.kubeconfig }, env: {} }).kubeConfig;
    const cluster = await createSampleCluster(kc);
    write(
      `== sample cluster: nodes ${cluster.nodes.join(', ')} (gateway ${cluster.gateway.node}), ` +
        `${cluster.pods.length} pods in web and db, services ${cluster.services.map((s) => `${s.namespace}/${s.name} (${s.type})`).join(', ')}`,
    );
    db = await openNb({ nbAddress: info.nb });
    const mi = await masterInit(db, {
      clusterIpSubnet: SAMPLE_CLUSTER_SUBNET,
      nodeName: cluster.gateway.node,
    });
    write(`== master-init: node ${mi.node}, subnet ${mi.subnets.join(',')}, ${mi.operations} operations`);
    const logger = pino(
      { name: 'ovn-k8s-watcher', level: 'info' },
      pino.destination({ dest: join(outDir, 'watcher.log'), sync: true }),
    );
    watcher = await Watcher.start({ db, kubeConfig: kc, clusterSubnets: [SAMPLE_CLUSTER_SUBNET], logger });
    const api = kc.makeApiClient(CoreV1Api);
    await waitFor(
      'every pod annotated and every service with endpoints',
      async () => {
        const pods = (await api.listPodForAllNamespaces()).items;
        if (!pods.every((p) => podNetworkFromAnnotation(p))) return false;
        const lbs = [...db!.cache.table('Load_Balancer').rows()];
        return (
          lbs.length >= 3 &&
          lbs.every((lb) => Object.values(lb.vips as Record<string, string>).every((b) => b !== ''))
        );
      },
      30_000,
      100,
    );
    await watcher.whenIdle();
    const s = watcher.stats();
    write(
      `== converged: ${s.batcher.transactions} NB transactions, ${s.batcher.operations} operations, ${s.queue.processed} key runs`,
    );
    write('== topology');
    const view = liveNbView(db.cache);
    write(formatTopology(view));
    view.detach();
    const picture = await drawTopology(info.nb, outDir);
    write(`== picture: ${picture}`);
    write('== ovn-trace checks');
    const checks = await runTraceChecks({
      nb: info.nb,
      sb: info.sb,
      kubeConfig: kc,
      clusterIpService: { namespace: 'db', name: 'db' },
      nodePortService: { namespace: 'web', name: 'web' },
      gateway: cluster.gateway,
    });
    for (const c of checks) write(`${c.passed ? 'PASSED' : 'FAILED'}  ${c.name}: ${c.detail}`);
    const failed = checks.filter((c) => !c.passed).length;
    write(
      failed === 0
        ? `== all ${checks.length} checks passed`
        : `== ${failed} of ${checks.length} checks FAILED`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    await watcher?.stop();
    await db?.close();
    if (opts.keep) write(`== kept running; stop with: ovn-k8s-util sandbox stop --dir ${dir}`);
    else {
      await stopSandbox(dir);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      write('== sandbox stopped');
      if (ownDir) write(`== output (picture, watcher log) kept in ${outDir}`);
    }
  }
}

/** The live logical network as an SVG (Graphviz), as `ovn-k8s-util topology --format svg` draws it. */
async function drawTopology(nb: string, outDir: string): Promise<string> {
  const topo = buildTopology(await readNbSnapshot({ remotes: nb }));
  const path = join(outDir, 'topology.svg');
  writeFileSync(path, await dotToSvg(renderDot(topo, { title: 'ovn-k8s demo: OVN logical network' })));
  return path;
}
