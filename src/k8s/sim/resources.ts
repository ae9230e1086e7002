/**
 * The resource types the simulator serves: the built-in ones and those CustomResourceDefinitions
 * add at run time. One `ResourceType` is one stored collection; CRDs with several served versions
 * map every version onto the same storage, as the real server does when no conversion is needed.
 */
import type { CrdLike } from '../crd-validation.js';
import { eventsV1View } from './event-conversion.js';
import { isPlainObject, type KubeObject } from './types.js';

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  /** Served versions, the preferred (storage) one first. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** A `/status` subresource exists: main-resource writes keep the old status, status writes keep the rest. */
  statusSubresource: boolean;
  /** Built-in types accept strategic merge patch; custom resources answer 415. */
  builtin: boolean;
  /** A CRD's additionalPrinterColumns (of its preferred version), for Table output. */
  printerColumns?: PrinterColumn[];
  /** The defining CRD's group, names and versions (with their OpenAPI schemas), for admission. */
  crd?: CrdLike;
  /** Served from another type's storage through a conversion (events.k8s.io/v1 Events). */
  view?: ResourceView;
}

/** A type stored as another one: objects are converted on the way in and out. */
export interface ResourceView {
  storageGroup: string;
  storagePlural: string;
  /** stored object -> this type's shape (apiVersion and kind included) */
  toView(obj: KubeObject): KubeObject;
  /** this type's shape -> the stored type's */
  fromView(obj: KubeObject): KubeObject;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority: number;
  description: string;
}

function printerColumnsOf(version: Record<string, unknown>): PrinterColumn[] | undefined {
  const cols = Array.isArray(version.additionalPrinterColumns)
    ? version.additionalPrinterColumns.filter(isPlainObject)
    : [];
  if (cols.length === 0) return undefined;
  return cols
    .filter((c) => typeof c.name === 'string' && typeof c.jsonPath === 'string')
    .map((c) => ({
      name: String(c.name),
      type: typeof c.type === 'string' ? c.type : 'string',
      jsonPath: String(c.jsonPath),
      priority: typeof c.priority === 'number' ? c.priority : 0,
      description: typeof c.description === 'string' ? c.description : String(c.name),
    }));
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function typeKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function builtin(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    versions: [version],
    plural,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    shortNames: [],
    categories: [],
    statusSubresource: false,
    builtin: true,
    ...extra,
  };
}

export function builtinTypes(): ResourceType[] {
  return [
    builtin('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], statusSubresource: true }),
    builtin('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], statusSubresource: true }),
    builtin('', 'v1', 'pods', 'Pod', true, {
      shortNames: ['po'],
      categories: ['all'],
      statusSubresource: true,
    }),
    builtin('', 'v1', 'services', 'Service', true, {
      shortNames: ['svc'],
      categories: ['all'],
      statusSubresource: true,
    }),
    builtin('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
    builtin('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
    builtin('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
    builtin('', 'v1', 'secrets', 'Secret', true),
    builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
    builtin('apps', 'v1', 'deployments', 'Deployment', true, {
      shortNames: ['deploy'],
      categories: ['all'],
      statusSubresource: true,
    }),
    builtin('apps', 'v1', 'statefulsets', 'StatefulSet', true, {
      shortNames: ['sts'],
      categories: ['all'],
      statusSubresource: true,
    }),
    builtin('apps', 'v1', 'daemonsets', 'DaemonSet', true, {
      shortNames: ['ds'],
      categories: ['all'],
      statusSubresource: true,
    }),
    builtin('apps', 'v1', 'replicasets', 'ReplicaSet', true, {
      shortNames: ['rs'],
      categories: ['all'],
      statusSubresource: true,
    }),
    builtin('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
    builtin('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'], view: eventsV1View }),
    builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
    builtin('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
    // RBAC objects are stored and served (kubectl apply of deploy/); nothing enforces them.
    builtin('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
    builtin('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
    builtin('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
    // A CRD on real clusters, hence no strategic merge patch.
    builtin('k8s.cni.cncf.io', 'v1', 'network-attachment-definitions', 'NetworkAttachmentDefinition', true, {
      singular: 'network-attachment-definition',
      shortNames: ['net-attach-def'],
      builtin: false,
    }),
    builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, {
      shortNames: ['crd', 'crds'],
      statusSubresource: true,
    }),
  ];
}

export class InvalidCrdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCrdError';
  }
}

/** The resource type a CustomResourceDefinition declares (throws InvalidCrdError on a malformed spec). */
export function typeFromCrd(crd: KubeObject): ResourceType {
  const spec = crd.spec;
  if (!isPlainObject(spec)) throw new InvalidCrdError('spec is required');
  const names = spec.names;
  const group = spec.group;
  if (typeof group !== 'string' || !group) throw new InvalidCrdError('spec.group is required');
  if (!isPlainObject(names) || typeof names.plural !== 'string' || typeof names.kind !== 'string') {
    throw new InvalidCrdError('spec.names.plural and spec.names.kind are required');
  }
  if (crd.metadata.name !== `${names.plural}.${group}`) {
    throw new InvalidCrdError(
      `metadata.name must be spec.names.plural+"."+spec.group ("${names.plural}.${group}")`,
    );
  }
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [];
  const served = versions.filter((v) => v.served !== false && typeof v.name === 'string');
  if (served.length === 0) throw new InvalidCrdError('spec.versions must hold at least one served version');
  // Preferred first: the storage version, then the rest in declared order.
  served.sort((a, b) => Number(b.storage === true) - Number(a.storage === true));
  const statusSubresource = served.some(
    (v) => isPlainObject(v.subresources) && v.subresources.status !== undefined,
  );
  return {
    group,
    versions: served.map((v) => String(v.name)),
    plural: names.plural,
    singular:
      typeof names.singular === 'string' && names.singular ? names.singular : names.kind.toLowerCase(),
    kind: names.kind,
    listKind: typeof names.listKind === 'string' && names.listKind ? names.listKind : `${names.kind}List`,
    namespaced: spec.scope !== 'Cluster',
    shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
    categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
    statusSubresource,
    builtin: false,
    ...(printerColumnsOf(served[0]!) ? { printerColumns: printerColumnsOf(served[0]!)! } : {}),
    crd: {
      spec: { group, names: { kind: names.kind, plural: names.plural }, versions: served },
    } as unknown as CrdLike,
  };
}

/** Lookup of resource types by group+plural and by group+version (for discovery and routing). */
export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceType>();

  constructor(types: ResourceType[]) {
    for (const t of types) this.byKey.set(typeKey(t.group, t.plural), t);
  }

  add(t: ResourceType): void {
    this.byKey.set(typeKey(t.group, t.plural), t);
  }

  remove(group: string, plural: string): void {
    this.byKey.delete(typeKey(group, plural));
  }

  get(group: string, plural: string): ResourceType | undefined {
    return this.byKey.get(typeKey(group, plural));
  }

  /** The type served at group/version/plural, if that version is served. */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.byKey.get(typeKey(group, plural));
    return t && t.versions.includes(version) ? t : undefined;
  }

  findByKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    for (const t of this.byKey.values()) {
      if (t.group === group && t.kind === kind && t.versions.includes(version!)) return t;
    }
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  /** Groups in a stable order (built-ins first, as registered), each with its served versions. */
  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const t of this.byKey.values()) {
      if (t.group === '') continue;
      const vs = out.get(t.group) ?? [];
      for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
      out.set(t.group, vs);
    }
    return [...out].map(([name, versions]) => ({ name, versions }));
  }

  typesIn(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.versions.includes(version));
  }
}
