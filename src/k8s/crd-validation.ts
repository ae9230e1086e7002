/**
 * Validation of custom resources against their CRD's OpenAPI v3 schema, the way the API server
 * does it at admission (structural schemas): types, required fields, enum, numeric and length
 * bounds, pattern, item counts, nested objects and arrays, maps via additionalProperties,
 * x-kubernetes-preserve-unknown-fields and x-kubernetes-int-or-string. Unknown fields are not
 * errors: the API server prunes them, so they are reported in `pruned`.
 *
 * Pure (no I/O): the simulator's create/update path can call `validateCustomResource` and answer
 * 422 with `invalidStatus(...)` when `errors` is not empty.
 */

export interface JsonSchemaProps {
  type?: string;
  properties?: Record<string, JsonSchemaProps>;
  additionalProperties?: boolean | JsonSchemaProps;
  items?: JsonSchemaProps;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  format?: string;
  description?: string;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

export interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: JsonSchemaProps };
}

export interface CrdLike {
  spec?: {
    group?: string;
    names?: { kind?: string; plural?: string };
    versions?: CrdVersion[];
  };
}

export interface FieldError {
  /** e.g. "spec.cidrBlock" */
  field: string;
  /** Kubernetes' field.ErrorType text: Required value, Invalid value, Unsupported value */
  type: 'Required value' | 'Invalid value' | 'Unsupported value' | 'Too many' | 'Too long';
  detail: string;
}

export interface ValidationResult {
  errors: FieldError[];
  /** fields the API server would drop (not in the schema, not preserved) */
  pruned: string[];
}

export class CrdSchemaMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrdSchemaMissingError';
  }
}

/** Whether `crd` defines the object's apiVersion and kind. */
export function crdServes(crd: CrdLike, apiVersion: string, kind: string): boolean {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return (
    crd.spec?.group === group &&
    crd.spec?.names?.kind === kind &&
    (crd.spec?.versions ?? []).some((v) => v.name === version && v.served !== false)
  );
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function fmt(v: unknown): string {
  return JSON.stringify(v);
}

function validateValue(value: unknown, schema: JsonSchemaProps, path: string, out: ValidationResult): void {
  if (value === null) {
    if (!schema.nullable)
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `"null": ${path} in body must be of type ${schema.type ?? 'object'}: "null"`,
      });
    return;
  }
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string')
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `${fmt(value)}: ${path} in body must be of type int-or-string: "${actual}"`,
      });
    return;
  }
  if (schema.type) {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `"${actual}": ${path} in body must be of type ${schema.type}: "${actual}"`,
      });
      return;
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    out.errors.push({
      field: path,
      type: 'Unsupported value',
      detail: `${fmt(value)}: supported values: ${schema.enum.map(fmt).join(', ')}`,
    });
  }
  if (typeof value === 'number') {
    if (
      schema.minimum !== undefined &&
      (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)
    )
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `${value}: ${path} in body should be greater than or equal to ${schema.minimum}`,
      });
    if (
      schema.maximum !== undefined &&
      (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)
    )
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `${value}: ${path} in body should be less than or equal to ${schema.maximum}`,
      });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength)
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `${fmt(value)}: ${path} in body should be at least ${schema.minLength} chars long`,
      });
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength)
      out.errors.push({
        field: path,
        type: 'Too long',
        detail: `may not be more than ${schema.maxLength} bytes`,
      });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `${fmt(value)}: ${path} in body should match '${schema.pattern}'`,
      });
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      out.errors.push({
        field: path,
        type: 'Invalid value',
        detail: `${value.length}: ${path} in body should have at least ${schema.minItems} items`,
      });
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      out.errors.push({
        field: path,
        type: 'Too many',
        detail: `${value.length}: must have at most ${schema.maxItems} items`,
      });
    if (schema.items) value.forEach((item, i) => validateValue(item, schema.items!, `${path}[${i}]`, out));
    return;
  }
  if (actual === 'object') validateObject(value as Record<string, unknown>, schema, path, out);
}

function validateObject(
  obj: Record<string, unknown>,
  schema: JsonSchemaProps,
  path: string,
  out: ValidationResult,
): void {
  const prefix = path ? `${path}.` : '';
  for (const req of schema.required ?? []) {
    if (obj[req] === undefined)
      out.errors.push({ field: `${prefix}${req}`, type: 'Required value', detail: '' });
  }
  const n = Object.keys(obj).length;
  if (schema.minProperties !== undefined && n < schema.minProperties)
    out.errors.push({
      field: path,
      type: 'Invalid value',
      detail: `${path} in body should have at least ${schema.minProperties} properties`,
    });
  if (schema.maxProperties !== undefined && n > schema.maxProperties)
    out.errors.push({
      field: path,
      type: 'Too many',
      detail: `must have at most ${schema.maxProperties} properties`,
    });
  for (const [k, v] of Object.entries(obj)) {
    const field = `${prefix}${k}`;
    const prop = schema.properties?.[k];
    if (prop) validateValue(v, prop, field, out);
    else if (typeof schema.additionalProperties === 'object')
      validateValue(v, schema.additionalProperties, field, out);
    else if (
      !schema['x-kubernetes-preserve-unknown-fields'] &&
      schema.additionalProperties !== true &&
      !schema['x-kubernetes-embedded-resource']
    )
      out.pruned.push(field);
  }
}

/**
 * Validates `obj` against the schema of the CRD version named by its apiVersion. apiVersion, kind
 * and metadata are the API machinery's and are not checked against the schema.
 */
export function validateCustomResource(crd: CrdLike, obj: Record<string, unknown>): ValidationResult {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  const v = (crd.spec?.versions ?? []).find((x) => x.name === version);
  if (!v)
    throw new CrdSchemaMissingError(
      `CRD ${crd.spec?.names?.plural}.${crd.spec?.group} has no version ${version}`,
    );
  const schema = v.schema?.openAPIV3Schema;
  const out: ValidationResult = { errors: [], pruned: [] };
  if (!schema) return out; // no schema: anything goes (apiextensions v1beta1 style)
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
  validateObject(
    rest,
    {
      ...schema,
      required: (schema.required ?? []).filter((r) => !['apiVersion', 'kind', 'metadata'].includes(r)),
    },
    '',
    out,
  );
  return out;
}

/** One line per error, as kubectl prints them: `spec.protocol: Unsupported value: "IPv5": supported values: ...`. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.type}${e.detail ? `: ${e.detail}` : ''}`).join(', ');
}

/** The 422 Status body the API server returns for an invalid custom resource. */
export function invalidStatus(
  kind: string,
  name: string,
  group: string,
  errors: readonly FieldError[],
): Record<string, unknown> {
  const list = errors.length > 1 ? `[${formatFieldErrors(errors)}]` : formatFieldErrors(errors);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${kind}.${group} "${name}" is invalid: ${list}`,
    reason: 'Invalid',
    details: {
      name,
      group,
      kind,
      causes: errors.map((e) => ({
        reason: `Field${e.type.replace(/ /g, '')}`,
        message: `${e.type}${e.detail ? `: ${e.detail}` : ''}`,
        field: e.field,
      })),
    },
    code: 422,
  };
}
