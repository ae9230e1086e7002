/**
 * StatefulSet retention when the controller's caches lag behind each other. Pods, StatefulSets and
 * IPReservations come through independent watch streams with no ordering between them; a proxy
 * (watch-gate.ts) holds one resource's events back so the controller sees a pod delete before the
 * StatefulSet (or IPReservation) change that happened earlier. A retained address must survive
 * that, and must never go to another pod meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import type { KubeObject } from '../../src/k8s/sim/index.js';
import { IpamController } from '../../src/watcher/ipam/controller.js';
import { eventually, startEnv, type Env } from './env.js';
import {
  liveMacvlanIps,
  macvlanIpOf as ipOf,
  plainPod,
  statefulSet,
  waitMacvlanIp,
} from './macvlan-objects.js';
import { startWatchGate, type WatchGate } from './watch-gate.js';

let env: Env;
let gate: WatchGate;
let controller: IpamController;

const waitIp = (name: string, uid?: string): Promise<string> => waitMacvlanIp(env, name, uid);

const stsType = () => env.sim.api.registry.get('apps', 'statefulsets')!;

const scale = (name: string, replicas: number): KubeObject => {
  const cur = env.sim.api.get(stsType(), 'default', name).obj;
  return env.sim.api.update(stsType(), 'default', name, {
    ...cur,
    spec: { ...(cur.spec as object), replicas },
  }).obj;
};

/** The IPReservation of `pod` (its ordinal) in the API server, by address. */
const reservedIps = (pod: string): string[] => {
  const t = env.sim.api.registry.get('ovn-k8s.io', 'ipreservations')!;
  return env.sim.api
    .list(t, 'default')
    .entries.map((e) => e.obj)
    .filter((r) => r.metadata.name!.startsWith(`${pod}.`))
    .flatMap((r) => (r.spec as { ips: string[] }).ips);
};

const liveIps = (): string[] => liveMacvlanIps(env);

/**
 * Deletes `name` and makes sure the controller has handled the delete before anything else
 * happens to that name: a plain pod created after it gets its address (its event follows the
 * delete in the same pod watch stream), then the controller goes idle.
 */
async function deleteAndSettle(name: string, witness: string): Promise<string> {
  env.deletePod('default', name);
  env.apply([plainPod(witness)]);
  const ip = await waitIp(witness);
  await controller.whenIdle();
  return ip;
}

beforeAll(async () => {
  env = await startEnv();
  await env.applyFixture('004-nad-macvlan');
  await env.applyFixture('004-subnet-macvlan');
  // Known to the controller from its first list: the caches start with these.
  env.apply([statefulSet('grow', 1), statefulSet('again', 1), statefulSet('db', 2)]);
  gate = await startWatchGate(env.sim.url);
  const { kubeConfig } = resolveConnection({
    flags: { server: gate.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  });
  controller = new IpamController({ kubeConfig, gcIntervalMs: 0 });
  await controller.start();
});

afterAll(async () => {
  await controller?.stop().catch(() => undefined);
  await gate?.stop();
  await env?.stop();
});

describe('StatefulSet retention with lagging caches', () => {
  it('keeps the address when the pod delete is seen before the StatefulSet itself', async () => {
    gate.hold('statefulsets');
    try {
      const [sts] = env.apply([statefulSet('web', 2)]);
      env.statefulSetPod(sts!, 0);
      env.statefulSetPod(sts!, 1);
      const ip0 = await waitIp('web-0');
      const ip1 = await waitIp('web-1');
      const between = await deleteAndSettle('web-0', 'web-between');
      expect([ip0, ip1]).not.toContain(between);
      expect(reservedIps('web-0')).toEqual([ip0]);
      const again = env.statefulSetPod(sts!, 0);
      expect(await waitIp('web-0', again.metadata.uid)).toBe(ip0);
    } finally {
      gate.release('statefulsets');
    }
  });

  it('keeps the address of an ordinal added by a scale-up the cache has not seen yet', async () => {
    gate.hold('statefulsets');
    try {
      const sts = scale('grow', 2);
      env.statefulSetPod(sts, 0);
      env.statefulSetPod(sts, 1);
      const ip1 = await waitIp('grow-1');
      const between = await deleteAndSettle('grow-1', 'grow-between');
      expect(between).not.toBe(ip1);
      const again = env.statefulSetPod(sts, 1);
      expect(await waitIp('grow-1', again.metadata.uid)).toBe(ip1);
    } finally {
      gate.release('statefulsets');
    }
  });

  it('keeps the address of a re-created StatefulSet whose new uid the cache has not seen yet', async () => {
    gate.hold('statefulsets');
    try {
      env.sim.api.delete(stsType(), 'default', 'again');
      const [sts] = env.apply([statefulSet('again', 1)]);
      const first = env.statefulSetPod(sts!, 0);
      const ip0 = await waitIp('again-0', first.metadata.uid);
      const between = await deleteAndSettle('again-0', 'again-between');
      expect(between).not.toBe(ip0);
      const second = env.statefulSetPod(sts!, 0);
      expect(await waitIp('again-0', second.metadata.uid)).toBe(ip0);
    } finally {
      gate.release('statefulsets');
    }
  });

  it('keeps the address through a leak collection that runs before the StatefulSet is seen', async () => {
    gate.hold('statefulsets');
    try {
      const [sts] = env.apply([statefulSet('gc', 1)]);
      env.statefulSetPod(sts!, 0);
      const ip0 = await waitIp('gc-0');
      const between = await deleteAndSettle('gc-0', 'gc-between');
      expect(between).not.toBe(ip0);
      controller.requestGc();
      await controller.whenIdle();
      expect(reservedIps('gc-0')).toEqual([ip0]);
      const again = env.statefulSetPod(sts!, 0);
      expect(await waitIp('gc-0', again.metadata.uid)).toBe(ip0);
    } finally {
      gate.release('statefulsets');
    }
  });

  it('re-creates the IPReservation of a re-added ordinal while the deletion of the old one is not yet seen', async () => {
    const [sts] = env.apply([statefulSet('db', 2)]);
    env.statefulSetPod(sts!, 0);
    env.statefulSetPod(sts!, 1);
    await waitIp('db-1');
    await eventually(() => (reservedIps('db-1').length > 0 ? true : undefined), 15_000, 'db-1 reserved');
    gate.hold('ipreservations');
    try {
      // Scaled away: the address and its IPReservation go (the controller does not see the delete yet).
      scale('db', 1);
      env.deletePod('default', 'db-1');
      await eventually(
        () => (reservedIps('db-1').length === 0 ? true : undefined),
        15_000,
        'db-1 unreserved',
      );
      // Scaled up again: the new pod's address must be recorded again.
      const grown = scale('db', 2);
      const pod = env.statefulSetPod(grown, 1);
      const ip = await waitIp('db-1', pod.metadata.uid);
      expect(
        await eventually(() => (reservedIps('db-1').length > 0 ? reservedIps('db-1') : undefined)),
      ).toEqual([ip]);
    } finally {
      gate.release('ipreservations');
    }
    await controller.whenIdle();
    expect(reservedIps('db-1')).toEqual([ipOf(env.pod('default', 'db-1'))]);
  });

  it('never gave an address to two live pods', () => {
    const all = liveIps();
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
  });
});
