/**
 * The central IPAM's answer per pod interface, in one pod annotation the CNI IPAM plugin reads
 * (`ovn-k8s.io/ipam-allocations`, a JSON map interface -> allocation). The Kube-OVN and Spiderpool
 * annotations are written too (they are the records users and rebuilds read); this one is the
 * single place the node side looks, whichever model served the interface.
 */
import { InvalidAnnotationError } from './errors.js';
import { isJsonObject } from './cni-config.js';

export const IPAM_ALLOCATIONS_ANNOTATION = 'ovn-k8s.io/ipam-allocations';

export interface IpamRoute {
  /** CIDR; "0.0.0.0/0" / "::/0" for a default route. */
  dst: string;
  gw?: string;
}

export interface InterfaceAllocation {
  /** `<ns>/<nad>` of the attachment. */
  network: string;
  /** `Subnet/<name>` or `SpiderIPPool/<name>` (one per family for Spiderpool). */
  pools: string[];
  /** Addresses with prefix length ("172.17.0.11/16"). */
  ips: string[];
  /** Gateways, at most one per family. */
  gateways?: string[];
  routes?: IpamRoute[];
  mac?: string;
  /** The pod uid the allocation was made for (the plugin checks it against K8S_POD_UID). */
  podUid: string;
}

export type IpamAllocations = Record<string, InterfaceAllocation>;

export function parseIpamAllocations(value: string | undefined): IpamAllocations {
  if (value === undefined || value.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (err) {
    throw new InvalidAnnotationError(`${IPAM_ALLOCATIONS_ANNOTATION} is not JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(raw))
    throw new InvalidAnnotationError(`${IPAM_ALLOCATIONS_ANNOTATION} must be a JSON object`);
  const out: IpamAllocations = {};
  for (const [iface, a] of Object.entries(raw)) {
    if (!isJsonObject(a) || !Array.isArray(a.ips) || typeof a.network !== 'string') {
      throw new InvalidAnnotationError(`${IPAM_ALLOCATIONS_ANNOTATION}: entry ${iface} is malformed`);
    }
    out[iface] = a as unknown as InterfaceAllocation;
  }
  return out;
}

/** Sorted keys so an unchanged allocation gives the same text (and no patch). */
export function formatIpamAllocations(a: IpamAllocations): string {
  const sorted: IpamAllocations = {};
  for (const k of Object.keys(a).sort()) sorted[k] = a[k]!;
  return JSON.stringify(sorted);
}
