/**
 * The three patch formats the API server accepts on JSON: RFC 6902 JSON patch, RFC 7386 merge
 * patch, and Kubernetes strategic merge patch for built-in types (lists merged by a key field,
 * `$patch`, `$setElementOrder/`, `$deleteFromPrimitiveList/`, `$retainKeys` directives).
 */
import { cloneJson, isPlainObject, jsonEqual } from './types.js';

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

// ---------- RFC 7386 merge patch ----------

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  // for-in over a JSON object (no inherited enumerable keys) without Object.entries' pair arrays:
  // this runs for every PATCH.
  for (const k in patch) {
    if (!Object.prototype.hasOwnProperty.call(patch, k)) continue;
    const v = patch[k];
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ---------- RFC 6902 JSON patch ----------

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** Walks to the parent of the pointer's last token. */
function resolveParent(doc: unknown, tokens: string[], pointer: string): { parent: Container; last: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw new PatchError(`path "${pointer}" not found`);
      cur = cur[i];
    } else if (isPlainObject(cur)) {
      if (!(t in cur)) throw new PatchError(`path "${pointer}" not found`);
      cur = cur[t];
    } else throw new PatchError(`path "${pointer}" not found`);
  }
  if (!Array.isArray(cur) && !isPlainObject(cur)) throw new PatchError(`path "${pointer}" not found`);
  return { parent: cur, last: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length) throw new PatchError(`path "${pointer}" not found`);
    return parent[i];
  }
  if (!(last in parent)) throw new PatchError(`path "${pointer}" not found`);
  return parent[last];
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length) throw new PatchError(`path "${pointer}" not found`);
    return parent.splice(i, 1)[0];
  }
  if (!(last in parent)) throw new PatchError(`path "${pointer}" not found`);
  const v = parent[last];
  delete parent[last];
  return v;
}

/** Returns the new document (the root may be replaced). */
function addAt(doc: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (last === '-' && !replace) {
      parent.push(value);
      return doc;
    }
    const i = Number(last);
    if (!/^\d+$/.test(last) || i > parent.length || (replace && i === parent.length)) {
      throw new PatchError(`path "${pointer}" out of range`);
    }
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
    return doc;
  }
  if (replace && !(last in parent)) throw new PatchError(`path "${pointer}" not found`);
  parent[last] = value;
  return doc;
}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = cloneJson(target);
  for (const raw of ops) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('each JSON patch operation needs "op" and "path"');
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, cloneJson(op.value), false);
        break;
      case 'replace':
        doc = addAt(doc, op.path, cloneJson(op.value), true);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'move': {
        if (op.from === undefined) throw new PatchError('"move" needs "from"');
        const v = removeAt(doc, op.from);
        doc = addAt(doc, op.path, v, false);
        break;
      }
      case 'copy': {
        if (op.from === undefined) throw new PatchError('"copy" needs "from"');
        doc = addAt(doc, op.path, cloneJson(getAt(doc, op.from)), false);
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(doc, op.path), op.value)) throw new PatchError(`test failed at "${op.path}"`);
        break;
      default:
        throw new PatchError(`unknown JSON patch operation "${op.op}"`);
    }
  }
  return doc;
}

// ---------- strategic merge patch ----------

/**
 * Patch metadata of the built-in types (what the Go structs' `patchMergeKey`/`patchStrategy` tags
 * say), keyed by field name with the path of field names leading to it. Lists not named here are
 * replaced whole, as for any list without a merge strategy.
 */
export type ListStrategy = { mergeKey: string } | { primitiveMerge: true } | undefined;

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

export function listStrategy(kind: string, path: string[], field: string): ListStrategy {
  const parent = path[path.length - 1];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return { mergeKey: 'name' };
    case 'volumeMounts':
      return { mergeKey: 'mountPath' };
    case 'volumeDevices':
      return { mergeKey: 'devicePath' };
    case 'ownerReferences':
      return { mergeKey: 'uid' };
    case 'finalizers':
      return parent === 'metadata' ? { primitiveMerge: true } : undefined;
    case 'conditions':
      return parent === 'status' ? { mergeKey: 'type' } : undefined;
    case 'addresses':
      return kind === 'Node' && parent === 'status' ? { mergeKey: 'type' } : undefined;
    case 'podIPs':
    case 'hostIPs':
      return { mergeKey: 'ip' };
    case 'hostAliases':
      return { mergeKey: 'ip' };
    case 'taints':
      return kind === 'Node' ? { mergeKey: 'key' } : undefined;
    case 'topologySpreadConstraints':
      return { mergeKey: 'topologyKey' };
    case 'ports':
      if (parent !== undefined && CONTAINER_LISTS.has(parent)) return { mergeKey: 'containerPort' };
      if (kind === 'Service' && parent === 'spec') return { mergeKey: 'port' };
      return undefined;
    default:
      return undefined;
  }
}

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export function applyStrategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  return smpMap(isPlainObject(target) ? target : {}, patch, kind, []);
}

function smpMap(target: Record<string, unknown>, patch: unknown, kind: string, path: string[]): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return stripDirectives(rest);
  }
  const out: Record<string, unknown> = { ...target };
  const retainKeys = Array.isArray(patch.$retainKeys) ? patch.$retainKeys.map(String) : undefined;
  const orders = new Map<string, unknown[]>();
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith(SET_ORDER)) {
      if (Array.isArray(v)) orders.set(k.slice(SET_ORDER.length), v);
      continue;
    }
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) {
        out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => jsonEqual(d, x)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = smpList(out[k], v, kind, path, k);
      continue;
    }
    if (isPlainObject(v)) {
      const merged = smpMap(isPlainObject(out[k]) ? (out[k] as Record<string, unknown>) : {}, v, kind, [
        ...path,
        k,
      ]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  for (const [field, order] of orders) {
    if (Array.isArray(out[field]))
      out[field] = applyOrder(out[field] as unknown[], order, listStrategy(kind, path, field));
  }
  if (retainKeys) {
    for (const k of Object.keys(out)) if (!retainKeys.includes(k)) delete out[k];
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function smpList(target: unknown, patch: unknown[], kind: string, path: string[], field: string): unknown[] {
  const strategy = listStrategy(kind, path, field);
  const current = Array.isArray(target) ? target : [];
  if (patch.some((e) => isPlainObject(e) && e.$patch === 'replace')) {
    return stripDirectives(patch.filter((e) => !(isPlainObject(e) && e.$patch === 'replace'))) as unknown[];
  }
  if (!strategy) return stripDirectives(patch) as unknown[];
  if ('primitiveMerge' in strategy) {
    const out = [...current];
    for (const v of patch) if (!out.some((x) => jsonEqual(x, v))) out.push(v);
    return out;
  }
  const key = strategy.mergeKey;
  const out = [...current];
  for (const item of patch) {
    if (!isPlainObject(item)) throw new PatchError(`list "${field}" holds objects merged by "${key}"`);
    const idx = out.findIndex((x) => isPlainObject(x) && jsonEqual(x[key], item[key]));
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpMap(out[idx] as Record<string, unknown>, item, kind, [...path, field]);
    else out.push(smpMap({}, item, kind, [...path, field]));
  }
  return out;
}

/** `$setElementOrder`: listed elements first, in the given order; the rest keep their relative order after them. */
function applyOrder(list: unknown[], order: unknown[], strategy: ListStrategy): unknown[] {
  const keyOf = (x: unknown): unknown =>
    strategy && 'mergeKey' in strategy && isPlainObject(x) ? x[strategy.mergeKey] : x;
  const orderKeys = order.map(keyOf);
  const ranked: unknown[] = [];
  for (const k of orderKeys) {
    const found = list.find((x) => jsonEqual(keyOf(x), k));
    if (found !== undefined) ranked.push(found);
  }
  const rest = list.filter((x) => !orderKeys.some((k) => jsonEqual(keyOf(x), k)));
  return [...ranked, ...rest];
}
