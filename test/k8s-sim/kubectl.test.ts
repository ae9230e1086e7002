/**
 * kubectl (the machine's, normally the gcloud dispatcher which runs kubectl 1.<server minor>)
 * against the simulator: the proof that the simulator speaks the real protocol.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';
import { call } from './client.js';

function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, 'kubectl');
    if (dir && existsSync(p)) return p;
  }
  return existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
}

const KUBECTL = findKubectl();
if (!KUBECTL) console.warn('kubectl tests skipped: no kubectl binary on PATH or at /usr/bin/kubectl');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const tmp = tempDir('k8sctl-');
let sim: K8sSim;
let kubeconfig: string;

function freshCache(): string {
  return mkdtempSync(join(tmp.dir, 'cache-'));
}

function kubectl(cache: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      KUBECTL!,
      ['--kubeconfig', kubeconfig, '--cache-dir', cache, ...args],
      { timeout: 30_000, env: { ...process.env, KUBECONFIG: kubeconfig } },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as NodeJS.ErrnoException).code === 'number'
            ? Number((err as NodeJS.ErrnoException).code)
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

function file(name: string, text: string): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
}

const POD_YAML = (image: string, labels = 'app: web') => `apiVersion: v1
kind: Pod
metadata:
  name: ap1
  labels: {${labels}}
spec:
  containers:
  - name: c
    image: ${image}
`;

describe.skipIf(!KUBECTL)('kubectl against the simulator', () => {
  beforeAll(async () => {
    sim = await startK8sSim();
    kubeconfig = join(tmp.dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
  });
  afterAll(async () => {
    await sim?.stop();
    tmp.cleanup();
  });

  it('version: the dispatcher picks kubectl 1.32 from the server minor', async () => {
    const r = await kubectl(freshCache(), ['version']);
    expect(r.stderr).not.toContain('exceeds the supported minor version skew');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Server Version: v1.32.0');
  });

  it('create -f, get (table), get -o json, and errors', async () => {
    const cache = freshCache();
    const created = await kubectl(cache, [
      'create',
      '--validate=false',
      '-f',
      file('c1.yaml', POD_YAML('nginx:1').replace('ap1', 'c1')),
    ]);
    expect(created.stdout.trim()).toBe('pod/c1 created');
    const table = await kubectl(cache, ['get', 'pods']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(table.stdout).toMatch(/\nc1\s+0\/1\s+Pending\s+0\s+/);
    const json = await kubectl(cache, ['get', 'pod', 'c1', '-o', 'json']);
    const obj = JSON.parse(json.stdout);
    expect(obj).toMatchObject({ kind: 'Pod', metadata: { name: 'c1', namespace: 'default' } });
    const list = JSON.parse((await kubectl(cache, ['get', 'pods', '-o', 'json', '--chunk-size=1'])).stdout);
    expect(list.items.map((p: any) => p.metadata.name)).toContain('c1');
    const again = await kubectl(cache, [
      'create',
      '--validate=false',
      '-f',
      file('c1b.yaml', POD_YAML('nginx:1').replace('ap1', 'c1')),
    ]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (AlreadyExists)');
    const missing = await kubectl(cache, ['get', 'pod', 'nope']);
    expect(missing.stderr).toContain('Error from server (NotFound): pods "nope" not found');
    const nodes = await kubectl(cache, ['get', 'nodes']);
    expect(nodes.code).toBe(0);
    expect(nodes.stderr).toContain('No resources found');
  });

  it('apply --validate=false: created, unchanged (no PATCH sent), configured', async () => {
    const cache = freshCache();
    const f1 = file('ap1.yaml', POD_YAML('nginx:1'));
    expect((await kubectl(cache, ['apply', '--validate=false', '-f', f1])).stdout.trim()).toBe(
      'pod/ap1 created',
    );
    const rvBefore = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/ap1')).body.metadata
      .resourceVersion;
    const patchesBefore = sim.stats().byMethod.PATCH ?? 0;
    const second = await kubectl(cache, ['apply', '--validate=false', '-f', f1]);
    expect(second.stdout.trim()).toBe('pod/ap1 unchanged');
    expect(sim.stats().byMethod.PATCH ?? 0).toBe(patchesBefore);
    expect(
      (await call(sim, 'GET', '/api/v1/namespaces/default/pods/ap1')).body.metadata.resourceVersion,
    ).toBe(rvBefore);
    const f2 = file('ap1b.yaml', POD_YAML('nginx:2', 'app: web2'));
    expect((await kubectl(cache, ['apply', '--validate=false', '-f', f2])).stdout.trim()).toBe(
      'pod/ap1 configured',
    );
    expect(sim.stats().byMethod.PATCH).toBe(patchesBefore + 1);
    const live = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/ap1')).body;
    expect(live.spec.containers).toEqual([{ name: 'c', image: 'nginx:2' }]);
    expect(live.metadata.labels).toEqual({ app: 'web2' });
    expect(live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      'nginx:2',
    );
  });

  it('annotate, label, patch --type=merge|json|strategic', async () => {
    const cache = freshCache();
    await kubectl(cache, ['run', 'p3', '--image=busybox', '--restart=Never']);
    expect((await kubectl(cache, ['annotate', 'pod', 'p3', 'foo=bar'])).stdout.trim()).toBe(
      'pod/p3 annotated',
    );
    expect((await kubectl(cache, ['label', 'pod', 'p3', 'tier=x'])).stdout.trim()).toBe('pod/p3 labeled');
    expect((await kubectl(cache, ['label', 'pod', 'p3', 'tier-'])).stdout.trim()).toBe('pod/p3 unlabeled');
    const merge = await kubectl(cache, [
      'patch',
      'pod',
      'p3',
      '--type=merge',
      '-p',
      '{"metadata":{"labels":{"m":"1"}}}',
    ]);
    expect(merge.stdout.trim()).toBe('pod/p3 patched');
    const json = await kubectl(cache, [
      'patch',
      'pod',
      'p3',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/metadata/labels/j","value":"2"}]',
    ]);
    expect(json.stdout.trim()).toBe('pod/p3 patched');
    const smp = await kubectl(cache, [
      'patch',
      'pod',
      'p3',
      '--type=strategic',
      '-p',
      '{"spec":{"containers":[{"name":"p3","image":"busybox:2"}]}}',
    ]);
    expect(smp.stdout.trim()).toBe('pod/p3 patched');
    const same = await kubectl(cache, [
      'patch',
      'pod',
      'p3',
      '--type=merge',
      '-p',
      '{"metadata":{"labels":{"m":"1"}}}',
    ]);
    expect(same.stdout.trim()).toBe('pod/p3 patched (no change)');
    const live = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/p3')).body;
    expect(live.metadata.annotations).toEqual({ foo: 'bar' });
    expect(live.metadata.labels).toEqual({ run: 'p3', m: '1', j: '2' });
    expect(live.spec.containers).toEqual([{ name: 'p3', image: 'busybox:2', resources: {} }]);
  });

  it('delete waits for the object to go, including through finalizers', async () => {
    const cache = freshCache();
    await kubectl(cache, ['run', 'd1', '--image=busybox', '--restart=Never']);
    const del = await kubectl(cache, ['delete', 'pod', 'd1']);
    expect(del.stdout.trim()).toBe('pod "d1" deleted');
    expect((await call(sim, 'GET', '/api/v1/namespaces/default/pods/d1')).status).toBe(404);
    await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'held', finalizers: ['example.com/x'] },
    });
    const pending = kubectl(cache, ['delete', 'configmap', 'held', '--timeout=20s']);
    await waitFor(
      'deletionTimestamp',
      async () =>
        (await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/held')).body.metadata
          .deletionTimestamp,
    );
    await call(
      sim,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/held',
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    const done = await pending;
    expect(done.code).toBe(0);
    expect(done.stdout.trim()).toBe('configmap "held" deleted');
    const gone = await kubectl(cache, ['delete', 'pod', 'nope']);
    expect(gone.stderr).toContain('Error from server (NotFound): pods "nope" not found');
  });

  it('get -w prints objects created while it watches', async () => {
    const cache = freshCache();
    await kubectl(cache, ['get', 'pods']); // warm the discovery cache
    const child = spawn(
      KUBECTL!,
      ['--kubeconfig', kubeconfig, '--cache-dir', cache, 'get', 'pods', '-w', '--output-watch-events'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('watch to start', async () => sim.stats().activeWatches > 0);
      await call(sim, 'POST', '/api/v1/namespaces/default/pods', {
        metadata: { name: 'watched' },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      });
      await waitFor('ADDED line', async () => /ADDED\s+watched\s+0\/1\s+Pending/.test(out));
      await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/watched');
      await waitFor('DELETED line', async () => /DELETED\s+watched/.test(out));
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    }
  });

  it('a CRD applied, then its custom resources created, listed and patched in later runs', async () => {
    const cache = freshCache();
    const crd = file(
      'crd.yaml',
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`,
    );
    const cr = (size: number) => `apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: ${size}, tags: [a]}
`;
    expect((await kubectl(cache, ['apply', '--validate=false', '-f', crd])).stdout.trim()).toBe(
      'customresourcedefinition.apiextensions.k8s.io/widgets.example.com created',
    );
    const est = await kubectl(cache, [
      'wait',
      '--for=condition=Established',
      'crd/widgets.example.com',
      '--timeout=10s',
    ]);
    expect(est.code).toBe(0);
    expect(
      (await kubectl(cache, ['apply', '--validate=false', '-f', file('cr.yaml', cr(3))])).stdout.trim(),
    ).toBe('widget.example.com/w1 created');
    const list = await kubectl(cache, ['get', 'widgets']);
    expect(list.stdout).toMatch(/NAME\s+AGE\nw1\s+/);
    expect(
      (await kubectl(cache, ['apply', '--validate=false', '-f', file('cr2.yaml', cr(4))])).stdout.trim(),
    ).toBe('widget.example.com/w1 configured');
    const patched = await kubectl(cache, [
      'patch',
      'wd',
      'w1',
      '--type=merge',
      '-p',
      '{"spec":{"tags":["b"]}}',
    ]);
    expect(patched.stdout.trim()).toBe('widget.example.com/w1 patched');
    const live = JSON.parse((await kubectl(cache, ['get', 'widget', 'w1', '-o', 'json'])).stdout);
    expect(live.spec).toEqual({ size: 4, tags: ['b'] });
    const smp = await kubectl(cache, ['patch', 'widget', 'w1', '-p', '{"spec":{"size":5}}']);
    expect(smp.code).not.toBe(0);
    expect(smp.stderr).toContain(
      'error: application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });
});
