import { describe, expect, it } from 'vitest';
import {
  CrdSchemaMissingError,
  crdServes,
  formatFieldErrors,
  invalidStatus,
  pruneAndDefault,
  validateCustomResource,
  type CrdLike,
  type JsonSchemaProps,
} from '../../src/k8s/crd-validation.js';

function crdWith(schema: JsonSchemaProps): CrdLike {
  return {
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: schema } }],
    },
  };
}
const obj = (spec: unknown) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', annotations: { a: 'b' } },
  spec,
});

const schema: JsonSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number' },
        name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
        port: { 'x-kubernetes-int-or-string': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        tags: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string', enum: ['a', 'b'] } },
        note: { type: 'string', nullable: true },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
};

describe('CRD OpenAPI v3 validation', () => {
  it('accepts a conforming object and ignores apiVersion/kind/metadata', () => {
    const r = validateCustomResource(
      crdWith(schema),
      obj({
        size: 3,
        ratio: 2,
        name: 'abc',
        port: 'http',
        labels: { x: 'y' },
        tags: ['a'],
        note: null,
        free: { any: { thing: 1 } },
      }),
    );
    expect(r).toEqual({ errors: [], pruned: [] });
  });

  it('reports every violation with its path, like the API server', () => {
    const r = validateCustomResource(
      crdWith(schema),
      obj({
        size: 11,
        ratio: 'x',
        name: 'ABCDEFG',
        port: true,
        labels: { x: 1 },
        tags: ['c', 'a', 'b'],
        note: null,
      }),
    );
    const text = formatFieldErrors(r.errors);
    expect(text).toContain(
      'spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10',
    );
    expect(text).toContain('spec.ratio: Invalid value: "string": spec.ratio in body must be of type number');
    expect(text).toContain('spec.name: Too long');
    expect(text).toContain(
      'spec.name: Invalid value: "ABCDEFG": spec.name in body should match \'^[a-z]+$\'',
    );
    expect(text).toContain('spec.port: Invalid value: true: spec.port in body must be of type int-or-string');
    expect(text).toContain('spec.labels.x: Invalid value: "integer"');
    expect(text).toContain('spec.tags: Too many');
    expect(text).toContain('spec.tags[0]: Unsupported value: "c": supported values: "a", "b"');
    expect(validateCustomResource(crdWith(schema), obj({})).errors).toEqual([
      { field: 'spec.size', type: 'Required value', detail: '' },
    ]);
    expect(validateCustomResource(crdWith(schema), obj({ size: 0 })).errors[0]?.detail).toContain(
      'greater than or equal to 1',
    );
    expect(validateCustomResource(crdWith(schema), obj({ size: 1.5 })).errors[0]?.detail).toContain(
      'must be of type integer',
    );
  });

  it('lists unknown fields as pruned, not as errors', () => {
    const r = validateCustomResource(crdWith(schema), { ...obj({ size: 1, extra: 1 }), status: { x: 1 } });
    expect(r.errors).toEqual([]);
    expect(r.pruned.sort()).toEqual(['spec.extra', 'status']);
  });

  it('builds the 422 Status and knows which CRD serves an object', () => {
    const errors = validateCustomResource(crdWith(schema), obj({})).errors;
    const st = invalidStatus('Widget', 'w', 'example.com', errors);
    expect(st).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message: 'Widget.example.com "w" is invalid: spec.size: Required value',
    });
    expect(crdServes(crdWith(schema), 'example.com/v1', 'Widget')).toBe(true);
    expect(crdServes(crdWith(schema), 'example.com/v2', 'Widget')).toBe(false);
    expect(() =>
      validateCustomResource(crdWith(schema), { ...obj({}), apiVersion: 'example.com/v9' }),
    ).toThrow(CrdSchemaMissingError);
  });
});

describe('pruning, defaulting and ratcheting', () => {
  const defaults: JsonSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          mode: { type: 'string', default: 'safe' },
          opt: { type: 'string', nullable: true, default: 'x' },
          nested: { type: 'object', default: {}, properties: { level: { type: 'integer', default: 3 } } },
          items: {
            type: 'array',
            items: { type: 'object', properties: { p: { type: 'integer', default: 1 } } },
          },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };

  it('drops unknown fields, keeps preserved ones and fills defaults without touching the input', () => {
    const input = {
      ...obj({ extra: 1, opt: null, items: [{ q: 2 }], free: { a: { b: 1 } } }),
      topLevel: true,
    };
    const before = structuredClone(input);
    const out = pruneAndDefault(crdWith(defaults), input);
    expect(input).toEqual(before);
    expect(out).toEqual({
      ...obj({ mode: 'safe', opt: null, nested: { level: 3 }, items: [{ p: 1 }], free: { a: { b: 1 } } }),
    });
    // nothing to change: the very same object back
    const clean = obj({ mode: 'fast', opt: 'y', nested: { level: 1 } });
    expect(pruneAndDefault(crdWith(defaults), clean)).toBe(clean);
  });

  it('does not validate again what an update leaves unchanged', () => {
    const old = obj({ size: 50 });
    expect(validateCustomResource(crdWith(schema), obj({ size: 50 }), old).errors).toEqual([]);
    expect(validateCustomResource(crdWith(schema), obj({ size: 50, name: 'ok' }), old).errors).toEqual([]);
    expect(validateCustomResource(crdWith(schema), obj({ size: 51 }), old).errors[0]?.field).toBe(
      'spec.size',
    );
    expect(
      invalidStatus('Widget', 'w', 'example.com', validateCustomResource(crdWith(schema), obj({})).errors),
    ).toMatchObject({ details: { causes: [{ reason: 'FieldValueRequired', field: 'spec.size' }] } });
  });
});
