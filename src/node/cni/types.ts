/**
 * The CNI protocol as this plugin speaks it: supported spec versions, the well-known error codes,
 * the error object, and the result shapes of 0.3.x/0.4.0 (ips carry "version") and 1.0.0.
 */

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.0.0';

/** Well-known error codes of the CNI spec; 100 and up are this plugin's own. */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  /** the pod never got its k8s.ovn.org/pod-networks annotation in time */
  AnnotationTimeout: 100,
  /** the Open_vSwitch database or ovn-controller did not do its part */
  OvsFailure: 101,
  /** creating or configuring the pod's interface failed */
  InterfaceSetup: 102,
  /** CHECK found the interface or the OVS port not as ADD left them */
  CheckFailed: 103,
  /** talking to the Kubernetes API failed */
  KubernetesApi: 104,
} as const;

/** A failure the plugin reports as a CNI error object on stdout. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CniError';
  }

  toJson(cniVersion: string): Record<string, unknown> {
    const out: Record<string, unknown> = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}

export function isSupportedVersion(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
  mtu?: number;
}

export interface CniIp {
  /** IP/LEN */
  address: string;
  gateway?: string;
  /** index into interfaces */
  interface: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface AddResult {
  interfaces: CniInterface[];
  ips: CniIp[];
  routes: CniRoute[];
}

/** The ADD result in the shape of `version`. */
export function formatResult(version: CniVersion, r: AddResult): Record<string, unknown> {
  const legacy = version !== '1.0.0';
  return {
    cniVersion: version,
    interfaces: r.interfaces.map((i) => {
      // mtu in results came with 1.1.0; older readers reject unknown fields in strict decoders
      const { mtu: _mtu, ...rest } = i;
      return rest;
    }),
    ips: r.ips.map((ip) => (legacy ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : { ...ip })),
    routes: r.routes,
    dns: {},
  };
}
