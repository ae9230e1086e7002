/**
 * HTTP routing of the Kubernetes REST paths onto ObjectApi, discovery and watches.
 *   /api/v1[/namespaces/<ns>]/<plural>[/<name>[/status]]
 *   /apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>[/status]]
 * plus the legacy `/watch/` path prefix and `?watch=true`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListResult, ObjectApi, PatchType, DeleteOptions } from './api.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  aggregatedVersionWanted,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  SERVER_VERSION,
} from './discovery.js';
import { ApiError, errors } from './errors.js';
import type { FaultState } from './faults.js';
import { parseJsonBody, readBody, sendError, sendJson, sendJsonText } from './http-io.js';
import { apiVersionOf, type ResourceRegistry, type ResourceType, type ResourceView } from './resources.js';
import { allOf, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { entryJson, type Entry, type Store } from './store.js';
import { toTable } from './table.js';
import { Watcher, type WatchHub } from './watch.js';
import { isPlainObject, type KubeObject } from './types.js';

export interface RouterDeps {
  api: ObjectApi;
  store: Store;
  registry: ResourceRegistry;
  faults: FaultState;
  hub: WatchHub;
  bookmarkIntervalMs: number;
  counters: { requests: number; byMethod: Record<string, number> };
}

interface ResourceRoute {
  type: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim();
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  return undefined;
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw errors.badRequest(`invalid ${name} "${v}"`);
  return n;
}

const NO_QUERY = '';

/**
 * Path segments (decoded) and query of a request target. The common shape (`/a/b?q`) is split
 * directly; anything a URL parser would normalise (dot segments, backslashes, an absolute URL)
 * goes through WHATWG URL as before.
 */
function splitTarget(target: string): { segs: string[]; query: URLSearchParams } {
  const plain =
    target.startsWith('/') &&
    !target.startsWith('//') &&
    !target.includes('/.') &&
    !target.includes('\\') &&
    !/%2e/i.test(target);
  if (plain) {
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const hash = path.indexOf('#');
    const clean = hash < 0 ? path : path.slice(0, hash);
    const segs: string[] = [];
    // decodeURIComponent changes only %XX sequences: most segments have none.
    for (const seg of clean.split('/')) {
      if (seg.length > 0) segs.push(seg.includes('%') ? decodeURIComponent(seg) : seg);
    }
    return { segs, query: new URLSearchParams(q < 0 ? NO_QUERY : target.slice(q + 1).split('#')[0]) };
  }
  const url = new URL(target, 'http://sim');
  const segs = url.pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
  return { segs, query: url.searchParams };
}

export class Router {
  constructor(private readonly deps: RouterDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { faults } = this.deps;
    const { counters } = this.deps;
    counters.requests += 1;
    const method = req.method ?? 'GET';
    counters.byMethod[method] = (counters.byMethod[method] ?? 0) + 1;
    try {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      const { segs, query } = splitTarget(req.url ?? '/');
      if (this.serveFixed(segs, req, res)) return;
      const route = this.resolve(segs);
      if (!route) throw errors.pathNotFound();
      if (faults.shouldFail()) {
        throw faults.errorCode === 429 ? errors.tooManyRequests() : errors.internal('injected fault');
      }
      await this.serveResource(route, query, req, res);
    } catch (err) {
      sendError(res, err);
    }
  }

  /** Version, discovery, health and openapi (404: clients must use --validate=false). */
  private serveFixed(segs: string[], req: IncomingMessage, res: ServerResponse): boolean {
    const { registry } = this.deps;
    const path = segs.join('/');
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === 'version') return (sendJson(res, 200, SERVER_VERSION), true);
    if (path === 'healthz' || path === 'livez' || path === 'readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return true;
    }
    if (segs[0] === 'openapi' || path === 'swagger-2.0.0.pb-v1') throw errors.pathNotFound();
    if (path === 'api' || path === 'apis') {
      // kubectl decides between aggregated and legacy discovery by the response Content-Type.
      const v = aggregatedVersionWanted(req.headers.accept);
      if (v) {
        const body = JSON.stringify(aggregatedDiscovery(registry, path === 'api', v));
        sendJsonText(res, 200, body, { 'Content-Type': aggregatedContentType(v) });
      } else sendJson(res, 200, path === 'api' ? apiVersions() : apiGroupList(registry));
      return true;
    }
    if (path === 'api/v1') return (sendJson(res, 200, apiResourceList(registry, '', 'v1')), true);
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroup(registry, segs[1]!);
      if (!g) throw errors.pathNotFound();
      return (sendJson(res, 200, g), true);
    }
    if (segs[0] === 'apis' && segs.length === 3) {
      const l = apiResourceList(registry, segs[1]!, segs[2]!);
      if (!l) throw errors.pathNotFound();
      return (sendJson(res, 200, l), true);
    }
    return false;
  }

  private resolve(segs: string[]): ResourceRoute | undefined {
    const { registry } = this.deps;
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') {
      group = '';
      version = 'v1';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 4) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    let watch = false;
    if (rest[0] === 'watch') {
      watch = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = registry.lookup(group, version, rest[2]!);
      if (inner?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    if (rest.length === 0 || rest.length > 3) return undefined;
    const type = registry.lookup(group, version, rest[0]!);
    if (!type) return undefined;
    if (!type.namespaced && namespace !== undefined) return undefined;
    const route: ResourceRoute = { type, version, watch };
    if (namespace !== undefined) route.namespace = namespace;
    if (rest[1] !== undefined) route.name = rest[1];
    if (rest[2] !== undefined) route.subresource = rest[2];
    if (type.namespaced && route.name !== undefined && namespace === undefined) return undefined;
    if (route.subresource !== undefined && !(route.subresource === 'status' && type.statusSubresource))
      return undefined;
    return route;
  }

  private async serveResource(
    route: ResourceRoute,
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { api } = this.deps;
    const { namespace: ns, name } = route;
    // A view (events.k8s.io/v1 Events) reads and writes another type's storage through a conversion.
    const view = route.type.view;
    const type = view ? this.deps.registry.get(view.storageGroup, view.storagePlural)! : route.type;
    const sub = route.subresource === 'status' ? 'status' : undefined;
    const method = req.method ?? 'GET';
    const watch = route.watch || q.get('watch') === 'true' || q.get('watch') === '1';
    if (name === undefined) {
      if (method === 'GET' && watch) return this.serveWatch(route, q, req, res);
      if (method === 'GET') return this.sendList(route, api.list(type, ns, this.listOptions(q)), req, res);
      if (method === 'POST') {
        const entry = api.create(type, ns, await this.objectBody(req, view));
        return this.sendEntry(res, 201, entry, route);
      }
      if (method === 'DELETE') {
        const opts = this.deleteOptions(q, await this.jsonBody(req));
        const gone = api.deleteCollection(type, ns, this.listOptions(q), opts);
        return this.sendList(
          route,
          { entries: gone, resourceVersion: this.deps.store.resourceVersion },
          req,
          res,
        );
      }
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    if (watch && method === 'GET') {
      // Watching one object: a name field selector on the collection.
      q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
      return this.serveWatch({ ...route, name: undefined }, q, req, res);
    }
    switch (method) {
      case 'GET':
        return this.sendEntry(res, 200, api.get(type, ns, name), route, wantsTable(req));
      case 'PUT': {
        const entry = api.update(type, ns, name, await this.objectBody(req, view), sub);
        return this.sendEntry(res, 200, entry, route);
      }
      case 'PATCH': {
        const pt = patchTypeOf(req.headers['content-type']);
        const raw = await readBody(req);
        if (!pt) throw errors.unsupportedMediaType();
        const entry = api.patch(type, ns, name, pt, parseJsonBody(raw), sub, view);
        return this.sendEntry(res, 200, entry, route);
      }
      case 'DELETE': {
        if (sub)
          throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        const opts = this.deleteOptions(q, await this.jsonBody(req));
        return this.sendEntry(res, 200, api.delete(type, ns, name, opts), route);
      }
      default:
        throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  /** A create/update body, converted from the view's shape when the route is a view. */
  private async objectBody(req: IncomingMessage, view: ResourceView | undefined): Promise<unknown> {
    const b = await this.jsonBody(req);
    return view && isPlainObject(b) ? view.fromView(b as KubeObject) : b;
  }

  /** Only JSON bodies: protobuf (kubectl create service/deployment use it) is answered with 415. */
  private async jsonBody(req: IncomingMessage): Promise<unknown> {
    const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
    const body = await readBody(req);
    if (body.length > 0 && ct !== 'application/json' && ct !== '*/*') {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json`,
      );
    }
    return parseJsonBody(body);
  }

  private listOptions(q: URLSearchParams): {
    labelSelector: string | null;
    fieldSelector: string | null;
    limit?: number;
    continueToken: string | null;
  } {
    const limit = intParam(q, 'limit');
    return {
      labelSelector: q.get('labelSelector'),
      fieldSelector: q.get('fieldSelector'),
      ...(limit !== undefined ? { limit } : {}),
      continueToken: q.get('continue'),
    };
  }

  private deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
    const opts: DeleteOptions = {};
    if (isPlainObject(body)) {
      if (typeof body.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = body.gracePeriodSeconds;
      if (typeof body.propagationPolicy === 'string') opts.propagationPolicy = body.propagationPolicy;
      if (isPlainObject(body.preconditions))
        opts.preconditions = body.preconditions as DeleteOptions['preconditions'] & object;
    }
    const grace = intParam(q, 'gracePeriodSeconds');
    if (grace !== undefined) opts.gracePeriodSeconds = grace;
    const pp = q.get('propagationPolicy');
    if (pp) opts.propagationPolicy = pp;
    return opts;
  }

  private sendEntry(
    res: ServerResponse,
    code: number,
    entry: Entry,
    route: ResourceRoute,
    table = false,
  ): void {
    const apiVersion = apiVersionOf(route.type.group, route.version);
    const view = route.type.view;
    if (table) {
      sendJson(
        res,
        code,
        toTable(route.type, [entry.obj], { resourceVersion: entry.obj.metadata.resourceVersion }),
      );
      return;
    }
    const body = view
      ? JSON.stringify(view.toView(entry.obj))
      : entry.obj.apiVersion === apiVersion
        ? entryJson(entry)
        : JSON.stringify({ ...entry.obj, apiVersion });
    sendJsonText(res, code, body);
  }

  private sendList(
    route: ResourceRoute,
    result: ListResult,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const meta: Record<string, unknown> = { resourceVersion: String(result.resourceVersion) };
    if (result.continueToken) meta.continue = result.continueToken;
    if (result.remainingItemCount !== undefined) meta.remainingItemCount = result.remainingItemCount;
    if (wantsTable(req)) {
      sendJson(
        res,
        200,
        toTable(
          route.type,
          result.entries.map((e) => e.obj),
          meta,
        ),
      );
      return;
    }
    const apiVersion = apiVersionOf(route.type.group, route.version);
    // Items are concatenated from each object's cached JSON: no re-serialisation of the store.
    const view = route.type.view;
    const items = result.entries.map((e) =>
      view
        ? JSON.stringify(view.toView(e.obj))
        : e.obj.apiVersion === apiVersion
          ? entryJson(e)
          : JSON.stringify({ ...e.obj, apiVersion }),
    );
    const head = JSON.stringify({ kind: route.type.listKind, apiVersion, metadata: meta });
    sendJsonText(res, 200, `${head.slice(0, -1)},"items":[${items.join(',')}]}`);
  }

  private serveWatch(
    route: ResourceRoute,
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const { store, hub, bookmarkIntervalMs } = this.deps;
    const matcher = allOf(
      parseLabelSelector(q.get('labelSelector')),
      parseFieldSelector(q.get('fieldSelector')),
    );
    const timeout = intParam(q, 'timeoutSeconds');
    const rv = q.get('resourceVersion');
    const w = new Watcher(
      res,
      {
        type: route.type,
        version: route.version,
        ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
        ...(matcher ? { matcher } : {}),
        table: wantsTable(req),
        bookmarks: q.get('allowWatchBookmarks') === 'true',
        ...(rv !== null ? { resourceVersion: rv } : {}),
        sendInitialEvents: q.get('sendInitialEvents') === 'true',
        ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
        bookmarkIntervalMs,
      },
      store,
      store.collection(
        route.type.view
          ? this.deps.registry.get(route.type.view.storageGroup, route.type.view.storagePlural)!
          : route.type,
      ),
      hub,
    );
    w.start();
  }
}
