/**
 * What is wrong with the annotations we read, in words a user can act on. The controllers skip
 * what they cannot use (a node without a usable gateway config gets no gateway, a pod address
 * request outside the node's subnet is replaced); these checks say why, for Kubernetes Events.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { cidrContains, parseCidr, tryParseIp } from '../ipam/cidr.js';
import { L3_GATEWAY_CONFIG_ANNOTATION, POD_NETWORKS_ANNOTATION } from '../ovn/names.js';
import { nodeSubnetsFromAnnotation } from './convert.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Parses a JSON annotation; the `default` network entry when it is keyed by network. */
function jsonEntry(raw: string): { entry?: unknown; error?: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    return { error: `is not JSON (${(err as Error).message})` };
  }
  return { entry: isRecord(v) && isRecord(v.default) ? v.default : v };
}

const listOf = (many: unknown, one: unknown): unknown[] =>
  Array.isArray(many) ? many : one !== undefined ? [one] : [];

/** `ip/len` with a valid address and length. */
function badCidr(v: unknown): boolean {
  if (typeof v !== 'string') return true;
  try {
    parseCidr(v, { allowHostBits: true });
    return false;
  } catch {
    return true;
  }
}

/** The problem of the node's `k8s.ovn.org/l3-gateway-config`, or undefined when absent or fine. */
export function gatewayConfigProblem(node: V1Node): string | undefined {
  const raw = node.metadata?.annotations?.[L3_GATEWAY_CONFIG_ANNOTATION];
  if (raw === undefined) return undefined;
  const { entry, error } = jsonEntry(raw);
  const what = `annotation ${L3_GATEWAY_CONFIG_ANNOTATION}`;
  if (error) return `${what} ${error}`;
  if (!isRecord(entry)) return `${what} is not a JSON object`;
  if (entry.mode === 'disabled') return undefined;
  if (entry.mode !== undefined && entry.mode !== 'local' && entry.mode !== 'shared')
    return `${what}: mode must be local, shared or disabled, got ${JSON.stringify(entry.mode)}`;
  const ips = listOf(entry['ip-addresses'], entry['ip-address']);
  if (ips.length === 0) return `${what}: ip-addresses is missing`;
  const bad = ips.find(badCidr);
  if (bad !== undefined) return `${what}: ${JSON.stringify(bad)} is not an address with a prefix length`;
  const mac = entry['mac-address'];
  if (typeof mac !== 'string' || !MAC.test(mac))
    return `${what}: mac-address ${JSON.stringify(mac ?? null)} is not a MAC address`;
  const hops = listOf(entry['next-hops'], entry['next-hop']);
  const badHop = hops.find((h) => typeof h !== 'string' || tryParseIp(h) === null);
  if (badHop !== undefined) return `${what}: next hop ${JSON.stringify(badHop)} is not an IP address`;
  const rampout = entry['rampout-ip-subnets'];
  if (rampout !== undefined) {
    if (!Array.isArray(rampout)) return `${what}: rampout-ip-subnets must be a list of subnets`;
    // the watcher skips such an entry (the rest of the gateway still works): say which and why
    const badSubnet = rampout.find(badCidr);
    if (badSubnet !== undefined)
      return `${what}: rampout-ip-subnets entry ${JSON.stringify(badSubnet)} is not a subnet (ADDRESS/LEN); it is ignored`;
  }
  return undefined;
}

/**
 * The problem of a pod's requested address (`k8s.ovn.org/pod-networks` set before we allocate):
 * not JSON, or an address outside every subnet of the node it is scheduled on. `nodeSubnets` are
 * the node's host subnets (undefined when not known yet: no verdict then).
 */
export function podAddressProblem(
  pod: V1Pod,
  nodeSubnets: readonly string[] | undefined,
): string | undefined {
  const raw = pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
  if (raw === undefined) return undefined;
  const { entry, error } = jsonEntry(raw);
  const what = `annotation ${POD_NETWORKS_ANNOTATION}`;
  if (error) return `${what} ${error}`;
  if (!isRecord(entry)) return `${what} is not a JSON object`;
  const ips = listOf(entry.ip_addresses, entry.ip_address);
  const bad = ips.find(badCidr);
  if (bad !== undefined) return `${what}: ${JSON.stringify(bad)} is not an address with a prefix length`;
  if (!nodeSubnets || nodeSubnets.length === 0 || !pod.spec?.nodeName) return undefined;
  const subnets = nodeSubnets.map((s) => parseCidr(s, { allowHostBits: true }));
  for (const ip of ips as string[]) {
    const addr = tryParseIp(ip.split('/')[0]!);
    if (addr && !subnets.some((s) => cidrContains(s, addr)))
      return `requested address ${ip} is outside the subnets of node ${pod.spec.nodeName} (${nodeSubnets.join(', ')}); a free address of the node is used instead`;
  }
  return undefined;
}

/** The node's host subnets as published on it. */
export const publishedNodeSubnets = (node: V1Node | undefined): string[] | undefined => {
  if (!node) return undefined;
  const s = nodeSubnetsFromAnnotation(node);
  return s.length > 0 ? s : undefined;
};
