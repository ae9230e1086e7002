/**
 * The API semantics on top of the store: create, get, list, update, patch, delete with the real
 * server's rules (uid, generation, resourceVersion, optimistic concurrency, finalizers, status
 * subresource, namespace lifecycle, CRDs adding resource types). The HTTP layer and the stand-in
 * controllers both go through here, so controller writes produce the same events as client writes.
 */
import { randomUUID } from 'node:crypto';
import { invalidStatus, pruneAndDefault, validateCustomResource } from '../crd-validation.js';
import { ApiError, errors, type ResourceRef, type StatusDetails } from './errors.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './patch.js';
import { apiVersionOf, type ResourceRegistry, type ResourceType, type ResourceView } from './resources.js';
import { allOf, parseFieldRequirements, fieldMatcher, parseLabelSelector } from './selectors.js';
import { objectKey, type Collection, type Entry, type Store } from './store.js';
import { crdType, prepareForCreate, prepareForUpdate, type StrategyContext } from './strategies.js';
import { cloneJson, isPlainObject, jsonEqual, type KubeObject, type ObjectMeta } from './types.js';

export type PatchType = 'json' | 'merge' | 'strategic';

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

export interface ListResult {
  entries: Entry[];
  resourceVersion: number;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

let stampSecond = -1;
let stampText = '';

/** RFC 3339 with second precision, as Kubernetes timestamps are (cached per second: creates are hot). */
export function nowTimestamp(offsetSeconds = 0): string {
  const second = Math.floor(Date.now() / 1000) + offsetSeconds;
  if (second !== stampSecond) {
    stampSecond = second;
    stampText = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return stampText;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

const NOT_SPEC = new Set(['metadata', 'status', 'apiVersion', 'kind']);

/**
 * Whether everything except metadata and status (a change there bumps metadata.generation) is
 * equal, as jsonEqual on both without those fields (without copying them: this runs per write).
 */
function specEqual(a: KubeObject, b: KubeObject): boolean {
  let na = 0;
  for (const k of Object.keys(a)) {
    if (NOT_SPEC.has(k) || a[k] === undefined) continue;
    na++;
    if (!jsonEqual(a[k], b[k])) return false;
  }
  let nb = 0;
  for (const k of Object.keys(b)) if (!NOT_SPEC.has(k) && b[k] !== undefined) nb++;
  return na === nb;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch {
    // fall through
  }
  throw errors.badRequest('continue key is not valid: invalid continue token');
}

export interface ObjectApiOptions {
  /** Pods bound to a node are deleted gracefully (left with a deletionTimestamp for the kubelet stand-in). */
  gracefulPodDeletion: () => boolean;
}

export class ObjectApi {
  private readonly strategy: StrategyContext;

  constructor(
    readonly store: Store,
    readonly registry: ResourceRegistry,
    strategy: StrategyContext,
    private readonly options: ObjectApiOptions,
  ) {
    this.strategy = strategy;
  }

  private ref(t: ResourceType): ResourceRef {
    return { group: t.group, plural: t.plural };
  }

  private namespacesType(): ResourceType {
    return this.registry.get('', 'namespaces')!;
  }

  /** The stored apiVersion/kind are the preferred version's; callers re-label for other versions. */
  private typeMeta(t: ResourceType): { apiVersion: string; kind: string } {
    return { apiVersion: apiVersionOf(t.group, t.versions[0]!), kind: t.kind };
  }

  private checkNamespace(t: ResourceType, ns: string | undefined, name: string): void {
    if (!t.namespaced) return;
    const nsType = this.namespacesType();
    const nsEntry = this.store.collection(nsType).get(ns!);
    if (!nsEntry) throw errors.notFound(this.ref(nsType), ns!);
    if (nsEntry.obj.metadata.deletionTimestamp) {
      throw errors.forbidden(
        this.ref(t),
        name,
        `unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }

  private asObject(t: ResourceType, body: unknown, ns: string | undefined): KubeObject {
    if (!isPlainObject(body)) throw errors.badRequest('the body of the request must be a JSON object');
    const tm = this.typeMeta(t);
    // Shallow copies (callers such as controllers may pass objects sharing parts with stored ones),
    // in the field order the real server prints.
    const { apiVersion: givenApiVersion, kind: givenKind, metadata, ...rest } = body;
    const obj: KubeObject = {
      apiVersion: givenApiVersion as string | undefined,
      kind: givenKind as string | undefined,
      metadata: isPlainObject(metadata) ? { ...metadata } : {},
      ...rest,
    };
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw errors.badRequest(
        `the kind of the object (${String(obj.kind)}) does not match the resource (${t.kind})`,
      );
    }
    if (obj.apiVersion !== undefined) {
      const [g] = String(obj.apiVersion).includes('/') ? String(obj.apiVersion).split('/') : [''];
      if (g !== t.group) {
        throw errors.badRequest(
          `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${tm.apiVersion})`,
        );
      }
    }
    obj.apiVersion = tm.apiVersion;
    obj.kind = tm.kind;
    if (t.namespaced) {
      if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    return obj;
  }

  /**
   * Custom resources as the API server admits them: status dropped on create when it is a
   * subresource, unknown fields pruned, schema defaults filled in, then validated against the
   * OpenAPI v3 schema of the request's version (422 Invalid with one cause per field). `old` is
   * the stored object on updates (unchanged values are not validated again).
   */
  private admitCustomResource(
    t: ResourceType,
    obj: KubeObject,
    version: string,
    old?: KubeObject,
  ): KubeObject {
    const crd = t.crd;
    if (!crd) return obj;
    const stored = obj.apiVersion;
    const asRequested = { ...obj, apiVersion: apiVersionOf(t.group, version) };
    const next: KubeObject = pruneAndDefault(crd, asRequested);
    const oldAsRequested = old ? { ...old, apiVersion: asRequested.apiVersion } : undefined;
    const { errors: fieldErrors } = validateCustomResource(crd, next, oldAsRequested);
    if (fieldErrors.length > 0) {
      const name = String(obj.metadata.name ?? '');
      const st = invalidStatus(t.kind, name, t.group, fieldErrors);
      throw new ApiError(422, 'Invalid', String(st.message), st.details as StatusDetails);
    }
    next.apiVersion = stored;
    return next;
  }

  /** The served version a body names in its apiVersion (validation uses that version's schema). */
  private requestedVersion(t: ResourceType, body: unknown): string {
    const given = isPlainObject(body) && typeof body.apiVersion === 'string' ? body.apiVersion : '';
    const v = given.includes('/') ? given.slice(given.indexOf('/') + 1) : given;
    return t.versions.includes(v) ? v : t.versions[0]!;
  }

  create(t: ResourceType, ns: string | undefined, body: unknown): Entry {
    let obj = this.asObject(t, body, ns);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) {
      // Like the real server (since 1.31), retry a generated name that happens to be taken.
      const c = this.store.collection(t);
      for (let i = 0; i < 8; i++) {
        meta.name = `${meta.generateName}${randomSuffix()}`;
        if (!c.get(objectKey(ns, meta.name))) break;
      }
    }
    const name = meta.name;
    if (!name)
      throw errors.invalid(
        this.ref(t),
        '',
        'metadata.name: Required value: name or generateName is required',
        'metadata.name',
      );
    const re = t.group === '' && t.plural === 'namespaces' ? LABEL_RE : NAME_RE;
    if (typeof name !== 'string' || name.length > 253 || !re.test(name)) {
      throw errors.invalid(
        this.ref(t),
        String(name),
        `metadata.name: Invalid value: "${String(name)}": a lowercase RFC 1123 name must consist of lower case alphanumeric characters, '-' or '.'`,
        'metadata.name',
      );
    }
    this.checkNamespace(t, ns, name);
    if (t.crd) {
      if (t.statusSubresource) delete obj.status;
      obj = this.admitCustomResource(t, obj, this.requestedVersion(t, body));
    }
    const c = this.store.collection(t);
    const key = objectKey(ns, name);
    if (c.get(key)) throw errors.alreadyExists(this.ref(t), name);
    prepareForCreate(t, obj, this.strategy);
    const rv = this.store.nextResourceVersion();
    const fresh: ObjectMeta = {
      ...meta,
      uid: randomUUID(),
      resourceVersion: String(rv),
      generation: 1,
      creationTimestamp: nowTimestamp(),
    };
    delete fresh.deletionTimestamp;
    delete fresh.deletionGracePeriodSeconds;
    delete fresh.generateName;
    if (meta.generateName) fresh.generateName = meta.generateName;
    obj.metadata = fresh;
    if (t.group === 'apiextensions.k8s.io' && t.plural === 'customresourcedefinitions') this.installCrd(obj);
    return this.store.put(c, key, obj, rv, 'ADDED');
  }

  get(t: ResourceType, ns: string | undefined, name: string): Entry {
    const c = this.store.existing(t.group, t.plural);
    const e = c?.get(objectKey(ns, name));
    if (!e) throw errors.notFound(this.ref(t), name);
    return e;
  }

  tryGet(t: ResourceType, ns: string | undefined, name: string): Entry | undefined {
    return this.store.existing(t.group, t.plural)?.get(objectKey(ns, name));
  }

  list(t: ResourceType, ns: string | undefined, opts: ListOptions = {}): ListResult {
    const c = this.store.collection(t);
    const fieldReqs = parseFieldRequirements(opts.fieldSelector);
    const matcher = allOf(parseLabelSelector(opts.labelSelector), fieldMatcher(fieldReqs));
    let prefix = t.namespaced && ns ? `${ns}/` : '';
    const nsReq = fieldReqs.find((r) => r.path === 'metadata.namespace' && !r.negate);
    if (t.namespaced && !ns && nsReq) prefix = `${nsReq.value}/`;
    let listRv = this.store.resourceVersion;
    let after: string | undefined;
    if (opts.continueToken) {
      const tok = decodeContinue(opts.continueToken);
      listRv = tok.rv;
      after = tok.start;
    }
    // Fast path: a name field selector (kubectl's delete wait) is a single lookup.
    const nameReq = fieldReqs.find((r) => r.path === 'metadata.name' && !r.negate);
    if (nameReq && (!t.namespaced || ns) && after === undefined) {
      const e = c.get(objectKey(ns, nameReq.value));
      return { entries: e && (!matcher || matcher(e.obj)) ? [e] : [], resourceVersion: listRv };
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const entries: Entry[] = [];
    let lastKey: string | undefined;
    let more = false;
    for (const [k, e] of c.range(prefix, after)) {
      if (entries.length >= limit) {
        more = true;
        break;
      }
      lastKey = k;
      if (!matcher || matcher(e.obj)) entries.push(e);
    }
    const result: ListResult = { entries, resourceVersion: listRv };
    if (more && lastKey !== undefined) {
      result.continueToken = encodeContinue({ rv: listRv, start: lastKey });
      if (!matcher) result.remainingItemCount = this.countAfterInPrefix(c, lastKey, prefix);
    }
    return result;
  }

  private countAfterInPrefix(c: Collection, key: string, prefix: string): number {
    const total = c.keys.countAfter(key);
    if (!prefix) return total;
    // Keys beyond the prefix range start at the prefix with its last character incremented.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const beyond = c.keys.countAfter(end) + (c.keys.has(end) ? 1 : 0);
    return total - beyond;
  }

  /** PUT: full replacement with optimistic concurrency; `sub` = 'status' writes only the status. */
  update(t: ResourceType, ns: string | undefined, name: string, body: unknown, sub?: 'status'): Entry {
    const obj = this.asObject(t, body, ns);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    const current = this.get(t, ns, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.obj.metadata.resourceVersion) {
      throw errors.conflict(this.ref(t), name);
    }
    return this.commitUpdate(t, ns, name, current, obj, sub, this.requestedVersion(t, body));
  }

  patch(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    patchType: PatchType,
    patchBody: unknown,
    sub?: 'status',
    view?: ResourceView,
  ): Entry {
    if (patchType === 'strategic' && !t.builtin) throw errors.unsupportedMediaType();
    const current = this.get(t, ns, name);
    // Through a view (events.k8s.io/v1) the patch applies to the object as that view shows it.
    const base = view ? view.toView(current.obj) : current.obj;
    let patched: unknown;
    try {
      if (patchType === 'json') patched = applyJsonPatch(base, patchBody);
      else if (patchType === 'merge') patched = applyMergePatch(base, patchBody);
      else patched = applyStrategicMergePatch(base, patchBody, t.kind);
    } catch (err) {
      if (err instanceof PatchError) {
        throw new ApiError(422, 'Invalid', `${t.plural} "${name}" is invalid: ${err.message}`, {
          name,
          kind: t.plural,
          ...(t.group ? { group: t.group } : {}),
        });
      }
      throw err;
    }
    if (!isPlainObject(patched)) throw errors.badRequest('the patched object is not a JSON object');
    const obj = view ? view.fromView(patched as KubeObject) : (patched as KubeObject);
    // The patch result is a new top-level object sharing unchanged subtrees with the stored one:
    // asObject gives it its own metadata before anything in there is changed.
    const meta: ObjectMeta = isPlainObject(obj.metadata) ? obj.metadata : {};
    obj.metadata = meta;
    const rv = meta.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.obj.metadata.resourceVersion) {
      throw errors.conflict(this.ref(t), name);
    }
    if (meta.name !== name) throw errors.badRequest('metadata.name cannot be changed by a patch');
    return this.commitUpdate(t, ns, name, current, this.asObject(t, obj, ns), sub);
  }

  private commitUpdate(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    current: Entry,
    incoming: KubeObject,
    sub: 'status' | undefined,
    version = t.versions[0]!,
  ): Entry {
    const old = current.obj;
    // A uid in the request is a precondition, as on a real API server: it protects a writer that
    // holds a copy of an object deleted and re-created under the same name.
    const wantUid = incoming.metadata?.uid;
    if (wantUid !== undefined && wantUid !== '' && wantUid !== old.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.plural}${t.group ? `.${t.group}` : ''} "${name}": Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${old.metadata.uid}`,
        { name, kind: t.plural, ...(t.group ? { group: t.group } : {}) },
      );
    }
    let next: KubeObject;
    if (sub === 'status') {
      if (!t.statusSubresource) throw errors.pathNotFound();
      next = { ...old, metadata: { ...old.metadata } };
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
      next = this.admitCustomResource(t, next, version, old);
    } else {
      const m = incoming.metadata;
      next = { ...incoming };
      next.metadata = {
        ...m,
        name,
        uid: old.metadata.uid,
        creationTimestamp: old.metadata.creationTimestamp,
        generation: old.metadata.generation,
      };
      if (t.namespaced) next.metadata.namespace = ns;
      if (old.metadata.generateName && m.generateName === undefined)
        next.metadata.generateName = old.metadata.generateName;
      for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
        if (old.metadata[k] !== undefined) next.metadata[k] = old.metadata[k] as never;
        else delete next.metadata[k];
      }
      if (t.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      if (old.metadata.deletionTimestamp) {
        const before = old.metadata.finalizers ?? [];
        const added = (next.metadata.finalizers ?? []).filter((f) => !before.includes(f));
        if (added.length > 0) {
          throw errors.invalid(
            this.ref(t),
            name,
            'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted',
            'metadata.finalizers',
          );
        }
      }
      prepareForUpdate(t, next, old, this.strategy);
      next = this.admitCustomResource(t, next, version, old);
      if (!specEqual(next, old)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (next.metadata.finalizers !== undefined && next.metadata.finalizers.length === 0)
      delete next.metadata.finalizers;
    // A write that changes nothing is not a write: no new resourceVersion, no event (as etcd's guaranteed update).
    if (jsonEqual(next, old)) return current;
    const c = this.store.collection(t);
    const key = objectKey(ns, name);
    const rv = this.store.nextResourceVersion();
    next.metadata.resourceVersion = String(rv);
    if (t.group === 'apiextensions.k8s.io' && t.plural === 'customresourcedefinitions') this.installCrd(next);
    if (
      next.metadata.deletionTimestamp &&
      !next.metadata.finalizers?.length &&
      !this.awaitsKubelet(t, next)
    ) {
      return this.finishDelete(t, c, key, next, rv);
    }
    return this.store.put(c, key, next, rv, 'MODIFIED', old);
  }

  /** A pod bound to a node and deleted gracefully waits for the kubelet stand-in to finish it. */
  private awaitsKubelet(t: ResourceType, obj: KubeObject): boolean {
    if (t.group !== '' || t.plural !== 'pods' || !this.options.gracefulPodDeletion()) return false;
    const spec = isPlainObject(obj.spec) ? obj.spec : {};
    return (
      typeof spec.nodeName === 'string' &&
      spec.nodeName !== '' &&
      (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0
    );
  }

  delete(t: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): Entry {
    const current = this.get(t, ns, name);
    const old = current.obj;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
        { name, kind: t.plural },
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
        { name, kind: t.plural },
      );
    }
    const c = this.store.collection(t);
    const key = objectKey(ns, name);
    if (t.group === '' && t.plural === 'namespaces') return this.deleteNamespace(t, c, key, current);
    if (t.group === 'apiextensions.k8s.io' && t.plural === 'customresourcedefinitions')
      this.uninstallCrd(old);

    let grace = opts.gracePeriodSeconds;
    if (t.group === '' && t.plural === 'pods') {
      const spec = isPlainObject(old.spec) ? old.spec : {};
      grace ??=
        typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    }
    const pending = { ...old, metadata: { ...old.metadata, deletionGracePeriodSeconds: grace ?? 0 } };
    const waits = (old.metadata.finalizers?.length ?? 0) > 0 || this.awaitsKubelet(t, pending);
    if (waits) {
      if (old.metadata.deletionTimestamp) {
        // Already terminating: only a shorter grace period changes anything (grace 0 forces a pod).
        if (grace === 0 && !(old.metadata.finalizers?.length ?? 0)) {
          return this.finishDelete(
            t,
            c,
            key,
            { ...old, metadata: { ...old.metadata } },
            this.store.nextResourceVersion(),
          );
        }
        return current;
      }
      const rv = this.store.nextResourceVersion();
      const next: KubeObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: nowTimestamp(grace ?? 0),
          deletionGracePeriodSeconds: grace ?? 0,
          resourceVersion: String(rv),
        },
      };
      return this.store.put(c, key, next, rv, 'MODIFIED', old);
    }
    const rv = this.store.nextResourceVersion();
    return this.finishDelete(t, c, key, { ...old, metadata: { ...old.metadata } }, rv);
  }

  deleteCollection(
    t: ResourceType,
    ns: string | undefined,
    listOpts: ListOptions,
    opts: DeleteOptions = {},
  ): Entry[] {
    const { entries } = this.list(t, ns, { ...listOpts, limit: 0, continueToken: null });
    const out: Entry[] = [];
    for (const e of entries) {
      const m = e.obj.metadata;
      try {
        out.push(this.delete(t, m.namespace, m.name!, opts));
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return out;
  }

  /** Removes the object for good; `final` is a private copy that gets the deletion's rv. */
  private finishDelete(t: ResourceType, c: Collection, key: string, final: KubeObject, rv: number): Entry {
    final.metadata.resourceVersion = String(rv);
    const entry = this.store.remove(c, key, final, rv);
    if (t.group === '' && t.plural === 'services') this.strategy.allocator.release(final);
    if (t.namespaced && final.metadata.namespace) this.maybeFinalizeNamespace(final.metadata.namespace);
    return entry;
  }

  private deleteNamespace(t: ResourceType, c: Collection, key: string, current: Entry): Entry {
    const old = current.obj;
    let entry = current;
    if (!old.metadata.deletionTimestamp) {
      const rv = this.store.nextResourceVersion();
      const next: KubeObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: nowTimestamp(),
          deletionGracePeriodSeconds: 0,
          resourceVersion: String(rv),
        },
        status: { ...(isPlainObject(old.status) ? old.status : {}), phase: 'Terminating' },
      };
      entry = this.store.put(c, key, next, rv, 'MODIFIED', old);
    }
    const ns = old.metadata.name!;
    for (const coll of this.store.all()) {
      if (!coll.type.namespaced) continue;
      const names = [...coll.range(`${ns}/`)].map(([, e]) => e.obj.metadata.name!);
      for (const n of names) {
        try {
          this.delete(coll.type, ns, n, {});
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
    this.maybeFinalizeNamespace(ns);
    return this.tryGet(t, undefined, ns) ?? entry;
  }

  /** A terminating namespace goes away once it holds nothing and has no finalizers of its own. */
  private maybeFinalizeNamespace(ns: string): void {
    const t = this.namespacesType();
    const c = this.store.collection(t);
    const e = c.get(ns);
    if (!e || !e.obj.metadata.deletionTimestamp || (e.obj.metadata.finalizers?.length ?? 0) > 0) return;
    for (const coll of this.store.all()) if (coll.type.namespaced && coll.hasNamespace(ns)) return;
    this.finishDelete(
      t,
      c,
      ns,
      { ...e.obj, metadata: { ...e.obj.metadata } },
      this.store.nextResourceVersion(),
    );
  }

  /** A CRD's resource becomes servable (and discoverable) as soon as the CRD is stored. */
  private installCrd(crd: KubeObject): void {
    const t = crdType(crd);
    const previous = this.registry.get(t.group, t.plural);
    if (previous?.builtin) return;
    this.registry.add(t);
    this.store.collection(t);
  }

  private uninstallCrd(crd: KubeObject): void {
    let t: ResourceType;
    try {
      t = crdType(crd);
    } catch {
      return;
    }
    const c = this.store.existing(t.group, t.plural);
    if (c) {
      for (const [key, e] of [...c.range('')]) {
        const final = cloneJson(e.obj);
        const rv = this.store.nextResourceVersion();
        final.metadata.resourceVersion = String(rv);
        this.store.remove(c, key, final, rv);
      }
      for (const w of c.watchers) w.end();
      c.watchers.clear();
    }
    this.registry.remove(t.group, t.plural);
    this.store.drop(t.group, t.plural);
  }
}
