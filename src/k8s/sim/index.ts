/**
 * The Kubernetes API simulator, in-process: `startK8sSim()` serves the Kubernetes REST and watch
 * protocol on 127.0.0.1 for kubectl and @kubernetes/client-node. See router.ts for the paths,
 * api.ts for the semantics, controllers/ for the optional stand-ins.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { ObjectApi } from './api.js';
import { EndpointSliceController } from './controllers/endpointslices.js';
import { KubeletStandIn } from './controllers/kubelet.js';
import { FaultState, type FaultControls } from './faults.js';
import { kubeconfigFor } from './kubeconfig.js';
import { loadState, StatePersister } from './persistence.js';
import { builtinTypes, ResourceRegistry } from './resources.js';
import { Router } from './router.js';
import { applySeed, loadSeedObjects } from './seed.js';
import { Store } from './store.js';
import { ServiceAllocator } from './strategies.js';
import { WatchHub } from './watch.js';

export interface K8sSimOptions {
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Persist all objects and the resourceVersion counter here (loaded at start if present). */
  statePath?: string;
  /** Multi-document YAML files applied at start (Namespaces, then CRDs, then the rest). */
  seedFiles?: string[];
  controllers?: { endpointSlices?: boolean; kubelet?: boolean };
  /** Events kept per resource for watch resume; an older resourceVersion answers 410. Default 10,000. */
  watchHistory?: number;
  /** Period of BOOKMARK events on watches that allow them. Default 1,000 ms. */
  bookmarkIntervalMs?: number;
}

export interface K8sSimStats {
  /** HTTP requests received. */
  requests: number;
  /** Watch streams started since start. */
  watches: number;
  /** Watch streams open now. */
  activeWatches: number;
  /** HTTP requests by method (GET, POST, PUT, PATCH, DELETE). */
  byMethod: Record<string, number>;
  /** TCP connections accepted since start (keep-alive clients reuse theirs). */
  connections: number;
}

export interface K8sSim {
  url: string;
  port: number;
  kubeconfigYaml(namespace?: string): string;
  writeKubeconfig(path: string, namespace?: string): Promise<void>;
  faults: FaultControls;
  stats(): K8sSimStats;
  /** Direct access to the semantics layer (tests, sandbox): same rules and events as HTTP writes. */
  api: ObjectApi;
  stop(): Promise<void>;
}

export class K8sSimStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'K8sSimStartError';
  }
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startK8sSim(opts: K8sSimOptions = {}): Promise<K8sSim> {
  const registry = new ResourceRegistry(builtinTypes());
  const store = new Store(opts.watchHistory ?? 10_000);
  const allocator = new ServiceAllocator();
  let kubelet: KubeletStandIn | undefined;
  const api = new ObjectApi(
    store,
    registry,
    { allocator },
    { gracefulPodDeletion: () => kubelet !== undefined },
  );

  const loaded = opts.statePath ? await loadState(opts.statePath, store, registry, allocator) : undefined;
  const nsType = registry.get('', 'namespaces')!;
  for (const ns of DEFAULT_NAMESPACES) {
    if (!api.tryGet(nsType, undefined, ns)) api.create(nsType, undefined, { metadata: { name: ns } });
  }
  for (const file of opts.seedFiles ?? []) applySeed(api, await loadSeedObjects(file), file);

  const persister = opts.statePath && loaded ? new StatePersister(opts.statePath, store, loaded) : undefined;
  if (persister) store.onEvent((ev) => persister.record(ev));
  if (opts.controllers?.kubelet) kubelet = new KubeletStandIn(api, store);
  const endpointSlices = opts.controllers?.endpointSlices
    ? new EndpointSliceController(api, store)
    : undefined;

  const faultState = new FaultState();
  const hub = new WatchHub();
  const counters = { requests: 0, byMethod: {} as Record<string, number> };
  const router = new Router({
    api,
    store,
    registry,
    faults: faultState,
    hub,
    counters,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000,
  });

  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((req, res: ServerResponse) => {
    void router.handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    connections++;
    s.on('close', () => sockets.delete(s));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new K8sSimStartError(`cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`));
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const faults: FaultControls = {
    dropWatches: () => hub.dropAll(),
    forceGone: () => {
      // Burn one resourceVersion so even a client that is fully up to date holds a compacted one.
      const rv = store.nextResourceVersion();
      for (const c of store.all()) c.compact(rv);
    },
    setErrorRate: (ratio, code = 500) => {
      faultState.errorRate = ratio;
      faultState.errorCode = code;
    },
    setLatency: (ms) => {
      faultState.latencyMs = ms;
    },
    reset: () => faultState.reset(),
  };

  let stopped = false;
  return {
    url,
    port,
    api,
    kubeconfigYaml: (namespace?: string) => kubeconfigFor(url, namespace),
    writeKubeconfig: async (path: string, namespace?: string) => {
      await writeFile(path, kubeconfigFor(url, namespace));
    },
    faults,
    stats: () => ({
      requests: counters.requests,
      watches: hub.started,
      activeWatches: hub.open.size,
      byMethod: { ...counters.byMethod },
      connections,
    }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      kubelet?.stop();
      endpointSlices?.stop();
      hub.dropAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await persister?.flush();
    },
  };
}

export { kubeconfigFor } from './kubeconfig.js';
export type { FaultControls } from './faults.js';
export type { KubeObject, ObjectMeta } from './types.js';
