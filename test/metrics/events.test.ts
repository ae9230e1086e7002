import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRecorder, EventReasons } from '../../src/k8s/events.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { startSim } from '../k8s/sim-helpers.js';

describe('Kubernetes Events', () => {
  let sim: K8sSim;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let pod: V1Pod;
  beforeAll(async () => {
    ({ sim, kc } = await startSim());
    core = kc.makeApiClient(CoreV1Api);
    pod = await core.createNamespacedPod({
      namespace: 'default',
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      },
    });
    pod.apiVersion = 'v1';
    pod.kind = 'Pod';
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('records a Warning on the object and folds repeats into its count', async () => {
    const recorded: string[] = [];
    const rec = new EventRecorder({
      kubeConfig: kc,
      component: 'ovn-k8s-watcher',
      host: 'm1',
      onRecorded: (r) => recorded.push(r),
    });
    await rec.warn(pod, EventReasons.SubnetExhausted, 'node subnet 10.128.0.0/30 has no free address');
    await rec.warn(pod, EventReasons.SubnetExhausted, 'node subnet 10.128.0.0/30 has no free address');
    await rec.warn(pod, EventReasons.SubnetExhausted, 'node subnet 10.128.0.0/30 has no free address');
    await rec.warn(pod, EventReasons.BadAnnotation, 'k8s.ovn.org/pod-networks is not JSON');
    const events = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter(
      (e) => e.involvedObject.name === 'web',
    );
    expect(events).toHaveLength(2);
    const exhausted = events.find((e) => e.reason === 'SubnetExhausted')!;
    expect(exhausted).toMatchObject({
      type: 'Warning',
      count: 3,
      message: 'node subnet 10.128.0.0/30 has no free address',
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: pod.metadata!.uid },
      source: { component: 'ovn-k8s-watcher', host: 'm1' },
    });
    expect(events.find((e) => e.reason === 'BadAnnotation')?.count).toBe(1);
    expect(recorded).toEqual(['SubnetExhausted', 'SubnetExhausted', 'SubnetExhausted', 'BadAnnotation']);
  });

  it('puts events about cluster-scoped objects in "default" and starts a new series when the old Event is gone', async () => {
    const rec = new EventRecorder({ kubeConfig: kc, component: 'ovn-k8s-watcher' });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', uid: 'u-1' } };
    const first = await rec.warn(node, EventReasons.InvalidNetworkConfig, 'no host subnet');
    expect(first?.metadata?.namespace).toBe('default');
    await core.deleteNamespacedEvent({ name: first!.metadata!.name!, namespace: 'default' });
    const second = await rec.warn(node, EventReasons.InvalidNetworkConfig, 'no host subnet');
    expect(second?.metadata?.name).not.toBe(first?.metadata?.name);
    expect(second?.count).toBe(1);
  });

  it('never throws; reports failures to onError', async () => {
    const errors: Error[] = [];
    const rec = new EventRecorder({ kubeConfig: kc, component: 'x', onError: (e) => errors.push(e) });
    const res = await rec.warn(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'no-such-ns' } },
      'R',
      'm',
    );
    expect(res).toBeUndefined();
    expect(errors[0]?.message).toMatch(/recording event R on Pod no-such-ns\/p/);
  });
});
