/**
 * Kubelet stand-in: a pod bound to a node becomes Running with its IPs once it can have them -
 * at once for hostNetwork pods (the node's InternalIP), otherwise when our CNI side has written
 * the `k8s.ovn.org/pod-networks` annotation (the real kubelet reports the IPs the CNI plugin
 * returned). It also finishes graceful deletions of pods bound to nodes. A pod whose phase is
 * Succeeded or Failed is left alone: those phases are terminal.
 */
import type { ObjectApi } from '../api.js';
import { nowTimestamp } from '../api.js';
import type { ResourceType } from '../resources.js';
import type { Store } from '../store.js';
import { isPlainObject, type KubeObject } from '../types.js';
import { DeferredKeys } from './deferred.js';

export const POD_NETWORKS_ANNOTATION = 'k8s.ovn.org/pod-networks';

/** The default network's IPs from the pod-networks annotation (without prefix lengths). */
export function podNetworkIps(pod: KubeObject): string[] | undefined {
  const raw = pod.metadata.annotations?.[POD_NETWORKS_ANNOTATION];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!isPlainObject(parsed) || !isPlainObject(parsed.default)) return undefined;
    const d = parsed.default;
    const list = Array.isArray(d.ip_addresses)
      ? d.ip_addresses
      : typeof d.ip_address === 'string'
        ? [d.ip_address]
        : [];
    const ips = list.filter((x): x is string => typeof x === 'string').map((cidr) => cidr.split('/')[0]!);
    return ips.length > 0 ? ips : undefined;
  } catch {
    return undefined;
  }
}

function nodeInternalIp(node: KubeObject | undefined): string | undefined {
  const addrs =
    node && isPlainObject(node.status) && Array.isArray(node.status.addresses) ? node.status.addresses : [];
  const a = addrs.find((x) => isPlainObject(x) && x.type === 'InternalIP');
  return isPlainObject(a) && typeof a.address === 'string' ? a.address : undefined;
}

export class KubeletStandIn {
  private readonly work: DeferredKeys;
  private readonly unsubscribe: () => void;
  private readonly pods: ResourceType;
  private readonly nodes: ResourceType;

  constructor(
    private readonly api: ObjectApi,
    store: Store,
  ) {
    this.pods = api.registry.get('', 'pods')!;
    this.nodes = api.registry.get('', 'nodes')!;
    this.work = new DeferredKeys((key) => this.sync(key));
    this.unsubscribe = store.onEvent((ev, c) => {
      if (ev.type === 'DELETED') return;
      if (c.type === this.pods) {
        this.work.add(`${ev.entry.obj.metadata.namespace}/${ev.entry.obj.metadata.name}`);
      } else if (c.type === this.nodes) {
        // hostNetwork pods wait for their node's InternalIP: revisit the node's pods when it changes.
        const ip = nodeInternalIp(ev.entry.obj);
        if (ip && ip !== nodeInternalIp(ev.old)) this.work.add(`node:${ev.entry.obj.metadata.name}`);
      }
    });
    // Pods already stored (state file, seed) are handled too.
    for (const [key] of store.collection(this.pods).range('')) this.work.add(key);
  }

  private sync(key: string): void {
    if (key.startsWith('node:')) {
      const onNode = this.api.list(this.pods, undefined, { fieldSelector: `spec.nodeName=${key.slice(5)}` });
      for (const e of onNode.entries) this.sync(`${e.obj.metadata.namespace}/${e.obj.metadata.name}`);
      return;
    }
    const [ns, name] = key.split('/') as [string, string];
    const entry = this.api.tryGet(this.pods, ns, name);
    if (!entry) return;
    const pod = entry.obj;
    const spec = isPlainObject(pod.spec) ? pod.spec : {};
    const nodeName = typeof spec.nodeName === 'string' ? spec.nodeName : '';
    if (!nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      if (!pod.metadata.finalizers?.length) this.api.delete(this.pods, ns, name, { gracePeriodSeconds: 0 });
      return;
    }
    const status = isPlainObject(pod.status) ? pod.status : {};
    // A finished pod stays finished (phases are terminal on a real kubelet): controllers release
    // its addresses, so turning it back to Running would resurrect a pod that holds none.
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return;
    const node = this.api.tryGet(this.nodes, undefined, nodeName)?.obj;
    const hostIp = nodeInternalIp(node);
    const ips = spec.hostNetwork === true ? (hostIp ? [hostIp] : undefined) : podNetworkIps(pod);
    if (!ips) return;
    if (
      status.phase === 'Running' &&
      status.podIP === ips[0] &&
      (status.podIPs as unknown[] | undefined)?.length === ips.length
    )
      return;
    const now = nowTimestamp();
    const condition = (type: string) => ({
      type,
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: now,
    });
    const containers = Array.isArray(spec.containers) ? spec.containers.filter(isPlainObject) : [];
    const next = {
      ...status,
      phase: 'Running',
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ].map(condition),
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      ...(hostIp ? { hostIP: hostIp, hostIPs: [{ ip: hostIp }] } : {}),
      startTime: typeof status.startTime === 'string' ? status.startTime : now,
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    };
    this.api.update(this.pods, ns, name, { ...pod, status: next }, 'status');
  }

  stop(): void {
    this.unsubscribe();
    this.work.stop();
  }
}
