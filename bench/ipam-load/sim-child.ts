/**
 * The Kubernetes API simulator of the IPAM load bench, in its own process so that its CPU is not
 * the controllers' (as on a real cluster, where the API server is another process).
 * usage: sim-child.ts OBJECTS.json — installs the CRDs deploy/ ships, creates the objects, prints
 * the URL on one line, serves until SIGTERM, then prints its request counts (JSON) on one line.
 */
import { readFileSync } from 'node:fs';
import { startK8sSim, type KubeObject } from '../../src/k8s/sim/index.js';
import { shippedCrds } from './scenario.js';

async function main(): Promise<void> {
  const [objectsFile] = process.argv.slice(2);
  if (!objectsFile) throw new Error('usage: sim-child.ts OBJECTS.json');
  const objects = JSON.parse(readFileSync(objectsFile, 'utf8')) as KubeObject[];
  // Large watch history: the burst's events must all be resumable by a relisting informer.
  const sim = await startK8sSim({ watchHistory: 100_000 });
  const crdType = sim.api.registry.get('apiextensions.k8s.io', 'customresourcedefinitions')!;
  for (const crd of shippedCrds()) {
    const spec = crd.spec as { group: string; names: { plural: string } };
    if (!sim.api.registry.get(spec.group, spec.names.plural)) sim.api.create(crdType, undefined, crd);
  }
  for (const o of objects) {
    const t = sim.api.registry.findByKind(String(o.apiVersion), String(o.kind));
    if (!t) throw new Error(`simulator has no resource for ${String(o.apiVersion)} ${String(o.kind)}`);
    if (t.namespaced) sim.api.create(t, o.metadata.namespace ?? 'default', o);
    else if (!sim.api.tryGet(t, undefined, o.metadata.name!)) sim.api.create(t, undefined, o);
  }
  process.stdout.write(`${sim.url}\n`);
  const stop = () => {
    // The request counts, for the bench's requests-per-pod figure.
    process.stdout.write(`${JSON.stringify(sim.stats())}\n`);
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`ipam-load sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
