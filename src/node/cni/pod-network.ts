/**
 * The pod's network as the watcher annotates it: `k8s.ovn.org/pod-networks` key "default"
 * (ip_addresses, mac_address, gateway_ips, routes; the single-value ip_address/gateway_ip of
 * older writers are accepted too), or the original Python watcher's `ovn` annotation.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseIpWithPrefix } from '../../ipam/cidr.js';
import { isValidMac, normalizeMac } from '../../ipam/mac.js';
import { CniCode, CniError } from './types.js';

export const POD_NETWORKS_ANNOTATION = 'k8s.ovn.org/pod-networks';
export const LEGACY_POD_ANNOTATION = 'ovn';

export interface PodRoute {
  dest: string;
  nextHop: string;
}

export interface PodNetwork {
  /** IP/LEN */
  ipAddresses: string[];
  mac: string;
  gatewayIps: string[];
  routes: PodRoute[];
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

function invalid(pod: string, why: string): CniError {
  return new CniError(
    CniCode.InvalidNetworkConfig,
    `pod ${pod}: annotation ${POD_NETWORKS_ANNOTATION} is malformed: ${why}`,
  );
}

/**
 * The pod's entry for `network` ("default", or `<ns>/<nad>` of a secondary network), or undefined
 * while it is not annotated yet. A secondary network's entry may have no addresses (L2 only).
 */
export function podNetworkOf(pod: V1Pod, network = 'default'): PodNetwork | undefined {
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const ann = pod.metadata?.annotations ?? {};
  let entry: Record<string, unknown> | undefined;
  if (ann[POD_NETWORKS_ANNOTATION] !== undefined) {
    let all: unknown;
    try {
      all = JSON.parse(ann[POD_NETWORKS_ANNOTATION]);
    } catch {
      throw invalid(name, 'not JSON');
    }
    const e = (all as Record<string, unknown> | null)?.[network];
    if (e === undefined) return undefined;
    if (!e || typeof e !== 'object') throw invalid(name, `"${network}" is not an object`);
    entry = e as Record<string, unknown>;
  } else if (network === 'default' && ann[LEGACY_POD_ANNOTATION] !== undefined) {
    try {
      entry = JSON.parse(ann[LEGACY_POD_ANNOTATION]) as Record<string, unknown>;
    } catch {
      throw invalid(name, `legacy "${LEGACY_POD_ANNOTATION}" annotation is not JSON`);
    }
  } else return undefined;

  const ips = strings(entry.ip_addresses);
  if (ips.length === 0 && typeof entry.ip_address === 'string') ips.push(entry.ip_address);
  const gws = strings(entry.gateway_ips);
  if (gws.length === 0 && typeof entry.gateway_ip === 'string' && entry.gateway_ip !== '')
    gws.push(entry.gateway_ip);
  const mac = entry.mac_address;
  if (ips.length === 0 && network === 'default') throw invalid(name, 'no ip_addresses');
  for (const ip of ips) {
    try {
      parseIpWithPrefix(ip);
    } catch {
      throw invalid(name, `ip address "${ip}" is not IP/LEN`);
    }
  }
  if (typeof mac !== 'string' || !isValidMac(mac))
    throw invalid(name, `mac_address "${String(mac)}" is not a MAC`);
  const routes: PodRoute[] = [];
  if (Array.isArray(entry.routes)) {
    for (const r of entry.routes as Array<Record<string, unknown>>) {
      if (typeof r?.dest === 'string' && typeof r?.nextHop === 'string')
        routes.push({ dest: r.dest, nextHop: r.nextHop });
    }
  }
  return { ipAddresses: ips, mac: normalizeMac(mac), gatewayIps: gws, routes };
}
