/**
 * The CNI protocol parts an IPAM plugin needs: versions, error codes, CNI_ARGS, and the result
 * shapes (0.1.0/0.2.0 `ip4`/`ip6`; 0.3.x/0.4.0 `ips` with `version`; 1.x `ips` without it).
 * IPAM results carry no interfaces: the main plugin (macvlan, ipvlan, ovs...) adds its own.
 */
import { parseIp } from '../../ipam/index.js';
import type { InterfaceAllocation } from '../../multinet/index.js';

export const IPAM_SUPPORTED_VERSIONS = [
  '0.1.0',
  '0.2.0',
  '0.3.0',
  '0.3.1',
  '0.4.0',
  '1.0.0',
  '1.1.0',
] as const;
export const IPAM_LATEST_VERSION = '1.1.0';

/** Error codes of the CNI spec, plus ours from 100 on. */
export const IpamCniCode = {
  IncompatibleVersion: 1,
  InvalidEnvironment: 4,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  /** The central IPAM wrote no allocation for this interface in time. */
  AllocationTimeout: 110,
  /** The Kubernetes API could not be read. */
  KubernetesApi: 111,
} as const;

export class IpamCniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'IpamCniError';
  }

  toJson(cniVersion: string): Record<string, unknown> {
    return {
      cniVersion,
      code: this.code,
      msg: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** `CNI_ARGS`: `K=V;K2=V2` (Multus and container runtimes pass K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID). */
export function parseCniArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new IpamCniError(IpamCniCode.InvalidEnvironment, `CNI_ARGS: "${part}" is not KEY=VALUE`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

const familyOf = (ipWithPrefix: string): 4 | 6 => parseIp(ipWithPrefix.split('/')[0]!).family;

/** The CNI result of an allocation for `cniVersion` (one of IPAM_SUPPORTED_VERSIONS). */
export function ipamResult(cniVersion: string, a: InterfaceAllocation): Record<string, unknown> {
  const gwFor = (family: 4 | 6) => (a.gateways ?? []).find((g) => parseIp(g).family === family);
  const routes = (a.routes ?? []).map((r) => ({ dst: r.dst, ...(r.gw ? { gw: r.gw } : {}) }));
  if (cniVersion === '0.1.0' || cniVersion === '0.2.0') {
    const out: Record<string, unknown> = { cniVersion };
    for (const family of [4, 6] as const) {
      const ip = a.ips.find((x) => familyOf(x) === family);
      if (!ip) continue;
      const gw = gwFor(family);
      out[`ip${family}`] = {
        ip,
        ...(gw ? { gateway: gw } : {}),
        routes: routes.filter((r) => familyOf(r.dst) === family),
      };
    }
    out.dns = {};
    return out;
  }
  const legacy = cniVersion.startsWith('0.');
  return {
    cniVersion,
    ips: a.ips.map((address) => {
      const family = familyOf(address);
      const gw = gwFor(family);
      return { ...(legacy ? { version: String(family) } : {}), address, ...(gw ? { gateway: gw } : {}) };
    }),
    ...(routes.length > 0 ? { routes } : {}),
    dns: {},
  };
}
