/**
 * Shared informers, one per resource type and selector pair, like client-go's
 * SharedInformerFactory: several controllers watching pods share one list/watch and one cache.
 */
import type {
  KubeConfig,
  KubernetesObject,
  V1EndpointSlice,
  V1Namespace,
  V1NetworkPolicy,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { Informer, waitForCacheSync, type InformerOptions } from './informer.js';
import {
  ENDPOINT_SLICES,
  NAMESPACES,
  NETWORK_ATTACHMENT_DEFINITIONS,
  NETWORK_POLICIES,
  NODES,
  PODS,
  SERVICES,
  type NetworkAttachmentDefinition,
  type ResourceType,
} from './resources.js';
import type { IndexFunc } from './store.js';

/** Label EndpointSlices carry to name their Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Index names the factory installs. */
export const POD_NODE_INDEX = 'byNode';
export const ENDPOINTSLICE_SERVICE_INDEX = 'byService';
export const NAMESPACE_INDEX = 'byNamespace';

/** Pods by `spec.nodeName` (unscheduled pods are in no bucket). */
export const podsByNode: IndexFunc<V1Pod> = (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []);

/** EndpointSlices by their Service's key `namespace/name` (the same key a Service informer uses). */
export const endpointSlicesByService: IndexFunc<V1EndpointSlice> = (slice) => {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc && slice.metadata?.namespace ? [`${slice.metadata.namespace}/${svc}`] : [];
};

/** Any namespaced object by namespace. */
export const byNamespace: IndexFunc<KubernetesObject> = (o) =>
  o.metadata?.namespace ? [o.metadata.namespace] : [];

export type FactoryOptions = Pick<
  InformerOptions<KubernetesObject>,
  'pageSize' | 'backoff' | 'watchTimeoutSeconds' | 'logger'
>;

export interface SelectorOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubernetesObject>>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly defaults: FactoryOptions = {},
  ) {}

  /** The shared informer of `type` with these selectors, created on first use (not started). */
  informerFor<T extends KubernetesObject>(
    type: ResourceType<T>,
    opts: SelectorOptions & { indexers?: Readonly<Record<string, IndexFunc<T>>> } = {},
  ): Informer<T> {
    const key = `${type.group}/${type.version}/${type.plural}?l=${opts.labelSelector ?? ''}&f=${opts.fieldSelector ?? ''}`;
    let inf = this.informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      const indexers: Record<string, IndexFunc<T>> = { ...(opts.indexers ?? {}) };
      if (type.namespaced) indexers[NAMESPACE_INDEX] ??= byNamespace as IndexFunc<T>;
      inf = new Informer<T>(this.kc, type, {
        ...(this.defaults as InformerOptions<T>),
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        indexers,
      });
      this.informers.set(key, inf as unknown as Informer<KubernetesObject>);
    } else if (opts.indexers) {
      // Shared informer asked for by another controller: give it the indexes this caller needs.
      inf.addIndexers(opts.indexers);
    }
    return inf;
  }

  nodes(sel: SelectorOptions = {}): Informer<V1Node> {
    return this.informerFor(NODES, sel);
  }

  /** Pods, indexed by node (`POD_NODE_INDEX`). */
  pods(sel: SelectorOptions = {}): Informer<V1Pod> {
    return this.informerFor(PODS, { ...sel, indexers: { [POD_NODE_INDEX]: podsByNode } });
  }

  services(sel: SelectorOptions = {}): Informer<V1Service> {
    return this.informerFor(SERVICES, sel);
  }

  /** EndpointSlices, indexed by Service key (`ENDPOINTSLICE_SERVICE_INDEX`). */
  endpointSlices(sel: SelectorOptions = {}): Informer<V1EndpointSlice> {
    return this.informerFor(ENDPOINT_SLICES, {
      ...sel,
      indexers: { [ENDPOINTSLICE_SERVICE_INDEX]: endpointSlicesByService },
    });
  }

  namespaces(sel: SelectorOptions = {}): Informer<V1Namespace> {
    return this.informerFor(NAMESPACES, sel);
  }

  networkPolicies(sel: SelectorOptions = {}): Informer<V1NetworkPolicy> {
    return this.informerFor(NETWORK_POLICIES, sel);
  }

  networkAttachmentDefinitions(sel: SelectorOptions = {}): Informer<NetworkAttachmentDefinition> {
    return this.informerFor(NETWORK_ATTACHMENT_DEFINITIONS, sel);
  }

  /** Starts every informer created so far. */
  startAll(): void {
    for (const inf of this.informers.values()) inf.start();
  }

  /** Waits until every informer created so far has synced. */
  waitForSync(): Promise<void> {
    return waitForCacheSync(...this.informers.values());
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
