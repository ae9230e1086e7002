/**
 * A malformed config gets a Kubernetes Event (and a log line) and disturbs nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotation, eventually, startEnv, type Env } from './env.js';
import type { KubeObject } from '../../src/k8s/sim/index.js';

let env: Env;

beforeAll(async () => {
  env = await startEnv();
  await env.applyFixture('004-nad-macvlan');
  await env.applyFixture('004-subnet-macvlan');
  await env.startController();
});

afterAll(async () => {
  await env?.stop();
});

const events = (): {
  reason?: string;
  involvedObject?: { kind?: string; name?: string };
  message?: string;
}[] => {
  const t = env.sim.api.registry.get('', 'events')!;
  return env.sim.api.list(t, undefined).entries.map((e) => e.obj as never);
};

const pod = (name: string, annotations: Record<string, string>): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  }) as KubeObject;

describe('invalid configs', () => {
  it('reports a bad Subnet, a bad SpiderMultusConfig and bad pod annotations as Events; good pods are served', async () => {
    env.apply([
      {
        apiVersion: 'kubeovn.io/v1',
        kind: 'Subnet',
        metadata: { name: 'broken' },
        spec: { protocol: 'IPv4', provider: 'x.default', cidrBlock: '10.0.0.300/24' },
      } as KubeObject,
      {
        apiVersion: 'spiderpool.spidernet.io/v2beta1',
        kind: 'SpiderMultusConfig',
        // Valid for the CRD schema (the API server refuses an ovs config without a bridge), invalid
        // for the controller: two masters and no bond name.
        metadata: { name: 'nobond', namespace: 'default' },
        spec: { cniType: 'macvlan', macvlan: { master: ['eth1', 'eth2'] } },
      } as KubeObject,
      pod('bad-selection', { 'k8s.v1.cni.cncf.io/networks': 'a/b/c' }),
      pod('bad-ip', {
        'k8s.v1.cni.cncf.io/networks': 'default/macvlan',
        'macvlan.default.kubernetes.io/ip_address': '172.99.0.1',
      }),
      pod('good', { 'k8s.v1.cni.cncf.io/networks': 'default/macvlan' }),
    ]);
    const good = await eventually(() =>
      annotation(env.pod('default', 'good'), 'macvlan.default.kubernetes.io/ip_address'),
    );
    expect(good).toMatch(/^172\.17\.0\./);
    const want: [string, string, RegExp][] = [
      ['Subnet', 'broken', /InvalidPool/],
      ['SpiderMultusConfig', 'nobond', /InvalidSpiderMultusConfig/],
      ['Pod', 'bad-selection', /InvalidNetworkSelection/],
      ['Pod', 'bad-ip', /AddressAllocationFailed/],
    ];
    for (const [kind, name, reason] of want) {
      const e = await eventually(
        () => events().find((x) => x.involvedObject?.kind === kind && x.involvedObject.name === name),
        15_000,
        `event on ${kind} ${name}`,
      );
      expect(e.reason).toMatch(reason);
    }
    const badIp = events().find((x) => x.involvedObject?.name === 'bad-ip')!;
    expect(badIp.message).toContain('172.99.0.1');
    expect(
      annotation(env.pod('default', 'bad-ip'), 'macvlan.default.kubernetes.io/allocated'),
    ).toBeUndefined();
  });
});
