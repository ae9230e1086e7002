/**
 * Property: whatever the sequence of pod creations, deletions (also while the watcher is down) and
 * watcher restarts, live pods never share an address, and a StatefulSet ordinal keeps its address
 * as long as the StatefulSet wants it.
 */
import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotation, eventually, startEnv, type Env } from './env.js';
import type { KubeObject } from '../../src/k8s/sim/index.js';

const P = 'macvlan.default';
let env: Env;
let running = false;
let sts: KubeObject;

type Op =
  | { kind: 'add'; n: number }
  | { kind: 'del'; n: number }
  | { kind: 'sts'; ordinal: number }
  | { kind: 'stsdel'; ordinal: number }
  | { kind: 'restart' }
  | { kind: 'down' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), n: fc.nat(7) }),
  fc.record({ kind: fc.constant('del' as const), n: fc.nat(7) }),
  fc.record({ kind: fc.constant('sts' as const), ordinal: fc.nat(2) }),
  fc.record({ kind: fc.constant('stsdel' as const), ordinal: fc.nat(2) }),
  fc.constant({ kind: 'restart' as const }),
  fc.constant({ kind: 'down' as const }),
);

const podType = () => env.sim.api.registry.get('', 'pods')!;
const ipOf = (pod: V1Pod | undefined) =>
  annotation(pod, `${P}.kubernetes.io/allocated`) === 'true'
    ? annotation(pod, `${P}.kubernetes.io/ip_address`)
    : undefined;

function livePods(): V1Pod[] {
  return env.sim.api.list(podType(), 'default').entries.map((e) => e.obj as V1Pod);
}

beforeAll(async () => {
  env = await startEnv();
  await env.applyFixture('004-nad-macvlan');
  await env.applyFixture('004-subnet-macvlan');
  [sts] = env.apply([
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'prop', namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'prop' } },
        template: {
          metadata: {
            labels: { app: 'prop' },
            annotations: { 'k8s.v1.cni.cncf.io/networks': 'default/macvlan' },
          },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    } as KubeObject,
  ]);
  await env.startController();
  running = true;
});

afterAll(async () => {
  await env?.stop();
});

describe('no duplicate addresses', () => {
  it('holds across creations, deletions, downtime and restarts', async () => {
    const stsIps = new Map<number, string>();
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 10 }), async (ops) => {
        for (const op of ops) {
          switch (op.kind) {
            case 'add':
              if (!env.pod('default', `p${op.n}`)) {
                env.apply([
                  {
                    apiVersion: 'v1',
                    kind: 'Pod',
                    metadata: {
                      name: `p${op.n}`,
                      namespace: 'default',
                      annotations: { 'k8s.v1.cni.cncf.io/networks': 'default/macvlan' },
                    },
                    spec: { containers: [{ name: 'c', image: 'nginx' }] },
                  } as KubeObject,
                ]);
              }
              break;
            case 'del':
              if (env.pod('default', `p${op.n}`)) env.deletePod('default', `p${op.n}`);
              break;
            case 'sts':
              if (!env.pod('default', `prop-${op.ordinal}`)) env.statefulSetPod(sts, op.ordinal);
              break;
            case 'stsdel':
              if (env.pod('default', `prop-${op.ordinal}`)) env.deletePod('default', `prop-${op.ordinal}`);
              break;
            case 'down':
              if (running) {
                await env.stopController();
                running = false;
              }
              break;
            case 'restart':
              if (running) await env.stopController();
              await env.startController();
              running = true;
              break;
          }
        }
        if (!running) {
          await env.startController();
          running = true;
        }
        // Every live pod gets an address; no two share one.
        const ips = await eventually(
          () => {
            const list = livePods().map(ipOf);
            return list.every((x) => x !== undefined) ? (list as string[]) : undefined;
          },
          15_000,
          'all live pods addressed',
        );
        expect(new Set(ips).size).toBe(ips.length);
        // StatefulSet ordinals keep theirs.
        for (const pod of livePods()) {
          const m = /^prop-(\d)$/.exec(pod.metadata!.name!);
          if (!m) continue;
          const ordinal = Number(m[1]);
          const ip = ipOf(pod)!;
          const before = stsIps.get(ordinal);
          if (before) expect(ip).toBe(before);
          stsIps.set(ordinal, ip);
        }
      }),
      { numRuns: 6 },
    );
  });
});
