/**
 * minion-init's explicit subnet (--minion-switch-subnet) is published as the Node's
 * k8s.ovn.org/node-subnets, which the watcher honours (the end-to-end proof is in
 * e2e-watcher.test.ts); here the rules of publishing, against the Kubernetes simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { NodeConfigError, NodeTimeoutError } from '../../src/node/errors.js';
import { connectK8s, type NodeK8s } from '../../src/node/k8s-access.js';
import { publishNodeSubnets } from '../../src/node/minion-init.js';
import { createSimNode, simNodeAnnotations } from './harness.js';

let sim: K8sSim | undefined;
let k8s: NodeK8s;

beforeAll(async () => {
  sim = await startK8sSim();
  k8s = connectK8s({ server: sim.url });
});

afterAll(async () => {
  await sim?.stop();
});

describe('publishing an explicit node subnet', () => {
  it('writes the annotation in the watcher format once, keeping other annotations', async () => {
    createSimNode(sim!, 'n1', { keep: 'me' });
    expect(await publishNodeSubnets(k8s, 'n1', ['10.244.7.0/24'], 1_000)).toBe('patched');
    const ann = simNodeAnnotations(sim!, 'n1');
    expect(JSON.parse(ann['k8s.ovn.org/node-subnets']!)).toEqual({ default: '10.244.7.0/24' });
    expect(ann.keep).toBe('me');
    expect(await publishNodeSubnets(k8s, 'n1', ['10.244.7.0/24'], 1_000)).toBe('unchanged');
  });

  it('writes a list for dual stack and accepts the same subnets recorded as a list', async () => {
    createSimNode(sim!, 'n2');
    const subnets = ['10.244.8.0/24', 'fd00:10:244:8::/64'];
    expect(await publishNodeSubnets(k8s, 'n2', subnets, 1_000)).toBe('patched');
    expect(JSON.parse(simNodeAnnotations(sim!, 'n2')['k8s.ovn.org/node-subnets']!)).toEqual({
      default: subnets,
    });
    expect(await publishNodeSubnets(k8s, 'n2', subnets, 1_000)).toBe('unchanged');
  });

  it('refuses to replace a different subnet the node already has', async () => {
    createSimNode(sim!, 'n3', { 'k8s.ovn.org/node-subnets': JSON.stringify({ default: '10.244.1.0/24' }) });
    const err = await publishNodeSubnets(k8s, 'n3', ['10.244.9.0/24'], 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeConfigError);
    expect((err as Error).message).toContain('already has subnet 10.244.1.0/24');
    expect(JSON.parse(simNodeAnnotations(sim!, 'n3')['k8s.ovn.org/node-subnets']!)).toEqual({
      default: '10.244.1.0/24',
    });
  });

  it('waits a bounded time for the Node to be registered', async () => {
    const late = setTimeout(() => createSimNode(sim!, 'n4'), 300);
    expect(await publishNodeSubnets(k8s, 'n4', ['10.244.10.0/24'], 5_000)).toBe('patched');
    clearTimeout(late);
    const err = await publishNodeSubnets(k8s, 'missing', ['10.244.11.0/24'], 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeTimeoutError);
    expect((err as Error).message).toMatch(/Node missing does not exist/);
  });
});
