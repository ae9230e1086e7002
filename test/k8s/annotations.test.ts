/** Annotation writes against the Kubernetes simulator over HTTP through @kubernetes/client-node. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import {
  annotateObject,
  annotationsSatisfied,
  parseJsonAnnotation,
  setAnnotations,
} from '../../src/k8s/annotations.js';
import { AnnotationConflictError, K8sRequestError } from '../../src/k8s/errors.js';
import {
  NETWORK_ATTACHMENT_DEFINITIONS,
  NODES,
  PODS,
  resourceClient,
  type ResourceClient,
} from '../../src/k8s/resources.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { podBody, simType, startSim } from './sim-helpers.js';

let sim: K8sSim;
let kc: KubeConfig;
let pods: ResourceClient<V1Pod>;

beforeAll(async () => {
  ({ sim, kc } = await startSim());
  pods = resourceClient(kc, PODS);
});
afterAll(async () => {
  await sim?.stop();
});

function createPod(name: string, annotations: Record<string, string> = {}): void {
  sim.api.create(simType(sim, '', 'pods'), 'default', podBody(name, 'node-0', annotations));
}

function simPod(name: string): { rv: string; uid: string; annotations: Record<string, string> | undefined } {
  const e = sim.api.get(simType(sim, '', 'pods'), 'default', name);
  return {
    rv: e.obj.metadata.resourceVersion!,
    uid: e.obj.metadata.uid!,
    annotations: e.obj.metadata.annotations,
  };
}

describe('setAnnotations', () => {
  it('sends no request when the cached object already has the values', async () => {
    createPod('same', { 'k8s.ovn.org/pod-networks': '{"default":{}}', other: 'x' });
    const cached = await pods.get('same', 'default');
    const before = sim.stats().requests;
    const r = await setAnnotations(
      pods,
      { name: 'same', namespace: 'default' },
      { 'k8s.ovn.org/pod-networks': '{"default":{}}', absent: null },
      { current: cached },
    );
    expect(r.status).toBe('unchanged');
    expect(r.requests).toBe(0);
    expect(sim.stats().requests).toBe(before);

    // Without a cached copy: one GET, still no write.
    const rv = simPod('same').rv;
    const r2 = await setAnnotations(pods, { name: 'same', namespace: 'default' }, { other: 'x' });
    expect(r2).toMatchObject({ status: 'unchanged', requests: 1 });
    expect(sim.stats().requests).toBe(before + 1);
    expect(simPod('same').rv).toBe(rv);
  });

  it('sets and removes keys with a merge patch, leaving other annotations alone', async () => {
    createPod('merge', { keep: '1', drop: '2' });
    const cached = await pods.get('merge', 'default');
    const r = await annotateObject(pods, cached, { drop: null, added: '{"ip":"10.0.0.5"}' });
    expect(r.status).toBe('patched');
    expect(r.requests).toBe(1);
    expect(simPod('merge').annotations).toEqual({ keep: '1', added: '{"ip":"10.0.0.5"}' });
    if (r.status === 'patched') {
      expect(annotationsSatisfied(r.object, { drop: null, added: '{"ip":"10.0.0.5"}' })).toBe(true);
      expect(parseJsonAnnotation(r.object, 'added')).toEqual({ ip: '10.0.0.5' });
    }
  });

  it('re-reads and succeeds after a 409 conflict on a stale cached copy', async () => {
    createPod('conflict');
    const stale = await pods.get('conflict', 'default');
    // Someone else changes the pod: the cached resourceVersion is now stale.
    sim.api.patch(simType(sim, '', 'pods'), 'default', 'conflict', 'merge', {
      metadata: { labels: { moved: 'yes' } },
    });
    const r = await annotateObject(pods, stale, { mine: 'v' }, { guardResourceVersion: true });
    expect(r.status).toBe('patched');
    expect(r.requests).toBe(3); // PATCH (409), GET, PATCH
    const now = await pods.get('conflict', 'default');
    expect(now.metadata?.annotations).toEqual({ mine: 'v' });
    expect(now.metadata?.labels).toEqual({ moved: 'yes' });
  });

  it('skipAnswer: the same writes and outcomes without decoding the answer, on one kept-alive connection', async () => {
    createPod('quiet', { keep: 'k', drop: 'd' });
    const cached = await pods.get('quiet', 'default');
    const connections = sim.stats().connections;
    const r = await annotateObject(pods, cached, { mine: 'v', drop: null }, { skipAnswer: true });
    expect(r.status).toBe('patched');
    // the local copy carries the change, as the server's does
    expect(r.status === 'patched' && r.object.metadata?.annotations).toEqual({ keep: 'k', mine: 'v' });
    expect((await pods.get('quiet', 'default')).metadata?.annotations).toEqual({ keep: 'k', mine: 'v' });
    // the unread answers were drained: later requests reuse the connection
    for (let i = 0; i < 5; i++) {
      const cur = await pods.get('quiet', 'default');
      await annotateObject(pods, cur, { n: String(i) }, { skipAnswer: true });
    }
    expect(sim.stats().connections - connections).toBeLessThanOrEqual(1);
    expect((await pods.get('quiet', 'default')).metadata?.annotations?.n).toBe('4');

    // errors are still errors: a stale guard re-reads, a vanished object is reported
    sim.api.patch(simType(sim, '', 'pods'), 'default', 'quiet', 'merge', {
      metadata: { labels: { x: 'y' } },
    });
    const guarded = await annotateObject(
      pods,
      cached,
      { g: '1' },
      { guardResourceVersion: true, skipAnswer: true },
    );
    expect(guarded).toMatchObject({ status: 'patched', requests: 3 });
    sim.api.delete(simType(sim, '', 'pods'), 'default', 'quiet', { gracePeriodSeconds: 0 });
    expect(await annotateObject(pods, cached, { a: 'b' }, { skipAnswer: true })).toEqual({
      status: 'not-found',
      requests: 1,
    });
  });

  it('reports an object that vanished, from a stale cache or a GET', async () => {
    createPod('gone');
    const cached = await pods.get('gone', 'default');
    sim.api.delete(simType(sim, '', 'pods'), 'default', 'gone', { gracePeriodSeconds: 0 });
    const r = await annotateObject(pods, cached, { a: 'b' });
    expect(r).toEqual({ status: 'not-found', requests: 1 });
    const r2 = await setAnnotations(pods, { name: 'gone', namespace: 'default' }, { a: 'b' });
    expect(r2).toEqual({ status: 'not-found', requests: 1 });
  });

  it('leaves an object re-created under the same name alone', async () => {
    createPod('again');
    const old = await pods.get('again', 'default');
    sim.api.delete(simType(sim, '', 'pods'), 'default', 'again', { gracePeriodSeconds: 0 });
    createPod('again');
    const newUid = simPod('again').uid;
    expect(newUid).not.toBe(old.metadata?.uid);
    const r = await annotateObject(pods, old, { owner: 'old-pod' }, { guardResourceVersion: true });
    expect(r.status).toBe('replaced');
    expect(simPod('again').annotations?.owner).toBeUndefined();
  });

  it('a uid precondition alone (no resourceVersion guard) refuses to patch an object re-created under the same name', async () => {
    createPod('reborn');
    const old = await pods.get('reborn', 'default');
    sim.api.delete(simType(sim, '', 'pods'), 'default', 'reborn', { gracePeriodSeconds: 0 });
    createPod('reborn');
    expect(simPod('reborn').uid).not.toBe(old.metadata?.uid);
    // The stale cached copy still carries the old uid, so only the server's uid precondition can stop the write.
    const r = await annotateObject(pods, old, { owner: 'old-pod' }, { guardResourceVersion: false });
    expect(r.status).toBe('replaced');
    expect(simPod('reborn').annotations?.owner).toBeUndefined();
  });

  it('gives up with AnnotationConflictError when conflicts persist', async () => {
    createPod('busy');
    const stale = await pods.get('busy', 'default');
    sim.api.patch(simType(sim, '', 'pods'), 'default', 'busy', 'merge', { metadata: { labels: { n: '1' } } });
    await expect(
      annotateObject(pods, stale, { a: 'b' }, { guardResourceVersion: true, maxAttempts: 1 }),
    ).rejects.toBeInstanceOf(AnnotationConflictError);
  });

  it('retries through 500s and 429s and fails clearly when they do not stop', async () => {
    createPod('flaky');
    sim.faults.setErrorRate(0.5, 500);
    try {
      const r = await setAnnotations(
        pods,
        { name: 'flaky', namespace: 'default' },
        { k: 'v' },
        { maxAttempts: 25, retryBackoff: { initialMs: 1, maxMs: 5 } },
      );
      expect(r.status === 'patched' || r.status === 'unchanged').toBe(true);
      sim.faults.setErrorRate(1, 429);
      await expect(
        setAnnotations(
          pods,
          { name: 'flaky', namespace: 'default' },
          { k: 'w' },
          { maxAttempts: 2, retryBackoff: { initialMs: 1, maxMs: 2 } },
        ),
      ).rejects.toBeInstanceOf(K8sRequestError);
    } finally {
      sim.faults.reset();
    }
    expect(simPod('flaky').annotations).toEqual({ k: 'v' });
  });

  it('annotates cluster-scoped nodes and custom NetworkAttachmentDefinitions', async () => {
    sim.api.create(simType(sim, '', 'nodes'), undefined, { metadata: { name: 'node-a' } });
    const nodes = resourceClient(kc, NODES);
    const r = await setAnnotations(
      nodes,
      { name: 'node-a' },
      { 'k8s.ovn.org/node-subnets': '{"default":"10.128.0.0/23"}' },
    );
    expect(r.status).toBe('patched');
    const again = await setAnnotations(
      nodes,
      { name: 'node-a' },
      { 'k8s.ovn.org/node-subnets': '{"default":"10.128.0.0/23"}' },
    );
    expect(again).toMatchObject({ status: 'unchanged', requests: 1 });

    sim.api.create(simType(sim, 'k8s.cni.cncf.io', 'network-attachment-definitions'), 'default', {
      metadata: { name: 'blue' },
      spec: { config: '{}' },
    });
    const nads = resourceClient(kc, NETWORK_ATTACHMENT_DEFINITIONS);
    const n = await setAnnotations(nads, { name: 'blue', namespace: 'default' }, { note: 'x' });
    expect(n.status).toBe('patched');
    expect((await nads.get('blue', 'default')).metadata?.annotations).toEqual({ note: 'x' });
  });
});
