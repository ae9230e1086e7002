/**
 * The Kubernetes resources our controllers read and annotate, and one small client per resource
 * (paginated list, get, patch, watch path) built on @kubernetes/client-node's typed APIs.
 *
 * Built-in types go through the typed APIs (CoreV1Api, DiscoveryV1Api, NetworkingV1Api), which
 * need no discovery round trip; custom resources (NetworkAttachmentDefinitions and our own) go
 * through CustomObjectsApi by group/version/plural. Typed list responses are deserialized into
 * client-node's model classes (Date timestamps); watch events arrive as plain JSON, so `decode`
 * puts them through the same ObjectSerializer and a store never mixes the two shapes.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  NetworkingV1Api,
  Observable,
  PatchStrategy,
  ResponseContext,
  setHeaderOptions,
  type ObservableMiddleware,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
// Not re-exported by the package index (1.4); the package has no "exports" map, so the deep
// import is allowed. It is the same serializer the typed APIs use on list responses.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { makeApiClient } from './api-client.js';

/** Identity of a resource collection. `T` is the object type its client returns. */
export interface ResourceType<T extends KubernetesObject = KubernetesObject> {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** client-node model name (e.g. 'V1Pod') for built-ins; absent for custom resources (plain JSON). */
  readonly model?: string;
  /** Phantom field carrying `T`; never set. */
  readonly __object?: T;
}

/** k8s.cni.cncf.io/v1 NetworkAttachmentDefinition (Multus); `spec.config` is a CNI config JSON string. */
export interface NetworkAttachmentDefinition extends KubernetesObject {
  spec?: { config?: string };
}

export const NODES: ResourceType<V1Node> = {
  group: '',
  version: 'v1',
  plural: 'nodes',
  kind: 'Node',
  namespaced: false,
  model: 'V1Node',
};
export const PODS: ResourceType<V1Pod> = {
  group: '',
  version: 'v1',
  plural: 'pods',
  kind: 'Pod',
  namespaced: true,
  model: 'V1Pod',
};
export const SERVICES: ResourceType<V1Service> = {
  group: '',
  version: 'v1',
  plural: 'services',
  kind: 'Service',
  namespaced: true,
  model: 'V1Service',
};
export const NAMESPACES: ResourceType<V1Namespace> = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
  model: 'V1Namespace',
};
export const ENDPOINT_SLICES: ResourceType<V1EndpointSlice> = {
  group: 'discovery.k8s.io',
  version: 'v1',
  plural: 'endpointslices',
  kind: 'EndpointSlice',
  namespaced: true,
  model: 'V1EndpointSlice',
};
export const NETWORK_POLICIES: ResourceType<V1NetworkPolicy> = {
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'networkpolicies',
  kind: 'NetworkPolicy',
  namespaced: true,
  model: 'V1NetworkPolicy',
};
export const NETWORK_ATTACHMENT_DEFINITIONS: ResourceType<NetworkAttachmentDefinition> = {
  group: 'k8s.cni.cncf.io',
  version: 'v1',
  plural: 'network-attachment-definitions',
  kind: 'NetworkAttachmentDefinition',
  namespaced: true,
};

/** Any custom resource, served through CustomObjectsApi. */
export function customResource<T extends KubernetesObject = KubernetesObject>(r: {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}): ResourceType<T> {
  return { ...r };
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The collection path across all namespaces (what list and watch use). */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  return namespace && type.namespaced
    ? `${base}/namespaces/${namespace}/${type.plural}`
    : `${base}/${type.plural}`;
}

/** `namespace/name` for namespaced objects, `name` otherwise (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by `objectKey`. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface ListParams {
  limit?: number;
  continueToken?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continueToken: string | undefined;
}

/** The operations the access layer needs on one resource collection. */
export interface ResourceClient<T extends KubernetesObject> {
  readonly type: ResourceType<T>;
  /** One page of the list across all namespaces. */
  list(params: ListParams): Promise<ListPage<T>>;
  get(name: string, namespace?: string): Promise<T>;
  /** Patch with the given strategy (content type); `body` is the patch document. */
  patch(name: string, namespace: string | undefined, body: unknown, strategy?: PatchStrategy): Promise<T>;
  /**
   * The same patch when the caller has no use for the answer: the server's copy of the object is
   * read off the connection but neither parsed nor decoded (a controller annotating every pod
   * would otherwise decode each pod once more). Errors are reported as by `patch`.
   */
  patchWithoutAnswer(
    name: string,
    namespace: string | undefined,
    body: unknown,
    strategy?: PatchStrategy,
  ): Promise<void>;
  /** Turns a watch event's plain JSON object into the shape `list` returns. */
  decode(raw: unknown): T;
}

interface ListMetaLike {
  resourceVersion?: string;
  _continue?: string;
  continue?: string;
}

function page<T>(res: { items?: T[]; metadata?: ListMetaLike }): ListPage<T> {
  const meta = res.metadata ?? {};
  return {
    items: res.items ?? [],
    resourceVersion: meta.resourceVersion ?? '',
    continueToken: meta._continue || meta.continue || undefined,
  };
}

function listArgs(p: ListParams): {
  limit?: number;
  _continue?: string;
  labelSelector?: string;
  fieldSelector?: string;
} {
  return {
    limit: p.limit,
    _continue: p.continueToken,
    labelSelector: p.labelSelector,
    fieldSelector: p.fieldSelector,
  };
}

function requireNs(type: ResourceType, namespace: string | undefined): string {
  if (!namespace) throw new TypeError(`${type.kind} is namespaced: a namespace is required`);
  return namespace;
}

/** The typed-API operations of one built-in resource. */
interface BuiltinOps {
  list(p: ListParams): Promise<{ items?: unknown[]; metadata?: ListMetaLike }>;
  get(name: string, ns: string | undefined): Promise<unknown>;
  patch(
    name: string,
    ns: string | undefined,
    body: unknown,
    opts: ReturnType<typeof setHeaderOptions>,
  ): Promise<unknown>;
}

function builtinOps(kc: KubeConfig, type: ResourceType): BuiltinOps | undefined {
  const core = (): CoreV1Api => makeApiClient(kc, CoreV1Api);
  switch (`${type.group}/${type.plural}`) {
    case '/nodes': {
      const api = core();
      return {
        list: (p) => api.listNode(listArgs(p)),
        get: (name) => api.readNode({ name }),
        patch: (name, _ns, body, o) => api.patchNode({ name, body }, o),
      };
    }
    case '/namespaces': {
      const api = core();
      return {
        list: (p) => api.listNamespace(listArgs(p)),
        get: (name) => api.readNamespace({ name }),
        patch: (name, _ns, body, o) => api.patchNamespace({ name, body }, o),
      };
    }
    case '/pods': {
      const api = core();
      return {
        list: (p) => api.listPodForAllNamespaces(listArgs(p)),
        get: (name, ns) => api.readNamespacedPod({ name, namespace: requireNs(type, ns) }),
        patch: (name, ns, body, o) =>
          api.patchNamespacedPod({ name, namespace: requireNs(type, ns), body }, o),
      };
    }
    case '/services': {
      const api = core();
      return {
        list: (p) => api.listServiceForAllNamespaces(listArgs(p)),
        get: (name, ns) => api.readNamespacedService({ name, namespace: requireNs(type, ns) }),
        patch: (name, ns, body, o) =>
          api.patchNamespacedService({ name, namespace: requireNs(type, ns), body }, o),
      };
    }
    case 'discovery.k8s.io/endpointslices': {
      const api = makeApiClient(kc, DiscoveryV1Api);
      return {
        list: (p) => api.listEndpointSliceForAllNamespaces(listArgs(p)),
        get: (name, ns) => api.readNamespacedEndpointSlice({ name, namespace: requireNs(type, ns) }),
        patch: (name, ns, body, o) =>
          api.patchNamespacedEndpointSlice({ name, namespace: requireNs(type, ns), body }, o),
      };
    }
    case 'networking.k8s.io/networkpolicies': {
      const api = makeApiClient(kc, NetworkingV1Api);
      return {
        list: (p) => api.listNetworkPolicyForAllNamespaces(listArgs(p)),
        get: (name, ns) => api.readNamespacedNetworkPolicy({ name, namespace: requireNs(type, ns) }),
        patch: (name, ns, body, o) =>
          api.patchNamespacedNetworkPolicy({ name, namespace: requireNs(type, ns), body }, o),
      };
    }
    default:
      return undefined;
  }
}

function customOps(kc: KubeConfig, type: ResourceType): BuiltinOps {
  const api = makeApiClient(kc, CustomObjectsApi);
  const gvp = { group: type.group, version: type.version, plural: type.plural };
  if (!type.namespaced) {
    return {
      list: (p) => api.listClusterCustomObject({ ...gvp, ...listArgs(p) }),
      get: (name) => api.getClusterCustomObject({ ...gvp, name }),
      patch: (name, _ns, body, o) => api.patchClusterCustomObject({ ...gvp, name, body }, o),
    };
  }
  return {
    list: (p) => api.listCustomObjectForAllNamespaces({ ...gvp, ...listArgs(p) }),
    get: (name, ns) => api.getNamespacedCustomObject({ ...gvp, namespace: requireNs(type, ns), name }),
    patch: (name, ns, body, o) =>
      api.patchNamespacedCustomObject({ ...gvp, namespace: requireNs(type, ns), name, body }, o),
  };
}

/** A successful answer's body is drained (so the connection is free again) and replaced by `{}`. */
const DISCARD_SUCCESS_BODY: ObservableMiddleware = {
  pre: (request) => new Observable(Promise.resolve(request)),
  post: (response) =>
    new Observable(
      (async () => {
        if (response.httpStatusCode < 200 || response.httpStatusCode >= 300) return response;
        await response.body.binary();
        return new ResponseContext(response.httpStatusCode, response.headers, {
          text: () => Promise.resolve('{}'),
          binary: () => Promise.resolve(Buffer.from('{}')),
        });
      })(),
    ),
};

// request options per patch strategy, built once rather than per request
const patchOptions = new Map<string, ReturnType<typeof setHeaderOptions>>();
function patchOptionsFor(
  strategy: PatchStrategy,
  withoutAnswer: boolean,
): ReturnType<typeof setHeaderOptions> {
  const key = `${strategy}\u0000${withoutAnswer}`;
  let o = patchOptions.get(key);
  if (!o) {
    o = setHeaderOptions('Content-Type', strategy);
    if (withoutAnswer) o = { ...o, middleware: [...(o.middleware ?? []), DISCARD_SUCCESS_BODY] };
    patchOptions.set(key, o);
  }
  return o;
}

/** A client for `type` over the connection `kc`. */
export function resourceClient<T extends KubernetesObject>(
  kc: KubeConfig,
  type: ResourceType<T>,
): ResourceClient<T> {
  const ops = (type.group === '' || type.model ? builtinOps(kc, type) : undefined) ?? customOps(kc, type);
  const model = type.model;
  return {
    type,
    async list(params) {
      return page((await ops.list(params)) as { items?: T[]; metadata?: ListMetaLike });
    },
    async get(name, namespace) {
      return (await ops.get(name, namespace)) as T;
    },
    async patch(name, namespace, body, strategy = PatchStrategy.MergePatch) {
      // The generated patch methods default to JSON patch; the content type must be set explicitly.
      return (await ops.patch(name, namespace, body, patchOptionsFor(strategy, false))) as T;
    },
    async patchWithoutAnswer(name, namespace, body, strategy = PatchStrategy.MergePatch) {
      await ops.patch(name, namespace, body, patchOptionsFor(strategy, true));
    },
    decode(raw) {
      return (model ? ObjectSerializer.deserialize(raw, model) : raw) as T;
    },
  };
}

/** One client per resource type over `kc`, made on first use (for code that writes to several types). */
export function resourceClients(kc: KubeConfig): (type: ResourceType) => ResourceClient<KubernetesObject> {
  const clients = new Map<string, ResourceClient<KubernetesObject>>();
  return (type) => {
    const key = `${type.group}/${type.version}/${type.plural}`;
    let c = clients.get(key);
    if (!c) clients.set(key, (c = resourceClient(kc, type)));
    return c;
  };
}
