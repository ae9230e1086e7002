/**
 * The annotation codecs of secondary networks: a node's subnets per network in
 * `k8s.ovn.org/node-subnets` (keyed by network name next to "default", as ovn-k), and a pod's
 * attachments in `k8s.ovn.org/pod-networks` (keyed `<ns>/<nad>` next to "default"). Pure.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parseJsonAnnotation } from '../k8s/annotations.js';
import { DEFAULT_NETWORK, NODE_SUBNETS_ANNOTATION, POD_NETWORKS_ANNOTATION } from '../ovn/names.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  typeof v === 'string' && v !== ''
    ? [v]
    : Array.isArray(v)
      ? v.filter((x): x is string => typeof x === 'string' && x !== '')
      : [];

/** The node's subnets in `network` (the annotation's entry under the network name). */
export function secondaryNodeSubnetsFromAnnotation(node: V1Node, network: string): string[] {
  const v = parseJsonAnnotation(node, NODE_SUBNETS_ANNOTATION);
  return isRecord(v) ? strings(v[network]) : [];
}

/**
 * The node's `k8s.ovn.org/node-subnets` with `network`'s entry set to `subnets` (removed when
 * null), every other entry kept; undefined when that is what the node already has.
 */
export function mergeNodeSubnets(
  node: V1Node,
  network: string,
  subnets: readonly string[] | null,
): string | undefined {
  const raw = parseJsonAnnotation(node, NODE_SUBNETS_ANNOTATION);
  const cur: Record<string, unknown> = isRecord(raw) ? { ...raw } : {};
  const before = JSON.stringify(cur[network] ?? null);
  if (subnets === null || subnets.length === 0) delete cur[network];
  else cur[network] = subnets.length === 1 ? subnets[0] : [...subnets];
  if (JSON.stringify(cur[network] ?? null) === before) return undefined;
  return JSON.stringify(cur);
}

/** Entries of a node's `k8s.ovn.org/node-subnets` other than "default" (kept by default-network writers). */
export function otherNetworkSubnets(node: V1Node | undefined): Record<string, unknown> {
  const raw = node ? parseJsonAnnotation(node, NODE_SUBNETS_ANNOTATION) : undefined;
  if (!isRecord(raw) || !(DEFAULT_NETWORK in raw)) return {};
  const { [DEFAULT_NETWORK]: _default, ...rest } = raw;
  return rest;
}

export interface RecordedAttachment {
  /** `ip/len` */
  ips: string[];
  mac?: string;
}

/** The pod's recorded attachments: every `<ns>/<nad>` entry of `k8s.ovn.org/pod-networks`. */
export function recordedAttachments(pod: V1Pod): Map<string, RecordedAttachment> {
  const out = new Map<string, RecordedAttachment>();
  const v = parseJsonAnnotation(pod, POD_NETWORKS_ANNOTATION);
  if (!isRecord(v)) return out;
  for (const [k, e] of Object.entries(v)) {
    if (k === DEFAULT_NETWORK || !k.includes('/') || !isRecord(e)) continue;
    const ips = strings(e.ip_addresses);
    if (ips.length === 0) ips.push(...strings(e.ip_address));
    const rec: RecordedAttachment = { ips };
    if (typeof e.mac_address === 'string' && e.mac_address !== '') rec.mac = e.mac_address;
    out.set(k, rec);
  }
  return out;
}
