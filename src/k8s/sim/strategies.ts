/**
 * Per-kind behaviour of the real API server that clients depend on: what a create does to status,
 * the defaults controllers read (a Service's clusterIP and node ports, a Namespace's name label),
 * and what an update carries over from the stored object.
 */
import { ApiError } from './errors.js';
import { InvalidCrdError, typeFromCrd, type ResourceType } from './resources.js';
import { isPlainObject, type KubeObject } from './types.js';

/** Hands out Service cluster IPs (10.96.0.0/16, fd00:10:96::/112) and node ports (30000-32767). */
export class ServiceAllocator {
  private readonly usedIps = new Set<string>();
  private readonly usedPorts = new Set<number>();
  private nextV4 = 1;
  private nextV6 = 1;
  private nextPort = 30000;

  reserve(svc: KubeObject): void {
    const spec = isPlainObject(svc.spec) ? svc.spec : {};
    for (const ip of Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [spec.clusterIP]) {
      if (typeof ip === 'string' && ip && ip !== 'None') this.usedIps.add(ip);
    }
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (isPlainObject(p) && typeof p.nodePort === 'number') this.usedPorts.add(p.nodePort);
    }
  }

  release(svc: KubeObject): void {
    const spec = isPlainObject(svc.spec) ? svc.spec : {};
    for (const ip of Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [spec.clusterIP]) {
      if (typeof ip === 'string') this.usedIps.delete(ip);
    }
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (isPlainObject(p) && typeof p.nodePort === 'number') this.usedPorts.delete(p.nodePort);
    }
  }

  allocateIp(family: 'IPv4' | 'IPv6'): string {
    for (let tries = 0; tries < 65534; tries++) {
      let ip: string;
      if (family === 'IPv4') {
        const n = this.nextV4;
        this.nextV4 = (this.nextV4 % 65533) + 1;
        ip = `10.96.${n >> 8}.${n & 255}`;
      } else {
        const n = this.nextV6;
        this.nextV6 = (this.nextV6 % 65533) + 1;
        ip = `fd00:10:96::${n.toString(16)}`;
      }
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
    throw new ApiError(
      500,
      'InternalError',
      'Internal error occurred: failed to allocate a serviceIP: range is full',
    );
  }

  allocatePort(): number {
    for (let tries = 0; tries < 2768; tries++) {
      const p = this.nextPort;
      this.nextPort = this.nextPort >= 32767 ? 30000 : this.nextPort + 1;
      if (!this.usedPorts.has(p)) {
        this.usedPorts.add(p);
        return p;
      }
    }
    throw new ApiError(
      500,
      'InternalError',
      'Internal error occurred: failed to allocate a nodePort: range is full',
    );
  }
}

function familyOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

/** Fills a Service spec the way the real defaulting and allocators do; `old` carries allocated values over. */
function defaultService(obj: KubeObject, alloc: ServiceAllocator, old?: KubeObject): void {
  const spec: Record<string, unknown> = isPlainObject(obj.spec) ? obj.spec : {};
  obj.spec = spec;
  const oldSpec: Record<string, unknown> = old && isPlainObject(old.spec) ? old.spec : {};
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
  const oldPorts = Array.isArray(oldSpec.ports) ? oldSpec.ports.filter(isPlainObject) : [];
  for (const p of ports) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port ?? null;
    if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && p.nodePort === undefined) {
      const prev = oldPorts.find((o) => o.port === p.port && o.protocol === p.protocol);
      p.nodePort = typeof prev?.nodePort === 'number' ? prev.nodePort : alloc.allocatePort();
    }
  }
  if (spec.type === 'ExternalName') return;
  if (!spec.clusterIP && oldSpec.clusterIP) {
    spec.clusterIP = oldSpec.clusterIP;
    spec.clusterIPs = oldSpec.clusterIPs;
    spec.ipFamilies = oldSpec.ipFamilies;
    spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
  }
  if (spec.clusterIP === 'None') {
    spec.clusterIPs = ['None'];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    return;
  }
  const dual = spec.ipFamilyPolicy === 'RequireDualStack' || spec.ipFamilyPolicy === 'PreferDualStack';
  let families = Array.isArray(spec.ipFamilies) ? (spec.ipFamilies as string[]) : [];
  if (families.length === 0) {
    families = typeof spec.clusterIP === 'string' && spec.clusterIP ? [familyOf(spec.clusterIP)] : ['IPv4'];
    if (dual) families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  }
  const ips = Array.isArray(spec.clusterIPs) ? [...(spec.clusterIPs as string[])] : [];
  if (ips.length === 0 && typeof spec.clusterIP === 'string' && spec.clusterIP) ips.push(spec.clusterIP);
  for (let i = ips.length; i < families.length; i++)
    ips.push(alloc.allocateIp(families[i] as 'IPv4' | 'IPv6'));
  spec.clusterIPs = ips;
  spec.clusterIP = ips[0];
  spec.ipFamilies = families;
  spec.ipFamilyPolicy ??= families.length > 1 ? 'RequireDualStack' : 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  alloc.reserve(obj);
}

function crdStatus(crd: KubeObject, t: ResourceType): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const names = isPlainObject(crd.spec) && isPlainObject(crd.spec.names) ? crd.spec.names : {};
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: { ...names, singular: t.singular, listKind: t.listKind },
    storedVersions: [t.versions[0]],
  };
}

export interface StrategyContext {
  allocator: ServiceAllocator;
}

/** Validates a CRD, answering 422 the way the server does. */
export function crdType(crd: KubeObject): ResourceType {
  try {
    return typeFromCrd(crd);
  } catch (err) {
    if (err instanceof InvalidCrdError) {
      throw new ApiError(
        422,
        'Invalid',
        `customresourcedefinitions.apiextensions.k8s.io "${crd.metadata.name}" is invalid: ${err.message}`,
        {
          name: crd.metadata.name,
          group: 'apiextensions.k8s.io',
          kind: 'customresourcedefinitions',
        },
      );
    }
    throw err;
  }
}

/** Mutates a fresh object (already a private copy) before it is first stored. */
export function prepareForCreate(t: ResourceType, obj: KubeObject, ctx: StrategyContext): void {
  const key = `${t.group}/${t.plural}`;
  switch (key) {
    case '/pods': {
      const spec = isPlainObject(obj.spec) ? obj.spec : {};
      obj.spec = spec;
      spec.restartPolicy ??= 'Always';
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      spec.terminationGracePeriodSeconds ??= 30;
      for (const list of [spec.containers, spec.initContainers]) {
        for (const c of Array.isArray(list) ? list.filter(isPlainObject) : []) {
          for (const p of Array.isArray(c.ports) ? c.ports.filter(isPlainObject) : []) p.protocol ??= 'TCP';
        }
      }
      obj.status = { phase: 'Pending' };
      return;
    }
    case '/services':
      defaultService(obj, ctx.allocator);
      obj.status = { loadBalancer: {} };
      return;
    case '/namespaces':
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name! };
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
      return;
    case '/nodes':
      // Nodes (unlike most types) may set status on create: the kubelet registers that way.
      return;
    case 'apiextensions.k8s.io/customresourcedefinitions':
      obj.status = crdStatus(obj, crdType(obj));
      return;
    default:
      if (t.statusSubresource) delete obj.status;
  }
}

/** Mutates the new version of an object on update (main resource, not status). */
export function prepareForUpdate(
  t: ResourceType,
  obj: KubeObject,
  old: KubeObject,
  ctx: StrategyContext,
): void {
  const key = `${t.group}/${t.plural}`;
  if (key === '/services') {
    defaultService(obj, ctx.allocator, old);
    // Give back what the old version held and the new one no longer does (a removed port's nodePort).
    ctx.allocator.release(old);
    ctx.allocator.reserve(obj);
  }
  if (key === '/namespaces') {
    obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name! };
  }
  if (key === 'apiextensions.k8s.io/customresourcedefinitions') obj.status = crdStatus(obj, crdType(obj));
}
