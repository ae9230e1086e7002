/**
 * Annotation writes from a worker thread: the same outcomes as annotateObject in the calling
 * thread (patched, unchanged without a request, replaced, not found, named errors), and a worker
 * that dies fails only the writes it held.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnnotationWorker, directAnnotator } from '../../src/k8s/annotation-offload.js';
import { K8sRequestError } from '../../src/k8s/errors.js';
import { PODS } from '../../src/k8s/resources.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { startSim } from './sim-helpers.js';

let sim: K8sSim;
let kc: KubeConfig;
let api: CoreV1Api;
let worker: AnnotationWorker;

const create = (name: string): Promise<V1Pod> =>
  api.createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  });
const annotationsOf = async (name: string) =>
  (await api.readNamespacedPod({ namespace: 'default', name })).metadata?.annotations ?? {};
const patches = () => sim.stats().byMethod.PATCH ?? 0;

beforeAll(async () => {
  ({ sim, kc } = await startSim());
  api = kc.makeApiClient(CoreV1Api);
  worker = new AnnotationWorker(kc);
});
afterAll(async () => {
  await worker?.close();
  await sim?.stop();
});

describe('AnnotationWorker', () => {
  it('patches from the worker and sends nothing when the values are already there', async () => {
    const pod = await create('a');
    expect(await worker.annotate(PODS, pod, { 'example.org/x': '1', gone: null })).toEqual({
      status: 'patched',
      requests: 1,
    });
    expect(await annotationsOf('a')).toMatchObject({ 'example.org/x': '1' });
    const updated = await api.readNamespacedPod({ namespace: 'default', name: 'a' });
    const before = patches();
    expect(await worker.annotate(PODS, updated, { 'example.org/x': '1' })).toEqual({
      status: 'unchanged',
      requests: 0,
    });
    expect(patches()).toBe(before);
  });

  it('leaves a re-created object alone and reports a deleted one', async () => {
    const old = await create('b');
    await api.deleteNamespacedPod({ namespace: 'default', name: 'b' });
    expect((await worker.annotate(PODS, old, { k: 'v' })).status).toBe('not-found');
    await create('b');
    expect((await worker.annotate(PODS, old, { k: 'v' })).status).toBe('replaced');
    expect(await annotationsOf('b')).not.toHaveProperty('k');
  });

  it('carries many writes at once, each with its own outcome', async () => {
    const pods = await Promise.all(Array.from({ length: 30 }, (_, i) => create(`m${i}`)));
    const results = await Promise.all(pods.map((p, i) => worker.annotate(PODS, p, { n: String(i) })));
    expect(results.every((r) => r.status === 'patched')).toBe(true);
    expect((await annotationsOf('m17')).n).toBe('17');
  });

  it('turns a server error into a K8sRequestError with its status', async () => {
    const pod = await create('e');
    sim.faults.setErrorRate(1, 500);
    try {
      const err = await worker.annotate(PODS, pod, { k: 'v' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(K8sRequestError);
      expect((err as K8sRequestError).status).toBe(500);
      expect((err as Error).message).toMatch(/default\/e/);
    } finally {
      sim.faults.reset();
    }
  });

  it('starts a new worker after one died; only the writes it held failed', async () => {
    const w = new AnnotationWorker(kc);
    const pod = await create('d');
    expect((await w.annotate(PODS, pod, { one: '1' })).status).toBe('patched');
    // kill the thread from outside, as a crash would
    await (w as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const again = await api.readNamespacedPod({ namespace: 'default', name: 'd' });
    expect((await w.annotate(PODS, again, { two: '2' })).status).toBe('patched');
    expect(w.started).toBe(2);
    await w.close();
    await expect(w.annotate(PODS, again, { three: '3' })).rejects.toThrow(/closed/);
  });

  it('has an in-thread twin with the same outcomes', async () => {
    const direct = directAnnotator(kc);
    const pod = await create('t');
    expect(await direct.annotate(PODS, pod, { k: 'v' })).toEqual({ status: 'patched', requests: 1 });
    expect((await annotationsOf('t')).k).toBe('v');
  });
});
