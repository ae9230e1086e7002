/**
 * A simulator with the CRDs the central IPAM uses, the controller running in-process, and the
 * stand-ins for the controllers the simulator lacks (ReplicaSet/StatefulSet pods from templates).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim, type KubeObject } from '../../src/k8s/sim/index.js';
import { IpamController } from '../../src/watcher/ipam/controller.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'multinet', 'fixtures');

/** Parses a YAML file's documents as they are. */
export function loadYaml(path: string): KubeObject[] {
  const text = readFileSync(path, 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

export const fixture = (name: string): KubeObject[] => loadYaml(join(FIXTURES, `${name}.yaml`));

/** kubectl is how users apply the seeds (its YAML parser accepts what stricter parsers reject). */
export const hasKubectl = ((): boolean => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function minimalCrd(
  group: string,
  version: string,
  plural: string,
  kind: string,
  scope: 'Cluster' | 'Namespaced',
): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope,
      names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  } as KubeObject;
}

/** CRDs we need; those shipped in deploy/crds are applied from there first. */
const NEEDED = [
  minimalCrd('kubeovn.io', 'v1', 'subnets', 'Subnet', 'Cluster'),
  minimalCrd('spiderpool.spidernet.io', 'v2beta1', 'spiderippools', 'SpiderIPPool', 'Cluster'),
  minimalCrd('spiderpool.spidernet.io', 'v2beta1', 'spidermultusconfigs', 'SpiderMultusConfig', 'Namespaced'),
  minimalCrd('ovn-k8s.io', 'v1', 'ipreservations', 'IPReservation', 'Namespaced'),
];

export interface Env {
  sim: K8sSim;
  kc: KubeConfig;
  controller: IpamController;
  apply(objs: KubeObject[], namespace?: string): KubeObject[];
  /** `kubectl apply -f test/multinet/fixtures/<name>.yaml` (the YAML parsed here without kubectl). */
  applyFixture(name: string): Promise<KubeObject[]>;
  startController(): Promise<IpamController>;
  stopController(): Promise<void>;
  pod(namespace: string, name: string): V1Pod | undefined;
  deletePod(namespace: string, name: string): void;
  /** Pods of a Deployment as its ReplicaSet would make them. */
  deploymentPods(deploy: KubeObject, count: number): KubeObject[];
  /** Pod `ordinal` of a StatefulSet, as the StatefulSet controller makes it. */
  statefulSetPod(sts: KubeObject, ordinal: number): KubeObject;
  stop(): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const sim = await startK8sSim({ bookmarkIntervalMs: 200 });
  const { kubeConfig: kc } = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  });
  const crdType = sim.api.registry.get('apiextensions.k8s.io', 'customresourcedefinitions')!;
  // The CRDs deploy/ ships (H11's deploy/01-crds.yaml, our deploy/crds/), for kinds the simulator does not serve itself.
  const crdFiles: string[] = [];
  for (const dir of [join(ROOT, 'deploy'), join(ROOT, 'deploy', 'crds')]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml') || x.endsWith('.yml')))
      crdFiles.push(join(dir, f));
  }
  for (const file of crdFiles) {
    for (const o of loadYaml(file)) {
      if (o.kind !== 'CustomResourceDefinition') continue;
      const spec = o.spec as { group: string; names: { plural: string } };
      if (sim.api.registry.get(spec.group, spec.names.plural)) continue;
      sim.api.create(crdType, undefined, o);
    }
  }
  for (const crd of NEEDED) {
    if (!sim.api.tryGet(crdType, undefined, crd.metadata.name!)) sim.api.create(crdType, undefined, crd);
  }

  const apply = (objs: KubeObject[], namespace = 'default'): KubeObject[] =>
    objs.map((o) => {
      const t = sim.api.registry.findByKind(String(o.apiVersion), String(o.kind));
      if (!t) throw new Error(`no resource for ${String(o.apiVersion)} ${String(o.kind)}`);
      const ns = t.namespaced ? (o.metadata.namespace ?? namespace) : undefined;
      const existing = sim.api.tryGet(t, ns, o.metadata.name!);
      if (existing) {
        const copy = structuredClone(o);
        return sim.api.update(t, ns, o.metadata.name!, copy).obj;
      }
      return sim.api.create(t, ns, structuredClone(o)).obj;
    });
  const podType = sim.api.registry.get('', 'pods')!;
  let seq = 0;
  const kubeconfigPath = join(tmpdir(), `h12-ipam-kc-${process.pid}-${sim.port}`);
  await sim.writeKubeconfig(kubeconfigPath);
  const env: Env = {
    sim,
    kc,
    controller: undefined as unknown as IpamController,
    apply,
    async applyFixture(name) {
      const file = join(FIXTURES, `${name}.yaml`);
      if (!hasKubectl) return apply(loadYaml(file));
      const { stdout } = await promisify(execFile)(
        'kubectl',
        ['--kubeconfig', kubeconfigPath, 'apply', '--validate=false', '-o', 'json', '-f', file],
        { encoding: 'utf8' },
      );
      const out = JSON.parse(stdout) as KubeObject & { items?: KubeObject[] };
      return out.items ?? [out];
    },
    async startController() {
      env.controller = new IpamController({
        kubeConfig: kc,
        gcIntervalMs: 0,
        ipamKubeconfig: '/etc/cni/net.d/ovn-k8s-ipam.kubeconfig',
      });
      await env.controller.start();
      return env.controller;
    },
    async stopController() {
      await env.controller?.stop();
    },
    pod(namespace, name) {
      return sim.api.tryGet(podType, namespace, name)?.obj as V1Pod | undefined;
    },
    deletePod(namespace, name) {
      sim.api.delete(podType, namespace, name);
    },
    deploymentPods(deploy, count) {
      const spec = deploy.spec as { template: { metadata?: KubeObject['metadata']; spec: unknown } };
      const ns = deploy.metadata.namespace ?? 'default';
      const rs = `${deploy.metadata.name}-6f8dddd88d`;
      const pods: KubeObject[] = [];
      for (let i = 0; i < count; i++) {
        const name = `${rs}-${(++seq).toString(36).padStart(5, 'x')}`;
        pods.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            ...structuredClone(spec.template.metadata ?? {}),
            name,
            namespace: ns,
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `rs-${rs}`, controller: true },
            ],
          },
          spec: structuredClone(spec.template.spec),
        } as KubeObject);
      }
      return apply(pods, ns);
    },
    statefulSetPod(sts, ordinal) {
      const spec = sts.spec as { template: { metadata?: KubeObject['metadata']; spec: unknown } };
      const ns = sts.metadata.namespace ?? 'default';
      const name = `${sts.metadata.name}-${ordinal}`;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          ...structuredClone(spec.template.metadata ?? {}),
          name,
          namespace: ns,
          labels: { ...(spec.template.metadata?.labels ?? {}), 'statefulset.kubernetes.io/pod-name': name },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'StatefulSet',
              name: sts.metadata.name,
              uid: sts.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: structuredClone(spec.template.spec),
      } as KubeObject;
      return apply([pod], ns)[0]!;
    },
    async stop() {
      await env.controller?.stop().catch(() => undefined);
      await sim.stop();
      rmSync(kubeconfigPath, { force: true });
    },
  };
  return env;
}

/** Polls `fn` until it returns a value that is not undefined (or throws after `ms`). */
export async function eventually<T>(fn: () => T | undefined, ms = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const annotation = (pod: V1Pod | undefined, key: string): string | undefined =>
  pod?.metadata?.annotations?.[key];
