/**
 * EndpointSlice controller stand-in: for every Service with a selector, slices labelled
 * `kubernetes.io/service-name` holding the IPs of its ready pods, one slice per address family and
 * resolved port set (named target ports are looked up in each pod's container ports, so pods that
 * name a port differently land in different slices, as with the real controller).
 */
import { createHash } from 'node:crypto';
import type { ObjectApi } from '../api.js';
import { ApiError } from '../errors.js';
import type { ResourceType } from '../resources.js';
import { matchesMapSelector } from '../selectors.js';
import type { Store } from '../store.js';
import { isPlainObject, type KubeObject } from '../types.js';
import { DeferredKeys } from './deferred.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

function rec(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

function recs(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

export function isPodReady(pod: KubeObject): boolean {
  const status = rec(pod.status);
  if (pod.metadata.deletionTimestamp || status.phase !== 'Running' || !status.podIP) return false;
  return recs(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The service's ports as this pod serves them; a named targetPort the pod lacks drops that port. */
function resolvePorts(svc: KubeObject, pod: KubeObject): SlicePort[] {
  const containers = [...recs(rec(pod.spec).containers), ...recs(rec(pod.spec).initContainers)];
  const out: SlicePort[] = [];
  for (const p of recs(rec(svc.spec).ports)) {
    const target = p.targetPort ?? p.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else if (typeof target === 'string' && /^\d+$/.test(target)) port = Number(target);
    else if (typeof target === 'string') {
      for (const c of containers) {
        const cp = recs(c.ports).find(
          (x) => x.name === target && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
        );
        if (cp && typeof cp.containerPort === 'number') {
          port = cp.containerPort;
          break;
        }
      }
    }
    if (port === undefined) continue;
    const sp: SlicePort = {
      name: typeof p.name === 'string' ? p.name : '',
      port,
      protocol: String(p.protocol ?? 'TCP'),
    };
    if (typeof p.appProtocol === 'string') sp.appProtocol = p.appProtocol;
    out.push(sp);
  }
  return out;
}

function podIps(pod: KubeObject, family: string): string[] {
  const status = rec(pod.status);
  const ips = recs(status.podIPs)
    .map((x) => x.ip)
    .filter((x): x is string => typeof x === 'string');
  if (ips.length === 0 && typeof status.podIP === 'string') ips.push(status.podIP);
  return ips.filter((ip) => (family === 'IPv6') === ip.includes(':'));
}

function sliceName(svc: string, groupKey: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha1').update(groupKey).digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[digest[i]! % alphabet.length];
  return `${svc.slice(0, 57)}-${suffix}`;
}

export class EndpointSliceController {
  private readonly work: DeferredKeys;
  private readonly unsubscribe: () => void;
  private readonly services: ResourceType;
  private readonly pods: ResourceType;
  private readonly slices: ResourceType;

  constructor(
    private readonly api: ObjectApi,
    store: Store,
  ) {
    this.services = api.registry.get('', 'services')!;
    this.pods = api.registry.get('', 'pods')!;
    this.slices = api.registry.get('discovery.k8s.io', 'endpointslices')!;
    this.work = new DeferredKeys((key) => this.syncKey(key));
    this.unsubscribe = store.onEvent((ev, c) => {
      const m = ev.entry.obj.metadata;
      if (c.type === this.services) this.work.add(`svc:${m.namespace}/${m.name}`);
      else if (c.type === this.pods) this.work.add(`ns:${m.namespace}`);
    });
    for (const [key] of store.collection(this.services).range('')) this.work.add(`svc:${key}`);
  }

  private syncKey(key: string): void {
    if (key.startsWith('svc:')) {
      const [ns, name] = key.slice(4).split('/') as [string, string];
      this.syncService(ns, name);
      return;
    }
    const ns = key.slice(3);
    for (const e of this.api.list(this.services, ns).entries) this.syncService(ns, e.obj.metadata.name!);
  }

  private syncService(ns: string, name: string): void {
    const svc = this.api.tryGet(this.services, ns, name)?.obj;
    const existing = this.api
      .list(this.slices, ns, {
        labelSelector: `${SERVICE_NAME_LABEL}=${name},${MANAGED_BY_LABEL}=${MANAGED_BY}`,
      })
      .entries.map((e) => e.obj);
    const selector = rec(rec(svc?.spec).selector) as Record<string, string>;
    const desired =
      svc && !svc.metadata.deletionTimestamp && Object.keys(selector).length > 0
        ? this.desiredSlices(svc, selector)
        : [];
    const keep = new Set(desired.map((d) => d.metadata.name));
    for (const d of desired) this.write(ns, d);
    for (const old of existing) {
      if (keep.has(old.metadata.name)) continue;
      try {
        this.api.delete(this.slices, ns, old.metadata.name!);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }

  private desiredSlices(svc: KubeObject, selector: Record<string, string>): KubeObject[] {
    const ns = svc.metadata.namespace!;
    const name = svc.metadata.name!;
    const declared = rec(svc.spec).ipFamilies;
    const families = Array.isArray(declared)
      ? declared.filter((f): f is string => typeof f === 'string')
      : [];
    if (families.length === 0) families.push('IPv4');
    const groups = new Map<
      string,
      { family: string; ports: SlicePort[]; endpoints: Record<string, unknown>[] }
    >();
    const pods = this.api.list(this.pods, ns).entries.map((e) => e.obj);
    for (const pod of pods) {
      if (!matchesMapSelector(selector, pod.metadata.labels) || !isPodReady(pod)) continue;
      const ports = resolvePorts(svc, pod);
      for (const family of families) {
        const ips = podIps(pod, family);
        if (ips.length === 0) continue;
        const gk = `${family}|${JSON.stringify(ports)}`;
        let g = groups.get(gk);
        if (!g) groups.set(gk, (g = { family, ports, endpoints: [] }));
        const nodeName = rec(pod.spec).nodeName;
        g.endpoints.push({
          addresses: [ips[0]],
          conditions: { ready: true, serving: true, terminating: false },
          ...(typeof nodeName === 'string' && nodeName ? { nodeName } : {}),
          targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid },
        });
      }
    }
    // No ready pods: one empty placeholder slice, as the real controller keeps.
    if (groups.size === 0)
      groups.set(`${families[0]}|placeholder`, { family: families[0]!, ports: [], endpoints: [] });
    return [...groups].map(([gk, g]) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: sliceName(name, gk),
        namespace: ns,
        generateName: `${name}-`,
        labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            name,
            uid: svc.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType: g.family,
      endpoints: g.endpoints,
      ports: g.ports as unknown as Record<string, unknown>[],
    }));
  }

  /** Create or update; an update that changes nothing is dropped by the API (no event). */
  private write(ns: string, slice: KubeObject): void {
    const current = this.api.tryGet(this.slices, ns, slice.metadata.name!);
    if (!current) {
      this.api.create(this.slices, ns, slice);
      return;
    }
    this.api.update(this.slices, ns, slice.metadata.name!, {
      ...slice,
      metadata: { ...current.obj.metadata, ...slice.metadata },
    });
  }

  stop(): void {
    this.unsubscribe();
    this.work.stop();
  }
}
