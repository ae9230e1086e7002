/**
 * Kubernetes objects in, the plain records of src/ovn/intent out (and the annotation codecs the
 * controllers read and write). Pure: no I/O, no allocation.
 */
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { getAnnotation, parseJsonAnnotation } from '../k8s/annotations.js';
import { canonicalCidr } from '../ovn/intent/addr.js';
import type {
  EndpointSliceInfo,
  GatewayInfo,
  ServiceInfo,
  ServicePortInfo,
  ServiceProtocol,
} from '../ovn/intent/inputs.js';
import {
  DEFAULT_NETWORK,
  L3_GATEWAY_CONFIG_ANNOTATION,
  NODE_CHASSIS_ID_ANNOTATION,
  NODE_GATEWAY_ROUTER_LRP_IFADDRS_ANNOTATION,
  NODE_MGMT_PORT_MAC_ANNOTATION,
  NODE_SUBNETS_ANNOTATION,
  POD_NETWORKS_ANNOTATION,
} from '../ovn/names.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
const oneOrMany = (many: unknown, one: unknown): string[] => {
  const list = strings(many);
  if (list.length > 0) return list;
  return typeof one === 'string' && one !== '' ? [one] : [];
};
/** `{"default": X}` → X; a bare X (older writers) is accepted too. */
const defaultEntry = (v: unknown): unknown => (isRecord(v) && DEFAULT_NETWORK in v ? v[DEFAULT_NETWORK] : v);

// ---- nodes ------------------------------------------------------------------------------------

/** `k8s.ovn.org/node-subnets`: `{"default":"10.128.0.0/23"}` or `{"default":["10.128.0.0/23","fd00::/64"]}`. */
export function nodeSubnetsFromAnnotation(node: V1Node): string[] {
  const v = defaultEntry(parseJsonAnnotation(node, NODE_SUBNETS_ANNOTATION));
  if (typeof v === 'string') return v === '' ? [] : [v];
  return strings(v);
}

/**
 * The annotation value for a node's subnets (a string for one, a list for several, as ovn-k);
 * `others` are the entries of secondary networks (keyed by network name), kept as they are.
 */
export const nodeSubnetsAnnotation = (
  subnets: readonly string[],
  others: Readonly<Record<string, unknown>> = {},
): string => JSON.stringify({ [DEFAULT_NETWORK]: subnets.length === 1 ? subnets[0] : subnets, ...others });

/** `k8s.ovn.org/node-gateway-router-lrp-ifaddrs`: `{"default":{"ipv4":"100.64.0.2/16","ipv6":...}}`. */
export function gatewayJoinIpsFromAnnotation(node: V1Node): string[] {
  const v = defaultEntry(parseJsonAnnotation(node, NODE_GATEWAY_ROUTER_LRP_IFADDRS_ANNOTATION));
  if (!isRecord(v)) return [];
  return [v.ipv4, v.ipv6].filter((x): x is string => typeof x === 'string' && x !== '');
}

export const gatewayJoinIpsAnnotation = (joinIps: readonly string[]): string => {
  const entry: Record<string, string> = {};
  for (const ip of joinIps) entry[ip.includes(':') ? 'ipv6' : 'ipv4'] = ip;
  return JSON.stringify({ [DEFAULT_NETWORK]: entry });
};

export function mgmtMacFromAnnotation(node: V1Node): string | undefined {
  const v = defaultEntry(parseJsonAnnotation(node, NODE_MGMT_PORT_MAC_ANNOTATION));
  return typeof v === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v) ? v.toLowerCase() : undefined;
}

/** The gateway as the node describes it, without the join IPs (the watcher allocates those). */
export type NodeGateway = Omit<GatewayInfo, 'joinIps'>;

/**
 * `rampout-ip-subnets` of the l3-gateway-config (our key; gateway-init writes it only when given):
 * canonical CIDRs, deduplicated. An entry that is not a CIDR is dropped rather than failing the
 * whole gateway (gateway-init refuses those, so only a hand-written annotation has them).
 */
function rampoutSubnets(v: unknown): string[] {
  const out = new Set<string>();
  for (const s of strings(v)) {
    try {
      out.add(canonicalCidr(s.trim()));
    } catch {
      // not a CIDR: ignored, see above
    }
  }
  return [...out];
}

/**
 * `k8s.ovn.org/l3-gateway-config` + `k8s.ovn.org/node-chassis-id`. Undefined when the node has no
 * gateway (no config, mode "disabled", no physical IP or no chassis).
 */
export function nodeGateway(node: V1Node): NodeGateway | undefined {
  const cfg = defaultEntry(parseJsonAnnotation(node, L3_GATEWAY_CONFIG_ANNOTATION));
  const chassisId = getAnnotation(node, NODE_CHASSIS_ID_ANNOTATION)?.trim();
  if (!isRecord(cfg) || !chassisId) return undefined;
  if (cfg.mode === 'disabled') return undefined;
  const ips = oneOrMany(cfg['ip-addresses'], cfg['ip-address']);
  const mac = typeof cfg['mac-address'] === 'string' ? cfg['mac-address'] : undefined;
  if (ips.length === 0 || !mac) return undefined;
  const gw: NodeGateway = {
    chassisId,
    ips,
    mac: mac.toLowerCase(),
    nextHops: oneOrMany(cfg['next-hops'], cfg['next-hop']),
  };
  if (typeof cfg['interface-id'] === 'string' && cfg['interface-id'] !== '')
    gw.interfaceId = cfg['interface-id'];
  const net = cfg['physical-network'] ?? cfg['network-name'];
  if (typeof net === 'string' && net !== '') gw.physicalNetwork = net;
  const vlan = Number(cfg['vlan-id'] ?? 0);
  if (Number.isInteger(vlan) && vlan > 0) gw.vlanId = vlan;
  const rampout = rampoutSubnets(cfg['rampout-ip-subnets']);
  if (rampout.length > 0) gw.rampoutSubnets = rampout;
  return gw;
}

// ---- pods -------------------------------------------------------------------------------------

/** A pod that should have a port: scheduled, not host-network, not finished, not being deleted with no IP need. */
export function podWantsPort(pod: V1Pod | undefined): pod is V1Pod {
  if (!pod?.spec?.nodeName) return false;
  if (pod.spec.hostNetwork) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * True when `a` and `b` agree on everything a pod key's run reads (podWantsPort's fields, the uid,
 * the creation time and the annotations other than `ignored`): a change elsewhere in the pod
 * (status conditions, container statuses, resourceVersion) changes nothing we build. A field the
 * pod path starts to read must be added here. Compared field by field: a pod event is handled
 * for every pod, and serialising whole pods to compare them was a visible part of a cold sync.
 */
export function samePodInputs(a: V1Pod, b: V1Pod, ignored: Readonly<Record<string, unknown>>): boolean {
  const am = a.metadata ?? {};
  const bm = b.metadata ?? {};
  if (
    am.uid !== bm.uid ||
    a.spec?.nodeName !== b.spec?.nodeName ||
    Boolean(a.spec?.hostNetwork) !== Boolean(b.spec?.hostNetwork) ||
    a.status?.phase !== b.status?.phase ||
    String(am.creationTimestamp) !== String(bm.creationTimestamp) ||
    String(am.deletionTimestamp) !== String(bm.deletionTimestamp)
  )
    return false;
  const aa = am.annotations ?? {};
  const ba = bm.annotations ?? {};
  for (const key of Object.keys(aa)) if (!(key in ignored) && aa[key] !== ba[key]) return false;
  for (const key of Object.keys(ba)) if (!(key in ignored) && !(key in aa)) return false;
  return true;
}

export interface PodNetwork {
  /** `ip/len` */
  ips: string[];
  mac: string;
  /** gateway IPs (no length) */
  gateways: string[];
}

/** The default network's addresses from `k8s.ovn.org/pod-networks` (or the original's `ovn`). */
export function podNetworkFromAnnotation(pod: V1Pod): PodNetwork | undefined {
  const v = defaultEntry(parseJsonAnnotation(pod, POD_NETWORKS_ANNOTATION));
  if (!isRecord(v)) return undefined;
  const ips = oneOrMany(v.ip_addresses, v.ip_address);
  const mac = typeof v.mac_address === 'string' ? v.mac_address : undefined;
  if (ips.length === 0 || !mac) return undefined;
  return { ips, mac, gateways: oneOrMany(v.gateway_ips, v.gateway_ip) };
}

/**
 * `k8s.ovn.org/pod-networks` as ovn-k writes it (with the deprecated single-value fields);
 * `attachments` are the secondary networks' entries keyed `<ns>/<nad>`.
 */
export function podNetworksAnnotation(
  net: PodNetwork,
  attachments: Readonly<Record<string, unknown>> = {},
): string {
  const entry: Record<string, unknown> = {
    ip_addresses: net.ips,
    mac_address: net.mac,
    gateway_ips: net.gateways,
    ip_address: net.ips[0],
    role: 'primary',
  };
  if (net.gateways[0]) entry.gateway_ip = net.gateways[0];
  return JSON.stringify({ [DEFAULT_NETWORK]: entry, ...attachments });
}

/** The original Python watcher's `ovn` annotation: `{"ip_address","mac_address","gateway_ip"}`. */
export const legacyPodAnnotation = (net: PodNetwork): string =>
  JSON.stringify({ ip_address: net.ips[0], mac_address: net.mac, gateway_ip: net.gateways[0] ?? '' });

// ---- services ---------------------------------------------------------------------------------

const protocol = (p: string | undefined): ServiceProtocol | undefined =>
  p === undefined || p === 'TCP' || p === 'UDP' || p === 'SCTP' ? (p ?? 'TCP') : undefined;

/** Undefined for services that get no load balancer (ExternalName, headless, no ports). */
export function serviceInfo(svc: V1Service): ServiceInfo | undefined {
  const spec = svc.spec;
  const namespace = svc.metadata?.namespace;
  const name = svc.metadata?.name;
  if (!spec || !namespace || !name) return undefined;
  const type = spec.type ?? 'ClusterIP';
  if (type !== 'ClusterIP' && type !== 'NodePort' && type !== 'LoadBalancer') return undefined;
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (clusterIPs.length === 0 || clusterIPs[0] === 'None') return undefined;
  const ports: ServicePortInfo[] = [];
  for (const p of spec.ports ?? []) {
    const proto = protocol(p.protocol);
    if (!proto) continue;
    const port: ServicePortInfo = { protocol: proto, port: p.port };
    if (p.name) port.name = p.name;
    if (p.targetPort !== undefined) port.targetPort = p.targetPort as number | string;
    if (p.nodePort) port.nodePort = p.nodePort;
    ports.push(port);
  }
  if (ports.length === 0) return undefined;
  const info: ServiceInfo = { namespace, name, type, clusterIPs, ports };
  if (spec.externalIPs?.length) info.externalIPs = spec.externalIPs;
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
  if (type === 'LoadBalancer' && ingress.length > 0) info.loadBalancerIPs = ingress;
  if (spec.sessionAffinity === 'ClientIP')
    info.affinityTimeoutSeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
  return info;
}

export function endpointSliceInfo(slice: V1EndpointSlice): EndpointSliceInfo {
  return {
    ports: (slice.ports ?? []).flatMap((p) => {
      const proto = protocol(p.protocol);
      if (!proto || p.port === undefined) return [];
      const out: EndpointSliceInfo['ports'][number] = { protocol: proto, port: p.port };
      if (p.name) out.name = p.name;
      return [out];
    }),
    endpoints: (slice.endpoints ?? []).map((e) => {
      const out: EndpointSliceInfo['endpoints'][number] = { addresses: e.addresses ?? [] };
      const c = e.conditions;
      if (c?.ready !== undefined && c.ready !== null) out.ready = c.ready;
      if (c?.serving !== undefined && c.serving !== null) out.serving = c.serving;
      if (c?.terminating !== undefined && c.terminating !== null) out.terminating = c.terminating;
      return out;
    }),
  };
}
