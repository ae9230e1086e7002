/**
 * Events as a real API server serves them: core/v1 and events.k8s.io/v1 are two views of one
 * storage (field names converted), our EventRecorder's create-then-merge-patch series works, and
 * `kubectl get events` prints the server's Event columns.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../src/k8s/events.js';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { tempDir } from '../helpers/tmp.js';
import { call, openWatch } from './client.js';

const CORE = '/api/v1/namespaces/default/events';
const V1 = '/apis/events.k8s.io/v1/namespaces/default/events';

let sim: K8sSim;
const tmp = tempDir('ev-');
beforeAll(async () => {
  sim = await startK8sSim();
});
afterAll(async () => {
  await sim?.stop();
  tmp.cleanup();
});

describe('events', () => {
  it('serves events.k8s.io/v1 in discovery', async () => {
    const groups = await call(sim, 'GET', '/apis');
    expect(groups.body.groups.map((g: any) => g.name)).toContain('events.k8s.io');
    const list = await call(sim, 'GET', '/apis/events.k8s.io/v1');
    expect(list.body.resources).toContainEqual(
      expect.objectContaining({ name: 'events', kind: 'Event', namespaced: true }),
    );
  });

  it('records EventRecorder series (create, then merge patches of count) readable through both groups', async () => {
    const { kubeConfig } = resolveConnection({
      flags: { server: sim.url },
      env: {},
      serviceAccountDir: '/nonexistent',
    });
    const errors: Error[] = [];
    const rec = new EventRecorder({
      kubeConfig,
      component: 'ovn-k8s-watcher',
      host: 'm1',
      onError: (e) => errors.push(e),
    });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', namespace: 'default', uid: 'u-1' },
    };
    const first = await rec.warn(pod, 'BadAnnotation', 'cannot parse k8s.ovn.org/pod-networks');
    await rec.warn(pod, 'BadAnnotation', 'cannot parse k8s.ovn.org/pod-networks');
    const third = await rec.warn(pod, 'BadAnnotation', 'cannot parse k8s.ovn.org/pod-networks');
    expect(errors).toEqual([]);
    expect(third?.metadata?.name).toBe(first?.metadata?.name);
    expect(third?.count).toBe(3);

    const core = await call(sim, 'GET', `${CORE}/${first!.metadata!.name}`);
    expect(core.body).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      involvedObject: { kind: 'Pod', name: 'p1', uid: 'u-1' },
      message: 'cannot parse k8s.ovn.org/pod-networks',
      count: 3,
      source: { component: 'ovn-k8s-watcher', host: 'm1' },
    });
    const v1 = await call(sim, 'GET', `${V1}/${first!.metadata!.name}`);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      regarding: { kind: 'Pod', name: 'p1', uid: 'u-1' },
      note: 'cannot parse k8s.ovn.org/pod-networks',
      deprecatedCount: 3,
      deprecatedSource: { component: 'ovn-k8s-watcher', host: 'm1' },
      reportingController: 'ovn-k8s-watcher',
      reportingInstance: 'm1',
      reason: 'BadAnnotation',
      type: 'Warning',
    });
    expect(v1.body.involvedObject).toBeUndefined();
    expect(v1.body.message).toBeUndefined();
    expect(v1.body.metadata.resourceVersion).toBe(core.body.metadata.resourceVersion);
  });

  it('writes through events.k8s.io/v1 land in the core view (create, merge patch, watch, delete)', async () => {
    const w = await openWatch(sim, `${V1}?watch=true`);
    const created = await call(sim, 'POST', V1, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'n1.abc' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'example.com/ctl',
      reportingInstance: 'ctl-1',
      action: 'Binding',
      reason: 'Scheduled',
      regarding: { kind: 'Node', name: 'n1' },
      note: 'node ready',
      type: 'Normal',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'node ready' });
    const core = await call(sim, 'GET', `${CORE}/n1.abc`);
    expect(core.body).toMatchObject({
      involvedObject: { kind: 'Node', name: 'n1' },
      message: 'node ready',
      reportingComponent: 'example.com/ctl',
      action: 'Binding',
    });
    expect(core.body.note).toBeUndefined();
    const patched = await call(
      sim,
      'PATCH',
      `${V1}/n1.abc`,
      { series: { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' }, note: 'node ready again' },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(200);
    expect(patched.body.note).toBe('node ready again');
    expect((await call(sim, 'GET', `${CORE}/n1.abc`)).body).toMatchObject({
      message: 'node ready again',
      series: { count: 2 },
    });
    const list = await call(sim, 'GET', V1);
    expect(list.body.kind).toBe('EventList');
    expect(list.body.apiVersion).toBe('events.k8s.io/v1');
    expect(list.body.items.every((e: any) => e.apiVersion === 'events.k8s.io/v1' && !e.message)).toBe(true);
    expect((await call(sim, 'DELETE', `${V1}/n1.abc`)).status).toBe(200);
    expect((await call(sim, 'GET', `${CORE}/n1.abc`)).status).toBe(404);
    const evs = await w.waitFor(
      (e) => e.some((x) => x.type === 'DELETED' && x.object.metadata.name === 'n1.abc'),
      'DELETED of n1.abc',
    );
    w.close();
    const mine = evs.filter((e) => e.object.metadata.name === 'n1.abc');
    expect(mine.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(mine[1]!.object).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'node ready again' });
  });

  it('kubectl get events prints the server\u2019s Event columns', async () => {
    const kubeconfig = join(tmp.dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    const run = (...args: string[]) =>
      promisify(execFile)('kubectl', [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(tmp.dir, 'cache'),
        ...args,
      ]);
    const { stdout } = await run('get', 'events');
    const lines = stdout.trim().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(lines.find((l) => l.includes('pod/p1'))).toMatch(
      /^\S+\s+Warning\s+BadAnnotation\s+pod\/p1\s+cannot parse k8s\.ovn\.org\/pod-networks$/,
    );
    const wide = await run('get', 'events', '-o', 'wide');
    expect(wide.stdout).toMatch(/ovn-k8s-watcher, m1/);
    expect(wide.stdout.split('\n').find((l) => l.includes('pod/p1'))).toMatch(/\s3\s+p1\.[0-9a-f]+$/);
    const { stdout: v1 } = await run('get', 'events.v1.events.k8s.io', '-o', 'json');
    expect(JSON.parse(v1).items[0]).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      reason: 'BadAnnotation',
    });
  });
});
