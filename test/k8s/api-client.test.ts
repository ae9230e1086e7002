/**
 * Pooled API clients: many requests through client-node's typed APIs share a few kept-alive
 * connections instead of opening one per request, with the KubeConfig's credentials unchanged.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SOCKETS_PER_POOL, makeApiClient, pooledAuthentication } from '../../src/k8s/api-client.js';
import { annotateObject } from '../../src/k8s/annotations.js';
import { PODS, resourceClient } from '../../src/k8s/resources.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { startSim } from './sim-helpers.js';

let sim: K8sSim;
let kc: KubeConfig;

beforeAll(async () => {
  ({ sim, kc } = await startSim());
  const api = makeApiClient(kc, CoreV1Api);
  for (let i = 0; i < 20; i++) {
    await api.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: `p${i}` }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    });
  }
});
afterAll(async () => {
  pooledAuthentication(kc).close();
  await sim?.stop();
});

describe('makeApiClient', () => {
  it('reuses connections across sequential requests (client-node alone opens one per request)', async () => {
    const plain = kc.makeApiClient(CoreV1Api);
    const before = sim.stats().connections;
    for (let i = 0; i < 10; i++) await plain.readNamespacedPod({ namespace: 'default', name: 'p0' });
    const plainConnections = sim.stats().connections - before;
    // what this module fixes: without pooling every request had its own connection
    expect(plainConnections).toBe(10);

    const pooled = makeApiClient(kc, CoreV1Api);
    const mid = sim.stats().connections;
    for (let i = 0; i < 10; i++) await pooled.readNamespacedPod({ namespace: 'default', name: 'p0' });
    // at most one new connection (the pool may still hold the one the set-up used)
    expect(sim.stats().connections - mid).toBeLessThanOrEqual(1);
  });

  it('shares one pool among all API objects of a KubeConfig and bounds parallel connections', async () => {
    const before = sim.stats().connections;
    const clients = [resourceClient(kc, PODS), resourceClient(kc, PODS)];
    const writes = Array.from({ length: 20 }, (_, i) =>
      clients[i % 2]!.get(`p${i}`, 'default').then((pod) =>
        annotateObject(clients[i % 2]!, pod, { 'example.org/n': String(i) }),
      ),
    );
    const results = await Promise.all(writes);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('patched'));
    expect(sim.stats().connections - before).toBeLessThanOrEqual(Math.min(40, MAX_SOCKETS_PER_POOL));
    expect(pooledAuthentication(kc).pools).toBe(1);
    const pod = await clients[0]!.get('p7', 'default');
    expect(pod.metadata?.annotations?.['example.org/n']).toBe('7');
  });

  it('still sends the KubeConfig credentials on every request', async () => {
    const withToken = new KubeConfig();
    withToken.loadFromOptions({
      clusters: [{ name: 'c', server: sim.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'secret-token-1' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const seen: string[] = [];
    const api = makeApiClient(withToken, CoreV1Api);
    // the simulator accepts any token: record the header the KubeConfig put on each request
    const auth = pooledAuthentication(withToken);
    const original = withToken.applySecurityAuthentication.bind(withToken);
    withToken.applySecurityAuthentication = async (ctx) => {
      await original(ctx);
      seen.push(ctx.getHeaders().Authorization ?? '');
    };
    await api.readNamespacedPod({ namespace: 'default', name: 'p1' });
    await api.readNamespacedPod({ namespace: 'default', name: 'p2' });
    expect(seen).toEqual(['Bearer secret-token-1', 'Bearer secret-token-1']);
    expect(auth.pools).toBe(1);
    auth.close();
  });

  it('fails clearly without a current cluster', () => {
    expect(() => makeApiClient(new KubeConfig(), CoreV1Api)).toThrow(/No active cluster/);
  });
});
