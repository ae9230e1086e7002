/** `--seed FILE.yaml`: multi-document YAML applied at start (Namespaces, then CRDs, then the rest). */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { ObjectApi } from './api.js';
import { ApiError } from './errors.js';
import { isPlainObject, type KubeObject } from './types.js';

export class SeedError extends Error {
  constructor(file: string, message: string) {
    super(`seed ${file}: ${message}`);
    this.name = 'SeedError';
  }
}

function flatten(doc: unknown, out: KubeObject[]): void {
  if (!isPlainObject(doc)) return;
  if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) {
    for (const item of doc.items) flatten(item, out);
    return;
  }
  out.push(doc as KubeObject);
}

function rank(o: KubeObject): number {
  if (o.kind === 'Namespace') return 0;
  if (o.kind === 'CustomResourceDefinition') return 1;
  return 2;
}

export async function loadSeedObjects(file: string): Promise<KubeObject[]> {
  const text = await readFile(file, 'utf8');
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new SeedError(file, doc.errors[0]!.message);
    flatten(doc.toJSON(), out);
  }
  return out;
}

/** Creates each object; one that already exists (e.g. loaded from --state) is replaced. Returns how many were applied. */
export function applySeed(api: ObjectApi, objects: KubeObject[], file: string): number {
  const sorted = [...objects].sort((a, b) => rank(a) - rank(b));
  for (const obj of sorted) {
    const t = api.registry.findByKind(String(obj.apiVersion ?? ''), String(obj.kind ?? ''));
    if (!t) throw new SeedError(file, `no resource for ${String(obj.apiVersion)} ${String(obj.kind)}`);
    if (!isPlainObject(obj.metadata) || typeof obj.metadata.name !== 'string') {
      throw new SeedError(file, `an object of kind ${t.kind} has no metadata.name`);
    }
    const ns = t.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const status = obj.status;
    try {
      api.create(t, ns, structuredClone(obj));
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) {
        throw new SeedError(file, `${t.plural} ${obj.metadata.name}: ${(err as Error).message}`);
      }
      const copy = structuredClone(obj);
      delete copy.metadata.resourceVersion;
      api.update(t, ns, obj.metadata.name, copy);
    }
    // Seeds describe a cluster as it is, status included (a create drops it for most kinds).
    if (status !== undefined && t.statusSubresource) {
      const current = api.get(t, ns, obj.metadata.name);
      api.update(t, ns, obj.metadata.name, { ...current.obj, status: structuredClone(status) }, 'status');
    }
  }
  return sorted.length;
}
