/**
 * Kube-OVN's pod annotation vocabulary (kubeovn/kube-ovn pkg/util/const.go), so pods written for
 * Kube-OVN work unchanged: `<provider>.kubernetes.io/<field>` where the provider is `ovn` for the
 * primary interface, `<nad>.<ns>` for an attachment using Kube-OVN IPAM with another CNI and
 * `<nad>.<ns>.ovn` for a Kube-OVN-type attachment. User-set fields are requests (`ip_address`,
 * `mac_address`, `ip_pool`, `logical_switch`, `routes`); the controller writes the result back into
 * `ip_address`, `mac_address`, `cidr`, `gateway`, `logical_switch` and sets `allocated` to "true",
 * which is what tells a recorded allocation from a request on restart.
 */
import { normalizeIp, parseCidr, parseIp, type PoolRoute } from '../ipam/index.js';
import { isValidMac, normalizeMac } from '../ipam/index.js';
import { InvalidAnnotationError } from './errors.js';
import { isJsonObject } from './cni-config.js';

export const KUBE_OVN_PRIMARY_PROVIDER = 'ovn';

export type KubeOvnField =
  | 'ip_address'
  | 'mac_address'
  | 'ip_pool'
  | 'logical_switch'
  | 'cidr'
  | 'gateway'
  | 'routes'
  | 'allocated'
  | 'vlan_id';

/** `ovn.kubernetes.io/ip_address`, `macvlan.default.kubernetes.io/ip_pool`, ... */
export const kubeOvnKey = (provider: string, field: KubeOvnField): string =>
  `${provider}.kubernetes.io/${field}`;

export type ParsedProvider =
  { primary: true } | { primary: false; nad: string; namespace: string; ovn: boolean };

/** The provider of NAD `namespace/name`: `<nad>.<ns>`, with `.ovn` for Kube-OVN-type attachments. */
export const providerOf = (namespace: string, name: string, ovn = false): string =>
  `${name}.${namespace}${ovn ? '.ovn' : ''}`;

/** Splits a provider string. Namespaces hold no dots, so the last segment before `.ovn` is it. */
export function parseProvider(provider: string): ParsedProvider {
  if (provider === KUBE_OVN_PRIMARY_PROVIDER) return { primary: true };
  const ovn = provider.endsWith('.ovn');
  const body = ovn ? provider.slice(0, -4) : provider;
  const dot = body.lastIndexOf('.');
  if (dot <= 0 || dot === body.length - 1) {
    throw new InvalidAnnotationError(
      `provider "${provider}" is not "<nad>.<namespace>" or "<nad>.<namespace>.ovn"`,
    );
  }
  return { primary: false, nad: body.slice(0, dot), namespace: body.slice(dot + 1), ovn };
}

type Annotations = Readonly<Record<string, string>> | undefined;

/** What a pod asks of one provider. */
export interface KubeOvnRequest {
  /** Fixed addresses (`ip_address` not yet marked allocated), one per family. */
  ips?: string[];
  /** An `ip_pool` value: address candidates (`;` separates dual-stack entries) or an IPPool name. */
  ipPool?: string;
  mac?: string;
  /** Subnet named by `logical_switch`; wins over the provider match. */
  logicalSwitch?: string;
  routes?: PoolRoute[];
}

/** What the controller recorded for one provider. */
export interface KubeOvnAllocation {
  ips: string[];
  /** Subnet CIDRs, comma-joined as Kube-OVN writes them. */
  cidr?: string;
  gateway?: string;
  mac?: string;
  logicalSwitch: string;
}

const splitIps = (v: string, key: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const bare = s.split('/')[0]!;
      try {
        return normalizeIp(bare);
      } catch {
        throw new InvalidAnnotationError(`${key}: "${s}" is not an IP address`);
      }
    });

/** Parses a `routes` value: a JSON list of `{dst?, gw}`; no `dst` means the default route. */
export function parseKubeOvnRoutes(value: string, key = 'routes'): PoolRoute[] {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (err) {
    throw new InvalidAnnotationError(`${key} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new InvalidAnnotationError(`${key} must be a JSON list of {"dst","gw"}`);
  return raw.map((r, i) => {
    if (!isJsonObject(r)) throw new InvalidAnnotationError(`${key} entry ${i} is not an object`);
    const { dst, gw } = r;
    if (dst !== undefined && dst !== '' && (typeof dst !== 'string' || !isCidrLike(dst))) {
      throw new InvalidAnnotationError(`${key} entry ${i}: dst ${JSON.stringify(dst)} is not a CIDR`);
    }
    if (typeof gw !== 'string' || !isIp(gw)) {
      throw new InvalidAnnotationError(`${key} entry ${i}: gw ${JSON.stringify(gw)} is not an IP address`);
    }
    return typeof dst === 'string' && dst !== '' ? { dst, gw } : { gw };
  });
}

function isIp(s: string): boolean {
  try {
    parseIp(s);
    return true;
  } catch {
    return false;
  }
}

/** A route destination as users write it: a CIDR, possibly with host bits (192.168.0.101/24). */
function isCidrLike(s: string): boolean {
  try {
    parseCidr(s, { allowHostBits: true });
    return true;
  } catch {
    return false;
  }
}

/** The request a pod makes of `provider`. Throws InvalidAnnotationError on malformed values. */
export function kubeOvnRequest(annotations: Annotations, provider: string): KubeOvnRequest {
  const a = annotations ?? {};
  const get = (f: KubeOvnField): string | undefined => {
    const v = a[kubeOvnKey(provider, f)];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const out: KubeOvnRequest = {};
  const allocated = get('allocated') === 'true';
  const ip = get('ip_address');
  if (ip && !allocated) out.ips = splitIps(ip, kubeOvnKey(provider, 'ip_address'));
  const pool = get('ip_pool');
  if (pool) out.ipPool = pool;
  const mac = get('mac_address');
  if (mac && !allocated) {
    if (!isValidMac(mac))
      throw new InvalidAnnotationError(
        `${kubeOvnKey(provider, 'mac_address')}: "${mac}" is not a MAC address`,
      );
    out.mac = normalizeMac(mac);
  }
  const ls = get('logical_switch');
  if (ls && !allocated) out.logicalSwitch = ls;
  const routes = get('routes');
  if (routes) out.routes = parseKubeOvnRoutes(routes, kubeOvnKey(provider, 'routes'));
  return out;
}

/** The recorded allocation for `provider`, or undefined when the pod has none (`allocated` unset). */
export function kubeOvnAllocation(annotations: Annotations, provider: string): KubeOvnAllocation | undefined {
  const a = annotations ?? {};
  if (a[kubeOvnKey(provider, 'allocated')] !== 'true') return undefined;
  const ipText = a[kubeOvnKey(provider, 'ip_address')];
  const ls = a[kubeOvnKey(provider, 'logical_switch')];
  if (!ipText || !ls) return undefined;
  const mac = a[kubeOvnKey(provider, 'mac_address')];
  return {
    ips: splitIps(ipText, kubeOvnKey(provider, 'ip_address')),
    logicalSwitch: ls,
    ...(a[kubeOvnKey(provider, 'cidr')] ? { cidr: a[kubeOvnKey(provider, 'cidr')] } : {}),
    ...(a[kubeOvnKey(provider, 'gateway')] ? { gateway: a[kubeOvnKey(provider, 'gateway')] } : {}),
    ...(mac && isValidMac(mac) ? { mac: normalizeMac(mac) } : {}),
  };
}

/** The annotations recording an allocation (values Kube-OVN writes: plain IPs, comma-joined). */
export function kubeOvnAllocationAnnotations(
  provider: string,
  alloc: KubeOvnAllocation,
): Record<string, string> {
  const out: Record<string, string> = {
    [kubeOvnKey(provider, 'ip_address')]: alloc.ips.join(','),
    [kubeOvnKey(provider, 'logical_switch')]: alloc.logicalSwitch,
    [kubeOvnKey(provider, 'allocated')]: 'true',
  };
  if (alloc.cidr) out[kubeOvnKey(provider, 'cidr')] = alloc.cidr;
  if (alloc.gateway) out[kubeOvnKey(provider, 'gateway')] = alloc.gateway;
  if (alloc.mac) out[kubeOvnKey(provider, 'mac_address')] = alloc.mac;
  return out;
}

/** Providers a pod has annotations for (`<provider>.kubernetes.io/allocated`). */
export function allocatedProviders(annotations: Annotations): string[] {
  const suffix = '.kubernetes.io/allocated';
  return Object.keys(annotations ?? {})
    .filter((k) => k.endsWith(suffix) && annotations![k] === 'true')
    .map((k) => k.slice(0, -suffix.length));
}
