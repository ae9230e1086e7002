/** Shared set-up for access-layer tests against the in-process Kubernetes simulator. */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { resolveConnection } from '../../src/k8s/connection.js';
import { objectKey } from '../../src/k8s/resources.js';
import type { EventHandlers } from '../../src/k8s/informer.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';

export async function startSim(
  opts: Parameters<typeof startK8sSim>[0] = {},
): Promise<{ sim: K8sSim; kc: KubeConfig }> {
  const sim = await startK8sSim({ bookmarkIntervalMs: 200, ...opts });
  const { kubeConfig } = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  });
  return { sim, kc: kubeConfig };
}

export function simType(sim: K8sSim, group: string, plural: string): Parameters<K8sSim['api']['create']>[0] {
  const t = sim.api.registry.get(group, plural);
  if (!t) throw new Error(`simulator has no ${group}/${plural}`);
  return t;
}

/** `key -> resourceVersion` of the simulator's current state of a collection (direct, fault-free). */
export function simState(sim: K8sSim, group: string, plural: string): Map<string, string> {
  const { entries } = sim.api.list(simType(sim, group, plural), undefined, {});
  return new Map(
    entries.map((e) => [objectKey(e.obj as KubernetesObject), String(e.obj.metadata.resourceVersion)]),
  );
}

export function storeState(objs: readonly KubernetesObject[]): Map<string, string> {
  return new Map(objs.map((o) => [objectKey(o), String(o.metadata?.resourceVersion)]));
}

export function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function diffState(a: Map<string, string>, b: Map<string, string>): string {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${v} vs ${b.get(k) ?? 'absent'}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: absent vs ${b.get(k)}`);
  return out.slice(0, 10).join(', ');
}

/**
 * Handlers that rebuild the collection purely from events and flag any inconsistent sequence:
 * an add of a known key, an update whose old object is not the last one delivered, a delete of an
 * unknown key.
 */
export function eventView<T extends KubernetesObject>(): {
  view: Map<string, T>;
  errors: string[];
  deleted: string[];
  handlers: EventHandlers<T>;
} {
  const view = new Map<string, T>();
  const errors: string[] = [];
  const deleted: string[] = [];
  return {
    view,
    errors,
    deleted,
    handlers: {
      onAdd: (o) => {
        const k = objectKey(o);
        if (view.has(k)) errors.push(`add of known ${k}`);
        view.set(k, o);
      },
      onUpdate: (old, o) => {
        const k = objectKey(o);
        if (view.get(k) !== old)
          errors.push(`update of ${k} with an old object that was not the last delivered`);
        view.set(k, o);
      },
      onDelete: (o) => {
        const k = objectKey(o);
        if (!view.has(k)) errors.push(`delete of unknown ${k}`);
        view.delete(k);
        deleted.push(k);
      },
    },
  };
}

export function podBody(
  name: string,
  node: string,
  annotations: Record<string, string> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'registry.example/app:1' }] },
  };
}

/**
 * Random creates, updates and deletes of pods in `default`, straight through the simulator's
 * semantics layer (so the faults aimed at the informer do not slow the churn down).
 */
export async function churnPods(
  sim: K8sSim,
  ops: number,
  opts: { prefix?: string; seed?: number } = {},
): Promise<void> {
  const pods = simType(sim, '', 'pods');
  const prefix = opts.prefix ?? 'churn';
  let seed = opts.seed ?? 1;
  const rand = (n: number): number => {
    // Deterministic LCG: a failing run can be replayed.
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const live: string[] = [];
  for (let i = 0; i < ops; i++) {
    const r = rand(10);
    if (r < 4 || live.length === 0) {
      const name = `${prefix}-${i}`;
      sim.api.create(pods, 'default', podBody(name, `node-${rand(3)}`));
      live.push(name);
    } else if (r < 8) {
      const name = live[rand(live.length)]!;
      sim.api.patch(pods, 'default', name, 'merge', { metadata: { annotations: { step: String(i) } } });
    } else {
      const idx = rand(live.length);
      const name = live[idx]!;
      live.splice(idx, 1);
      sim.api.delete(pods, 'default', name, { gracePeriodSeconds: 0 });
    }
    if (i % 5 === 0) await new Promise((r2) => setTimeout(r2, 2));
  }
}
