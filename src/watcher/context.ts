/**
 * What every controller shares: the informer stores, the NB view and handle, the batcher, the
 * IPAM state, the Kubernetes clients for annotation writes, and a way to queue keys.
 */
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Annotator } from '../k8s/annotation-offload.js';
import type { Informer } from '../k8s/informer.js';
import type { ResourceClient } from '../k8s/resources.js';
import type { ClusterConfig, DesiredRow } from '../ovn/intent/index.js';
import type { OwnerRef } from '../ovn/names.js';
import { reconcile, type ReconcileResult } from '../ovn/reconcile/reconcile.js';
import type { NbView } from '../ovn/reconcile/view.js';
import type { TxnBatcher } from './batcher.js';
import type { ClusterIpam } from './ipam-state.js';

export interface WatcherLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Informers {
  nodes: Informer<V1Node>;
  pods: Informer<V1Pod>;
  services: Informer<V1Service>;
  endpointSlices: Informer<V1EndpointSlice>;
}

export interface Clients {
  nodes: ResourceClient<V1Node>;
  pods: ResourceClient<V1Pod>;
}

/** Queue keys: one per object, prefixed by kind. */
export const CLUSTER_KEY = 'cluster';
export const nodeKey = (name: string): string => `node:${name}`;
export const podKey = (nsName: string): string => `pod:${nsName}`;
export const serviceKey = (nsName: string): string => `svc:${nsName}`;

export interface ControllerContext {
  config: ClusterConfig;
  informers: Informers;
  clients: Clients;
  /** pod annotation writes (a worker thread unless the watcher was told otherwise) */
  annotator: Annotator;
  view: NbView;
  batcher: TxnBatcher;
  ipam: ClusterIpam;
  log: WatcherLogger;
  enqueue(key: string): void;
}

/** A desired row referred to something that is not in NB yet (e.g. the node switch of a new pod). */
export class DependencyNotReadyError extends Error {
  override name = 'DependencyNotReadyError';
}

/**
 * Reconciles one owner's rows and commits the operations through the batcher. Throws
 * DependencyNotReadyError when some row had to be skipped, so the key is retried later.
 */
export async function applyOwned(
  ctx: ControllerContext,
  key: string,
  owner: OwnerRef,
  rows: readonly DesiredRow[],
  view: NbView = ctx.view,
): Promise<ReconcileResult> {
  const result = reconcile(view, rows, { owners: [owner], uuidNamePrefix: ctx.batcher.uuidPrefix() });
  await ctx.batcher.submit(key, result.operations);
  if (result.skipped.length > 0) {
    const s = result.skipped[0]!;
    throw new DependencyNotReadyError(`${key}: ${s.table} ${s.key} skipped: ${s.reason}`);
  }
  return result;
}
