/**
 * Legacy discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`). We answer plain
 * application/json even when kubectl asks for aggregated discovery: kubectl decides the format by
 * the response Content-Type and then falls back to per-group-version requests, which stay in step
 * with CRDs for free.
 */
import { ALL_VERBS, apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-ovnk8s-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  };
}

function groupEntry(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.groups().map((g) => groupEntry(g.name, g.versions)),
  };
}

export function apiGroup(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const g = registry.groups().find((x) => x.name === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.name, g.versions) };
}

function resourceEntries(t: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: ALL_VERBS,
  };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const out = [main];
  if (t.statusSubresource) {
    out.push({
      name: `${t.plural}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    });
  }
  return out;
}

export function apiResourceList(
  registry: ResourceRegistry,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const types = registry.typesIn(group, version);
  if (types.length === 0 && group !== '') return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(group, version),
    resources: types.flatMap(resourceEntries),
  };
}

/** Which aggregated discovery version the Accept header asks for, if any (v2 preferred). */
export function aggregatedVersionWanted(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  const wanted = new Set<string>();
  for (const offer of accept.split(',')) {
    const params = new Map(
      offer
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      wanted.add(params.get('v') ?? '');
    }
  }
  if (wanted.has('v2')) return 'v2';
  if (wanted.has('v2beta1')) return 'v2beta1';
  return undefined;
}

export function aggregatedContentType(v: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
}

function aggregatedResource(t: ResourceType, version: string): Record<string, unknown> {
  const responseKind = { group: t.group, version, kind: t.kind };
  const r: Record<string, unknown> = {
    resource: t.plural,
    responseKind,
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: ALL_VERBS,
  };
  if (t.shortNames.length) r.shortNames = t.shortNames;
  if (t.categories.length) r.categories = t.categories;
  if (t.statusSubresource)
    r.subresources = [{ subresource: 'status', responseKind, verbs: ['get', 'patch', 'update'] }];
  return r;
}

/**
 * Aggregated discovery (`/api` or `/apis` asked with the APIGroupDiscoveryList Accept): one
 * document listing every group, version and resource, which saves kubectl a request per group.
 */
export function aggregatedDiscovery(
  registry: ResourceRegistry,
  core: boolean,
  v: 'v2' | 'v2beta1',
): Record<string, unknown> {
  const groups = core ? [{ name: '', versions: ['v1'] }] : registry.groups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name },
      versions: g.versions.map((version) => ({
        version,
        resources: registry.typesIn(g.name, version).map((t) => aggregatedResource(t, version)),
        freshness: 'Current',
      })),
    })),
  };
}
