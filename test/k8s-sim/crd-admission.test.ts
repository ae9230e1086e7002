/**
 * Custom resources are admitted as a real API server admits them: unknown fields pruned (unless
 * x-kubernetes-preserve-unknown-fields), schema defaults applied, then validated against the
 * OpenAPI v3 schema of the request's version, on create, update, every patch type and /status
 * writes; refusals are 422 Invalid Status bodies with one cause per field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { call } from './client.js';

const widgetSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        mode: { type: 'string', enum: ['fast', 'safe'], default: 'safe' },
        tuning: {
          type: 'object',
          default: {},
          properties: { level: { type: 'integer', default: 3 } },
        },
        ports: {
          type: 'array',
          items: {
            type: 'object',
            properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } },
          },
        },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
    status: {
      type: 'object',
      properties: { ready: { type: 'integer', minimum: 0 } },
    },
  },
};

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: widgetSchema },
      },
      {
        // an older version with a looser schema: requests in it are validated against it
        name: 'v1beta1',
        served: true,
        storage: false,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
};

const BASE = '/apis/example.com/v1/namespaces/default/widgets';
const widget = (name: string, spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name },
  spec,
  ...extra,
});

let sim: K8sSim;
beforeAll(async () => {
  sim = await startK8sSim();
  const r = await call(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  expect(r.status).toBe(201);
});
afterAll(async () => {
  await sim?.stop();
});

describe('custom resource admission', () => {
  it('refuses an invalid create with 422 Invalid, the qualified kind and one cause per field', async () => {
    const r = await call(sim, 'POST', BASE, widget('bad', { size: 11, mode: 'turbo' }));
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Invalid',
      code: 422,
      message:
        'Widget.example.com "bad" is invalid: [spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10, spec.mode: Unsupported value: "turbo": supported values: "fast", "safe"]',
      details: {
        name: 'bad',
        group: 'example.com',
        kind: 'Widget',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: 11: spec.size in body should be less than or equal to 10',
            field: 'spec.size',
          },
          {
            reason: 'FieldValueNotSupported',
            message: 'Unsupported value: "turbo": supported values: "fast", "safe"',
            field: 'spec.mode',
          },
        ],
      },
    });
    const missing = await call(sim, 'POST', BASE, widget('empty', {}));
    expect(missing.status).toBe(422);
    expect(missing.body.message).toBe('Widget.example.com "empty" is invalid: spec.size: Required value');
    expect(missing.body.details.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.size' },
    ]);
    expect((await call(sim, 'GET', `${BASE}/bad`)).status).toBe(404);
  });

  it('prunes unknown fields and applies defaults on create, keeping preserved subtrees', async () => {
    const r = await call(
      sim,
      'POST',
      BASE,
      widget(
        'pruned',
        { size: 2, extra: 'x', ports: [{ port: 80, junk: true }], free: { any: { thing: 1 } } },
        { topLevel: 'gone', status: { ready: 1 } },
      ),
    );
    expect(r.status).toBe(201);
    expect(r.body.topLevel).toBeUndefined();
    // status is a subresource: dropped on create
    expect(r.body.status).toBeUndefined();
    expect(r.body.spec).toEqual({
      size: 2,
      mode: 'safe',
      tuning: { level: 3 },
      ports: [{ port: 80, protocol: 'TCP' }],
      free: { any: { thing: 1 } },
    });
    const got = await call(sim, 'GET', `${BASE}/pruned`);
    expect(got.body.spec).toEqual(r.body.spec);
  });

  it('validates and prunes updates and every patch type', async () => {
    const cur = (await call(sim, 'GET', `${BASE}/pruned`)).body;
    const put = await call(sim, 'PUT', `${BASE}/pruned`, { ...cur, spec: { ...cur.spec, size: 0 } });
    expect(put.status).toBe(422);
    expect(put.body.details.causes[0].field).toBe('spec.size');

    const merge = await call(
      sim,
      'PATCH',
      `${BASE}/pruned`,
      { spec: { mode: 'nope' } },
      'application/merge-patch+json',
    );
    expect(merge.status).toBe(422);
    expect(merge.body.message).toContain('spec.mode: Unsupported value: "nope"');

    const json = await call(
      sim,
      'PATCH',
      `${BASE}/pruned`,
      [{ op: 'remove', path: '/spec/size' }],
      'application/json-patch+json',
    );
    expect(json.status).toBe(422);
    expect(json.body.message).toContain('spec.size: Required value');

    const ok = await call(
      sim,
      'PATCH',
      `${BASE}/pruned`,
      { spec: { size: 5, unknown: 1 } },
      'application/merge-patch+json',
    );
    expect(ok.status).toBe(200);
    expect(ok.body.spec.size).toBe(5);
    expect(ok.body.spec.unknown).toBeUndefined();
    expect(ok.body.metadata.generation).toBe(2);

    // a patch whose only change is pruned away is no write at all
    const noop = await call(
      sim,
      'PATCH',
      `${BASE}/pruned`,
      { spec: { unknown: 2 } },
      'application/merge-patch+json',
    );
    expect(noop.status).toBe(200);
    expect(noop.body.metadata.resourceVersion).toBe(ok.body.metadata.resourceVersion);
  });

  it('validates and prunes /status writes', async () => {
    const bad = await call(
      sim,
      'PATCH',
      `${BASE}/pruned/status`,
      { status: { ready: -1 } },
      'application/merge-patch+json',
    );
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes[0]).toMatchObject({ field: 'status.ready', reason: 'FieldValueInvalid' });
    const ok = await call(
      sim,
      'PATCH',
      `${BASE}/pruned/status`,
      { status: { ready: 2, notInSchema: true } },
      'application/merge-patch+json',
    );
    expect(ok.status).toBe(200);
    expect(ok.body.status).toEqual({ ready: 2 });
  });

  it('uses the schema of the version the request names', async () => {
    const loose = await call(sim, 'POST', '/apis/example.com/v1beta1/namespaces/default/widgets', {
      apiVersion: 'example.com/v1beta1',
      kind: 'Widget',
      metadata: { name: 'old-style' },
      spec: { size: 'large', legacy: true },
    });
    expect(loose.status).toBe(201);
    expect(loose.body.spec).toEqual({ size: 'large', legacy: true });
  });

  it('ratchets: an update may keep a value the (tightened) schema now refuses, but not change it', async () => {
    // stored through the loose version, the object holds a size v1 refuses
    const cur = (await call(sim, 'GET', `${BASE}/old-style`)).body;
    expect(cur.spec.size).toBe('large');
    const label = await call(
      sim,
      'PATCH',
      `${BASE}/old-style`,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(label.status).toBe(200);
    const change = await call(
      sim,
      'PATCH',
      `${BASE}/old-style`,
      { spec: { size: 'huge' } },
      'application/merge-patch+json',
    );
    expect(change.status).toBe(422);
    expect(change.body.message).toContain('spec.size: Invalid value: "string"');
  });

  it('keeps serving objects of types without a schema as they are', async () => {
    const noSchema = {
      ...crd,
      metadata: { name: 'things.example.com' },
      spec: {
        ...crd.spec,
        names: { plural: 'things', singular: 'thing', kind: 'Thing' },
        versions: [{ name: 'v1', served: true, storage: true }],
      },
    };
    expect(
      (await call(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', noSchema)).status,
    ).toBe(201);
    const r = await call(sim, 'POST', '/apis/example.com/v1/namespaces/default/things', {
      apiVersion: 'example.com/v1',
      kind: 'Thing',
      metadata: { name: 't' },
      spec: { anything: [1, 'two'] },
    });
    expect(r.status).toBe(201);
    expect(r.body.spec).toEqual({ anything: [1, 'two'] });
  });
});
