/**
 * Validation of custom resources against their CRD's OpenAPI v3 schema, the way the API server
 * does it at admission (structural schemas): types, required fields, enum, numeric and length
 * bounds, pattern, item counts, nested objects and arrays, maps via additionalProperties,
 * x-kubernetes-preserve-unknown-fields and x-kubernetes-int-or-string. Unknown fields are not
 * errors: the API server prunes them, so they are reported in `pruned`; `pruneAndDefault` drops
 * them and fills in schema `default`s, as the server does when it decodes a request.
 *
 * Pure (no I/O): the simulator's create/update path calls `pruneAndDefault`, then
 * `validateCustomResource` (with the stored object, for ratcheting), and answers 422 with
 * `invalidStatus(...)` when `errors` is not empty.
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON values (key order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
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

/** Marks "no stored value to compare with" (create), distinct from a stored value that is absent. */
const NO_OLD: unique symbol = Symbol('no old value');
type OldValue = unknown;

function validateValue(
  value: unknown,
  schema: JsonSchemaProps,
  path: string,
  out: ValidationResult,
  old: OldValue = NO_OLD,
): void {
  // Ratcheting (CRDValidationRatcheting, on by default since 1.30): a value an update leaves as it
  // was is not validated again, so a tightened schema does not lock existing objects.
  if (old !== NO_OLD && jsonEqual(value, old)) return;
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
    if (schema.items) {
      // Items are compared with the stored item at the same index (the server's list-type=atomic view).
      const oldItems = old !== NO_OLD && Array.isArray(old) ? old : undefined;
      value.forEach((item, i) =>
        validateValue(
          item,
          schema.items!,
          `${path}[${i}]`,
          out,
          oldItems && i < oldItems.length ? oldItems[i] : NO_OLD,
        ),
      );
    }
    return;
  }
  if (actual === 'object') validateObject(value as Record<string, unknown>, schema, path, out, old);
}

function validateObject(
  obj: Record<string, unknown>,
  schema: JsonSchemaProps,
  path: string,
  out: ValidationResult,
  old: OldValue = NO_OLD,
): void {
  const oldObj = old !== NO_OLD && isObject(old) ? old : undefined;
  const oldOf = (k: string): OldValue => (oldObj ? oldObj[k] : NO_OLD);
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
    if (prop) validateValue(v, prop, field, out, oldOf(k));
    else if (typeof schema.additionalProperties === 'object')
      validateValue(v, schema.additionalProperties, field, out, oldOf(k));
    else if (
      !schema['x-kubernetes-preserve-unknown-fields'] &&
      schema.additionalProperties !== true &&
      !schema['x-kubernetes-embedded-resource']
    )
      out.pruned.push(field);
  }
}

/** The schema of the CRD version named by `apiVersion` (undefined: the version has none). */
function schemaOf(crd: CrdLike, apiVersion: string): JsonSchemaProps | undefined {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  const v = (crd.spec?.versions ?? []).find((x) => x.name === version);
  if (!v)
    throw new CrdSchemaMissingError(
      `CRD ${crd.spec?.names?.plural}.${crd.spec?.group} has no version ${version}`,
    );
  return v.schema?.openAPIV3Schema;
}

const API_MACHINERY_FIELDS = ['apiVersion', 'kind', 'metadata'];

/**
 * Validates `obj` against the schema of the CRD version named by its apiVersion. apiVersion, kind
 * and metadata are the API machinery's and are not checked against the schema. With `old` (an
 * update), values left unchanged are not validated again (ratcheting).
 */
export function validateCustomResource(
  crd: CrdLike,
  obj: Record<string, unknown>,
  old?: Record<string, unknown>,
): ValidationResult {
  const schema = schemaOf(crd, typeof obj.apiVersion === 'string' ? obj.apiVersion : '');
  const out: ValidationResult = { errors: [], pruned: [] };
  if (!schema) return out; // no schema: anything goes (apiextensions v1beta1 style)
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
  let oldRest: OldValue = NO_OLD;
  if (old) {
    const { apiVersion: _oa, kind: _ok, metadata: _om, ...r } = old;
    oldRest = r;
  }
  validateObject(
    rest,
    {
      ...schema,
      required: (schema.required ?? []).filter((r) => !API_MACHINERY_FIELDS.includes(r)),
    },
    '',
    out,
    oldRest,
  );
  return out;
}

/**
 * Pruning and defaulting of a structural schema, as the API server applies them to every request
 * body before validation: fields the schema does not know are dropped (unless
 * x-kubernetes-preserve-unknown-fields, a schema'd additionalProperties or an embedded resource's
 * apiVersion/kind/metadata keep them), then missing fields with a `default` get it (a null gets it
 * too unless the field is nullable). Returns a new value sharing unchanged subtrees with `value`
 * (which is never mutated: it may share parts with stored objects).
 */
function pruneAndDefaultValue(value: unknown, schema: JsonSchemaProps): unknown {
  if (Array.isArray(value)) {
    if (!schema.items) return value;
    let changed = false;
    const next = value.map((item) => {
      const n = pruneAndDefaultValue(item, schema.items!);
      if (n !== item) changed = true;
      return n;
    });
    return changed ? next : value;
  }
  if (!isObject(value)) return value;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  let changed = false;
  const next: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const prop = schema.properties?.[k];
    let sub: JsonSchemaProps | undefined = prop;
    if (!sub && isObject(schema.additionalProperties)) sub = schema.additionalProperties;
    if (!sub) {
      if (
        preserve ||
        schema.additionalProperties === true ||
        (embedded && API_MACHINERY_FIELDS.includes(k))
      ) {
        next[k] = v;
      } else changed = true;
      continue;
    }
    const n = pruneAndDefaultValue(v, sub);
    if (n !== v) changed = true;
    next[k] = n;
  }
  for (const [k, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (next[k] === undefined || (next[k] === null && !prop.nullable)) {
      next[k] = pruneAndDefaultValue(structuredClone(prop.default), prop);
      changed = true;
    }
  }
  return changed ? next : value;
}

/**
 * `obj` as the API server stores it: unknown fields pruned and defaults applied for the schema of
 * the CRD version its apiVersion names. apiVersion, kind and metadata are kept as they are.
 */
export function pruneAndDefault<T extends Record<string, unknown>>(crd: CrdLike, obj: T): T {
  const schema = schemaOf(crd, typeof obj.apiVersion === 'string' ? obj.apiVersion : '');
  if (!schema) return obj;
  const { apiVersion, kind, metadata, ...rest } = obj;
  const next = pruneAndDefaultValue(rest, {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(schema.properties ?? {}).filter(([k]) => !API_MACHINERY_FIELDS.includes(k)),
    ),
  });
  if (next === rest) return obj;
  const out: Record<string, unknown> = {};
  if (apiVersion !== undefined) out.apiVersion = apiVersion;
  if (kind !== undefined) out.kind = kind;
  if (metadata !== undefined) out.metadata = metadata;
  return Object.assign(out, next) as T;
}

/** One line per error, as kubectl prints them: `spec.protocol: Unsupported value: "IPv5": supported values: ...`. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.type}${e.detail ? `: ${e.detail}` : ''}`).join(', ');
}

/** field.ErrorType as a StatusCause reason, as apimachinery names them. */
const CAUSE_REASONS: Record<FieldError['type'], string> = {
  'Required value': 'FieldValueRequired',
  'Invalid value': 'FieldValueInvalid',
  'Unsupported value': 'FieldValueNotSupported',
  'Too many': 'FieldValueTooMany',
  'Too long': 'FieldValueTooLong',
};

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
        reason: CAUSE_REASONS[e.type],
        message: `${e.type}${e.detail ? `: ${e.detail}` : ''}`,
        field: e.field,
      })),
    },
    code: 422,
  };
}
