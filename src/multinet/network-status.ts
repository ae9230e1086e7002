/**
 * `k8s.v1.cni.cncf.io/network-status`, the JSON list Multus writes on a pod
 * (network-attachment-definition-client `NetworkStatus`, multus `CreateNetworkStatus`):
 * `name` is `<ns>/<nad>` for attachments, the conf name for the cluster network; `ips` are bare
 * addresses; `gateway` comes only from default routes of the CNI result; `default` marks the
 * cluster network (or the interface that owns the default route).
 */
import { InvalidAnnotationError } from './errors.js';
import { isJsonObject } from './cni-config.js';

export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

export interface NetworkStatusDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface NetworkStatus {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  mtu?: number;
  default?: boolean;
  dns?: NetworkStatusDns;
  gateway?: string[];
  'device-info'?: Record<string, unknown>;
}

/** The part of a CNI result the status is made from. */
export interface CniResultLike {
  interfaces?: { name: string; mac?: string; sandbox?: string; mtu?: number }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: NetworkStatusDns;
}

const isDefaultDst = (dst: string): boolean => dst === '0.0.0.0/0' || dst === '::/0';

/**
 * The status entry Multus makes from one CNI result: the sandbox interface (the one with a
 * `sandbox`), its addresses without prefix lengths, gateways only from default routes.
 */
export function networkStatusFromResult(
  name: string,
  ifName: string,
  result: CniResultLike,
  isDefault = false,
): NetworkStatus {
  const ifaces = result.interfaces ?? [];
  const sandboxIdx = ifaces.findIndex((i) => i.sandbox !== undefined && i.sandbox !== '');
  const iface = sandboxIdx >= 0 ? ifaces[sandboxIdx] : undefined;
  const ips = (result.ips ?? [])
    .filter((ip) => ip.interface === undefined || sandboxIdx < 0 || ip.interface === sandboxIdx)
    .map((ip) => ip.address.split('/')[0]!);
  const gateway = (result.routes ?? []).filter((r) => isDefaultDst(r.dst) && r.gw).map((r) => r.gw!);
  return {
    name,
    interface: iface?.name ?? ifName,
    ...(ips.length > 0 ? { ips } : {}),
    ...(iface?.mac ? { mac: iface.mac } : {}),
    ...(iface?.mtu ? { mtu: iface.mtu } : {}),
    ...(isDefault ? { default: true } : {}),
    dns: result.dns ?? {},
    ...(gateway.length > 0 ? { gateway } : {}),
  };
}

export function formatNetworkStatus(list: readonly NetworkStatus[]): string {
  return JSON.stringify(list);
}

/** Parses the annotation value; throws InvalidAnnotationError on a malformed one. */
export function parseNetworkStatus(value: string | undefined): NetworkStatus[] {
  if (value === undefined || value.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (err) {
    throw new InvalidAnnotationError(`${NETWORK_STATUS_ANNOTATION} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw))
    throw new InvalidAnnotationError(`${NETWORK_STATUS_ANNOTATION} must be a JSON list`);
  return raw.map((e, i) => {
    if (!isJsonObject(e) || typeof e.name !== 'string') {
      throw new InvalidAnnotationError(`${NETWORK_STATUS_ANNOTATION} entry ${i} has no name`);
    }
    if (e.ips !== undefined && (!Array.isArray(e.ips) || e.ips.some((x) => typeof x !== 'string'))) {
      throw new InvalidAnnotationError(`${NETWORK_STATUS_ANNOTATION} entry ${i}: ips must be strings`);
    }
    return e as unknown as NetworkStatus;
  });
}

/** The first address of the entry on `iface` (what users jq out of the annotation). */
export function statusIpOf(list: readonly NetworkStatus[], iface: string): string | undefined {
  return list.find((s) => s.interface === iface)?.ips?.[0];
}
