import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { call, pod } from './client.js';

let sim: K8sSim;
beforeAll(async () => {
  sim = await startK8sSim();
});
afterAll(async () => {
  await sim.stop();
});

const PODS = '/api/v1/namespaces/default/pods';

describe('discovery and version', () => {
  it('reports minor 32 and serves legacy discovery', async () => {
    const v = await call(sim, 'GET', '/version?timeout=32s');
    expect(v.body).toMatchObject({ major: '1', minor: '32' });
    const api = await call(sim, 'GET', '/api');
    expect(api.body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = await call(sim, 'GET', '/api/v1');
    const names = core.body.resources.map((r: any) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'pods',
        'pods/status',
        'nodes',
        'namespaces',
        'services',
        'endpoints',
        'events',
        'configmaps',
        'secrets',
        'serviceaccounts',
      ]),
    );
    const groups = await call(sim, 'GET', '/apis');
    const groupNames = groups.body.groups.map((g: any) => g.name);
    expect(groupNames).toEqual(
      expect.arrayContaining([
        'discovery.k8s.io',
        'coordination.k8s.io',
        'networking.k8s.io',
        'k8s.cni.cncf.io',
        'apiextensions.k8s.io',
        'apps',
      ]),
    );
    const es = await call(sim, 'GET', '/apis/discovery.k8s.io/v1');
    expect(es.body.resources[0]).toMatchObject({
      name: 'endpointslices',
      namespaced: true,
      kind: 'EndpointSlice',
    });
  });

  it('serves aggregated discovery with the exact Content-Type when asked, legacy otherwise', async () => {
    const accept =
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const core = await call(sim, 'GET', '/api?timeout=32s', undefined, undefined, { Accept: accept });
    expect(core.headers.get('content-type')).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    expect(core.body.kind).toBe('APIGroupDiscoveryList');
    const pods = core.body.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
    expect(pods).toMatchObject({
      responseKind: { group: '', version: 'v1', kind: 'Pod' },
      scope: 'Namespaced',
      singularResource: 'pod',
      shortNames: ['po'],
      subresources: [{ subresource: 'status' }],
    });
    const groups = await call(sim, 'GET', '/apis', undefined, undefined, {
      Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
    });
    expect(groups.headers.get('content-type')).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
    );
    const nad = groups.body.items.find((g: any) => g.metadata.name === 'k8s.cni.cncf.io');
    expect(nad.versions[0].resources[0]).toMatchObject({
      resource: 'network-attachment-definitions',
      scope: 'Namespaced',
    });
    const legacy = await call(sim, 'GET', '/apis', undefined, undefined, { Accept: 'application/json, */*' });
    expect(legacy.headers.get('content-type')).toBe('application/json');
    expect(legacy.body.kind).toBe('APIGroupList');
  });

  it('answers 404 on openapi so kubectl needs --validate=false', async () => {
    expect((await call(sim, 'GET', '/openapi/v2?timeout=32s')).status).toBe(404);
    expect((await call(sim, 'GET', '/openapi/v3')).status).toBe(404);
  });
});

describe('create, get, update, delete', () => {
  it('creates with uid, generation, creationTimestamp and a growing resourceVersion', async () => {
    const a = await call(sim, 'POST', PODS, pod('crud-a'));
    expect(a.status).toBe(201);
    expect(a.body.metadata).toMatchObject({ name: 'crud-a', namespace: 'default', generation: 1 });
    expect(a.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.body.metadata.creationTimestamp).toMatch(/Z$/);
    expect(a.body.status).toEqual({ phase: 'Pending' });
    const b = await call(sim, 'POST', PODS, pod('crud-b'));
    expect(Number(b.body.metadata.resourceVersion)).toBeGreaterThan(Number(a.body.metadata.resourceVersion));
    const got = await call(sim, 'GET', `${PODS}/crud-a`);
    expect(got.body).toEqual(a.body);
  });

  it('answers AlreadyExists, NotFound and a missing namespace with full Status bodies', async () => {
    await call(sim, 'POST', PODS, pod('dup'));
    const again = await call(sim, 'POST', PODS, pod('dup'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'AlreadyExists',
      code: 409,
      details: { name: 'dup', kind: 'pods' },
    });
    const missing = await call(sim, 'GET', `${PODS}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });
    const noNs = await call(sim, 'POST', '/api/v1/namespaces/ghost/pods', pod('x'));
    expect(noNs.status).toBe(404);
    expect(noNs.body).toMatchObject({ reason: 'NotFound', message: 'namespaces "ghost" not found' });
    const groupErr = await call(
      sim,
      'GET',
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/none',
    );
    expect(groupErr.body.details).toMatchObject({ group: 'discovery.k8s.io', kind: 'endpointslices' });
    const badPath = await call(sim, 'GET', '/api/v1/namespaces/default/nothings');
    expect(badPath.status).toBe(404);
    expect(badPath.body.kind).toBe('Status');
  });

  it('generates names from generateName', async () => {
    const r = await call(sim, 'POST', PODS, { metadata: { generateName: 'gen-' }, spec: { containers: [] } });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('rejects a stale resourceVersion on PUT with 409 Conflict and bumps generation on spec changes only', async () => {
    const created = (await call(sim, 'POST', PODS, pod('upd'))).body;
    const first = await call(sim, 'PUT', `${PODS}/upd`, {
      ...created,
      spec: { ...created.spec, nodeName: 'n1' },
    });
    expect(first.status).toBe(200);
    expect(first.body.metadata.generation).toBe(2);
    const stale = await call(sim, 'PUT', `${PODS}/upd`, {
      ...created,
      spec: { ...created.spec, nodeName: 'n2' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toContain('the object has been modified');
    const labelsOnly = await call(sim, 'PUT', `${PODS}/upd`, {
      ...first.body,
      metadata: { ...first.body.metadata, labels: { x: 'y' } },
    });
    expect(labelsOnly.body.metadata.generation).toBe(2);
    expect(Number(labelsOnly.body.metadata.resourceVersion)).toBeGreaterThan(
      Number(first.body.metadata.resourceVersion),
    );
  });

  it('treats an update that changes nothing as no write', async () => {
    const created = (await call(sim, 'POST', PODS, pod('noop'))).body;
    const same = await call(sim, 'PUT', `${PODS}/noop`, created);
    expect(same.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it('keeps status out of main-resource writes and spec out of status writes', async () => {
    const created = (await call(sim, 'POST', PODS, pod('st', {}, { nodeName: 'n1' }))).body;
    const viaMain = await call(sim, 'PUT', `${PODS}/st`, { ...created, status: { phase: 'Running' } });
    expect(viaMain.body.status.phase).toBe('Pending');
    const viaStatus = await call(sim, 'PUT', `${PODS}/st/status`, {
      ...viaMain.body,
      spec: { ...created.spec, nodeName: 'other' },
      status: { phase: 'Running', podIP: '10.0.0.9' },
    });
    expect(viaStatus.status).toBe(200);
    expect(viaStatus.body.status).toEqual({ phase: 'Running', podIP: '10.0.0.9' });
    expect(viaStatus.body.spec.nodeName).toBe('n1');
    const patched = await call(
      sim,
      'PATCH',
      `${PODS}/st/status`,
      { status: { phase: 'Succeeded' } },
      'application/merge-patch+json',
    );
    expect(patched.body.status).toEqual({ phase: 'Succeeded', podIP: '10.0.0.9' });
    // configmaps have no status subresource
    expect((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/x/status')).status).toBe(404);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    const cm = { metadata: { name: 'fin', finalizers: ['example.com/hold'] }, data: { a: '1' } };
    await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', cm);
    const del = await call(sim, 'DELETE', '/api/v1/namespaces/default/configmaps/fin', {
      propagationPolicy: 'Background',
    });
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    const still = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/fin');
    expect(still.status).toBe(200);
    const addMore = await call(
      sim,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/fin',
      { metadata: { finalizers: ['example.com/hold', 'b'] } },
      'application/merge-patch+json',
    );
    expect(addMore.status).toBe(422);
    const release = await call(
      sim,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/fin',
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(release.status).toBe(200);
    expect((await call(sim, 'GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
  });

  it('checks delete preconditions and answers NotFound for missing objects', async () => {
    await call(sim, 'POST', PODS, pod('pre'));
    const wrong = await call(sim, 'DELETE', `${PODS}/pre`, { preconditions: { uid: 'not-it' } });
    expect(wrong.status).toBe(409);
    const ok = await call(sim, 'DELETE', `${PODS}/pre?gracePeriodSeconds=0`);
    expect(ok.status).toBe(200);
    expect((await call(sim, 'DELETE', `${PODS}/pre`)).body.reason).toBe('NotFound');
  });

  it('deletes a namespace with its contents and refuses new content while it terminates', async () => {
    await call(sim, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await call(sim, 'POST', '/api/v1/namespaces/doomed/configmaps', {
      metadata: { name: 'held', finalizers: ['x/y'] },
    });
    await call(sim, 'POST', '/api/v1/namespaces/doomed/pods', pod('p'));
    const del = await call(sim, 'DELETE', '/api/v1/namespaces/doomed');
    expect(del.body.status.phase).toBe('Terminating');
    expect((await call(sim, 'GET', '/api/v1/namespaces/doomed/pods/p')).status).toBe(404);
    const refused = await call(sim, 'POST', '/api/v1/namespaces/doomed/pods', pod('q'));
    expect(refused.status).toBe(403);
    await call(
      sim,
      'PATCH',
      '/api/v1/namespaces/doomed/configmaps/held',
      [{ op: 'remove', path: '/metadata/finalizers' }],
      'application/json-patch+json',
    );
    expect((await call(sim, 'GET', '/api/v1/namespaces/doomed')).status).toBe(404);
  });

  it('labels namespaces with their name and serves the built-in namespaces', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public']) {
      const r = await call(sim, 'GET', `/api/v1/namespaces/${ns}`);
      expect(r.body.metadata.labels['kubernetes.io/metadata.name']).toBe(ns);
    }
  });

  it('allocates service cluster IPs and node ports and keeps them over updates', async () => {
    const svc = await call(sim, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    expect(svc.status).toBe(201);
    const spec = svc.body.spec;
    expect(spec.clusterIP).toMatch(/^10\.96\./);
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(spec.ports[0]).toMatchObject({ protocol: 'TCP', targetPort: 'http' });
    expect(spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    const put = await call(sim, 'PUT', '/api/v1/namespaces/default/services/web', {
      metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { app: 'web2' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    expect(put.body.spec.clusterIP).toBe(spec.clusterIP);
    expect(put.body.spec.ports[0].nodePort).toBe(spec.ports[0].nodePort);
    const dual = await call(sim, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'dual' },
      spec: { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 53, protocol: 'UDP' }] },
    });
    expect(dual.body.spec.ipFamilies).toEqual(['IPv4', 'IPv6']);
    expect(dual.body.spec.clusterIPs[1]).toContain(':');
  });

  it('serves cluster-scoped nodes, leases, network policies and NADs', async () => {
    const node = await call(sim, 'POST', '/api/v1/nodes', {
      metadata: { name: 'node-1' },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] },
    });
    expect(node.status).toBe(201);
    expect(node.body.metadata.namespace).toBeUndefined();
    expect(node.body.status.addresses[0].address).toBe('172.18.0.2');
    const lease = await call(sim, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', {
      metadata: { name: 'l' },
      spec: { holderIdentity: 'a' },
    });
    expect(lease.body).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
    const np = await call(sim, 'POST', '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', {
      metadata: { name: 'np' },
      spec: { podSelector: {} },
    });
    expect(np.status).toBe(201);
    const nad = await call(
      sim,
      'POST',
      '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions',
      {
        metadata: { name: 'blue' },
        spec: { config: '{"cniVersion":"0.4.0","name":"blue","type":"ovn-k8s-cni-overlay"}' },
      },
    );
    expect(nad.body.kind).toBe('NetworkAttachmentDefinition');
    const sts = await call(sim, 'POST', '/apis/apps/v1/namespaces/default/statefulsets', {
      metadata: { name: 's' },
      spec: { replicas: 1 },
    });
    expect(sts.status).toBe(201);
  });

  it('deletes a collection by label selector', async () => {
    for (const n of ['dc1', 'dc2', 'dc3']) {
      await call(sim, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: n, labels: { batch: n === 'dc3' ? 'b' : 'a' } },
      });
    }
    const r = await call(sim, 'DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Da');
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: any) => i.metadata.name)).toEqual(['dc1', 'dc2']);
    const left = await call(sim, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=batch');
    expect(left.body.items.map((i: any) => i.metadata.name)).toEqual(['dc3']);
  });

  it('answers 415 to a protobuf body (only JSON is spoken)', async () => {
    const r = await call(
      sim,
      'POST',
      '/api/v1/namespaces/default/services',
      'k8s\u0000\n\u0002v1',
      'application/vnd.kubernetes.protobuf',
    );
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
  });

  it('rejects a kind that does not match the resource and a namespace that does not match the path', async () => {
    const wrongKind = await call(sim, 'POST', PODS, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'k' },
    });
    expect(wrongKind.status).toBe(400);
    const wrongNs = await call(sim, 'POST', PODS, { metadata: { name: 'k', namespace: 'kube-system' } });
    expect(wrongNs.status).toBe(400);
  });
});

describe('custom resource definitions', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [
        { name: 'v1', served: true, storage: true, subresources: { status: {} } },
        { name: 'v1beta1', served: true, storage: false },
      ],
    },
  };

  it('serves the defined resource in every served version, with status and Established conditions', async () => {
    const created = await call(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(created.status).toBe(201);
    const types = created.body.status.conditions.map((c: any) => [c.type, c.status]);
    expect(types).toEqual(
      expect.arrayContaining([
        ['Established', 'True'],
        ['NamesAccepted', 'True'],
      ]),
    );
    const groups = await call(sim, 'GET', '/apis');
    expect(
      groups.body.groups.find((g: any) => g.name === 'example.com').versions.map((v: any) => v.version),
    ).toEqual(['v1', 'v1beta1']);
    const disc = await call(sim, 'GET', '/apis/example.com/v1');
    expect(disc.body.resources.map((r: any) => r.name)).toEqual(['gadgets', 'gadgets/status']);
    const g = await call(sim, 'POST', '/apis/example.com/v1/namespaces/default/gadgets', {
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'g1' },
      spec: { n: 1 },
      status: { x: 1 },
    });
    expect(g.status).toBe(201);
    expect(g.body.status).toBeUndefined();
    const viaBeta = await call(sim, 'GET', '/apis/example.com/v1beta1/namespaces/default/gadgets/g1');
    expect(viaBeta.body.apiVersion).toBe('example.com/v1beta1');
    const st = await call(
      sim,
      'PATCH',
      '/apis/example.com/v1/namespaces/default/gadgets/g1/status',
      { status: { ready: true } },
      'application/merge-patch+json',
    );
    expect(st.body.status).toEqual({ ready: true });
    const spec = await call(
      sim,
      'PATCH',
      '/apis/example.com/v1/namespaces/default/gadgets/g1',
      { spec: { n: 2 } },
      'application/merge-patch+json',
    );
    expect(spec.body.metadata.generation).toBe(2);
  });

  it('answers 415 to a strategic merge patch on a custom resource', async () => {
    const r = await call(
      sim,
      'PATCH',
      '/apis/example.com/v1/namespaces/default/gadgets/g1',
      { spec: { n: 3 } },
      'application/strategic-merge-patch+json',
    );
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
  });

  it('removes the resource and its objects when the CRD is deleted', async () => {
    const del = await call(
      sim,
      'DELETE',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com',
    );
    expect(del.status).toBe(200);
    expect((await call(sim, 'GET', '/apis/example.com/v1/namespaces/default/gadgets/g1')).status).toBe(404);
    expect((await call(sim, 'GET', '/apis/example.com/v1')).status).toBe(404);
  });

  it('prints the additionalPrinterColumns of a CRD in Table output', async () => {
    await call(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      metadata: { name: 'egressips.k8s.ovn.org' },
      spec: {
        group: 'k8s.ovn.org',
        scope: 'Cluster',
        names: { plural: 'egressips', kind: 'EgressIP' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            additionalPrinterColumns: [
              { name: 'EgressIPs', type: 'string', jsonPath: '.spec.egressIPs[0]' },
              { name: 'Assigned Node', type: 'string', jsonPath: '.status.items[0].node' },
            ],
          },
        ],
      },
    });
    await call(sim, 'POST', '/apis/k8s.ovn.org/v1/egressips', {
      metadata: { name: 'e1' },
      spec: { egressIPs: ['172.18.0.100'] },
    });
    const t = await call(sim, 'GET', '/apis/k8s.ovn.org/v1/egressips', undefined, undefined, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    expect(t.body.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'EgressIPs', 'Assigned Node']);
    expect(t.body.rows[0].cells).toEqual(['e1', '172.18.0.100', null]);
  });

  it('rejects a CRD whose name does not match its names with 422', async () => {
    const bad = await call(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      ...crd,
      metadata: { name: 'wrong.example.com' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
  });
});
