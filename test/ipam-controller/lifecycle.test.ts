/**
 * The central IPAM's guarantees across time: StatefulSet pods keep their addresses across
 * delete/recreate until scaled down; `ip_pool` gives ordinal N the Nth entry; a watcher restart
 * rebuilds from Kubernetes objects and hands out no duplicate; leaks (pods deleted while the
 * watcher was down) are collected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { annotation, eventually, startEnv, type Env } from './env.js';
import {
  liveMacvlanIps,
  macvlanIpOf as ipOf,
  plainPod,
  statefulSet,
  waitMacvlanIp,
} from './macvlan-objects.js';
import type { KubeObject } from '../../src/k8s/sim/index.js';

let env: Env;
const P = 'macvlan.default';

const waitIp = (name: string, uid?: string): Promise<string> => waitMacvlanIp(env, name, uid);

const reservations = (): KubeObject[] => {
  const t = env.sim.api.registry.get('ovn-k8s.io', 'ipreservations')!;
  return env.sim.api.list(t, 'default').entries.map((e) => e.obj);
};

const liveIps = (): string[] => liveMacvlanIps(env);

beforeAll(async () => {
  env = await startEnv();
  await env.applyFixture('004-nad-macvlan');
  await env.applyFixture('004-subnet-macvlan');
  await env.startController();
});

afterAll(async () => {
  await env?.stop();
});

describe('StatefulSet retention', () => {
  it('keeps the address of a StatefulSet pod across delete and re-create', async () => {
    const [sts] = env.apply([statefulSet('web', 2)]);
    const p0 = env.statefulSetPod(sts!, 0);
    const p1 = env.statefulSetPod(sts!, 1);
    const ip0 = await waitIp('web-0');
    const ip1 = await waitIp('web-1');
    expect(ip0).not.toBe(ip1);
    expect(
      reservations()
        .map((r) => (r.spec as { ips: string[] }).ips[0])
        .sort(),
    ).toEqual([ip0, ip1].sort());

    // Rescheduled: the pod goes away, a new one (new uid) takes its name.
    env.deletePod('default', 'web-0');
    // A plain pod created in between must not get web-0's address.
    env.apply([plainPod('between')]);
    const between = await waitIp('between');
    expect([ip0, ip1]).not.toContain(between);
    const again = env.statefulSetPod(sts!, 0);
    expect(again.metadata.uid).not.toBe(p0.metadata.uid);
    expect(await waitIp('web-0', again.metadata.uid)).toBe(ip0);
    expect(p1.metadata.name).toBe('web-1');
  });

  it('gives ordinal N the Nth ip_pool entry', async () => {
    const [sts] = env.apply([
      statefulSet('db', 3, { [`${P}.kubernetes.io/ip_pool`]: '172.17.1.10,172.17.1.11,172.17.1.12' }),
    ]);
    // Created out of order on purpose: the address follows the ordinal, not the arrival.
    env.statefulSetPod(sts!, 2);
    env.statefulSetPod(sts!, 0);
    expect(await waitIp('db-2')).toBe('172.17.1.12');
    expect(await waitIp('db-0')).toBe('172.17.1.10');
  });

  it('releases the address when the StatefulSet is scaled down', async () => {
    const stsType = env.sim.api.registry.get('apps', 'statefulsets')!;
    const ip1 = await waitIp('web-1');
    const sts = env.sim.api.get(stsType, 'default', 'web').obj;
    env.sim.api.update(stsType, 'default', 'web', { ...sts, spec: { ...(sts.spec as object), replicas: 1 } });
    env.deletePod('default', 'web-1');
    await eventually(
      () => (reservations().some((r) => r.metadata.name!.startsWith('web-1.')) ? undefined : true),
      15_000,
      'reservation of web-1 deleted',
    );
    await eventually(() =>
      env.controller.snapshot()['Subnet/macvlan']?.['sts/default/web/1/macvlan.default'] ? undefined : true,
    );
    expect(liveIps()).not.toContain(ip1);
  });
});

describe('finished pods', () => {
  it('releases the address of a pod that Succeeded', async () => {
    env.apply([plainPod('job-1')]);
    const ip = await waitIp('job-1');
    const t = env.sim.api.registry.get('', 'pods')!;
    const cur = env.sim.api.get(t, 'default', 'job-1').obj;
    env.sim.api.update(t, 'default', 'job-1', { ...cur, status: { phase: 'Succeeded' } }, 'status');
    await eventually(
      () =>
        Object.values(env.controller.snapshot()['Subnet/macvlan'] ?? {})
          .flat()
          .includes(ip)
          ? undefined
          : true,
      15_000,
      'release of job-1',
    );
    env.deletePod('default', 'job-1');
  });
});

describe('restart', () => {
  it('rebuilds from Kubernetes objects, collects leaks and hands out no duplicate', async () => {
    const before = new Map<string, string>();
    const t = env.sim.api.registry.get('', 'pods')!;
    for (const e of env.sim.api.list(t, undefined).entries) {
      const ip = ipOf(e.obj as V1Pod);
      if (ip) before.set(e.obj.metadata.name!, ip);
    }
    const leakedIp = before.get('between')!;
    expect(leakedIp).toBeDefined();

    await env.stopController();
    // While the watcher is down: a pod is deleted (its address leaks unless collected) and new pods arrive.
    env.deletePod('default', 'between');
    env.apply([plainPod('new-a'), plainPod('new-b')]);
    // A recorded duplicate (e.g. written by an older, buggy writer): the newer pod claims web-0's address.
    const web0 = before.get('web-0')!;
    const dup = plainPod('dup');
    dup.metadata.annotations = {
      ...dup.metadata.annotations,
      [`${P}.kubernetes.io/allocated`]: 'true',
      [`${P}.kubernetes.io/ip_address`]: web0,
      [`${P}.kubernetes.io/logical_switch`]: 'macvlan',
    };
    await new Promise((r) => setTimeout(r, 1100)); // a later creationTimestamp (second resolution)
    env.apply([dup]);

    await env.startController();
    const a = await waitIp('new-a');
    const b = await waitIp('new-b');
    const d = await eventually(
      () => {
        const ip = ipOf(env.pod('default', 'dup'));
        return ip && ip !== web0 ? ip : undefined;
      },
      15_000,
      'dup re-addressed',
    );

    // Survivors keep their addresses.
    for (const [name, ip] of before) if (name !== 'between') expect(await waitIp(name)).toBe(ip);
    const all = liveIps();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain(a);
    expect(all).toContain(b);
    expect(all).toContain(d);
    // The leaked address is free again (not held in memory by anyone).
    const held = Object.values(env.controller.snapshot()['Subnet/macvlan'] ?? {}).flat();
    if (![a, b, d].includes(leakedIp)) expect(held).not.toContain(leakedIp);
    expect(held.length).toBe(all.length);
  });

  it("restores plain pods before serving new ones, so a new pod never takes a running pod's address", async () => {
    env.apply([
      {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'rbnet', namespace: 'default' },
        spec: {
          config: JSON.stringify({
            cniVersion: '0.3.1',
            type: 'macvlan',
            master: 'eth0',
            ipam: { type: 'kube-ovn', provider: 'rbnet.default' },
          }),
        },
      },
      {
        apiVersion: 'kubeovn.io/v1',
        kind: 'Subnet',
        metadata: { name: 'rb' },
        spec: { protocol: 'IPv4', provider: 'rbnet.default', cidrBlock: '10.9.0.0/24', gateway: '10.9.0.1' },
      },
    ] as KubeObject[]);
    const rbPod = (name: string): KubeObject =>
      ({
        ...plainPod(name),
        metadata: {
          name,
          namespace: 'default',
          annotations: { 'k8s.v1.cni.cncf.io/networks': 'default/rbnet' },
        },
      }) as KubeObject;
    const rbIp = (name: string) =>
      eventually(
        () =>
          annotation(env.pod('default', name), 'rbnet.default.kubernetes.io/allocated') === 'true'
            ? annotation(env.pod('default', name), 'rbnet.default.kubernetes.io/ip_address')
            : undefined,
        15_000,
        name,
      );
    env.apply([rbPod('keeper')]);
    expect(await rbIp('keeper')).toBe('10.9.0.2');
    await env.stopController();
    // Names that sort (and so are queued) before "keeper".
    env.apply(['a-fresh-1', 'a-fresh-2', 'a-fresh-3'].map(rbPod));
    await env.startController();
    const fresh = await Promise.all(['a-fresh-1', 'a-fresh-2', 'a-fresh-3'].map(rbIp));
    expect(fresh).not.toContain('10.9.0.2');
    expect(await rbIp('keeper')).toBe('10.9.0.2');
  });

  it('never hands out one address twice under a burst of concurrent pods', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    env.apply(names.map(plainPod));
    const ips = await Promise.all(names.map((n) => waitIp(n)));
    expect(new Set(ips).size).toBe(ips.length);
    const all = liveIps();
    expect(new Set(all).size).toBe(all.length);
  });
});
