/**
 * The address parts of Kube-OVN `Subnet` (kubeovn.io/v1) and Spiderpool `SpiderIPPool`
 * (spiderpool.spidernet.io/v2beta1) turned into IpPool specs, and pool state turned back into the
 * status fields those resources show, so the YAML of those projects' documents works unchanged.
 * Pure functions: reading and writing the resources is the watcher's job.
 */
import { type IpFamily, formatIp, formatRangeList, nthAddress, parseCidr } from './cidr.js';
import { InvalidPoolError } from './errors.js';
import { type IpPool, type IpPoolSpec, type PoolRoute } from './pool.js';

// ---------------------------------------------------------------------------------------------
// Kube-OVN Subnet

export interface KubeOvnSubnetSpec {
  /** IPv4, IPv6 or Dual; derived from cidrBlock when absent. */
  protocol?: string;
  /** One CIDR, or "v4cidr,v6cidr" for dual stack. */
  cidrBlock: string;
  /** One address per family, comma-separated; default the first address of each CIDR. */
  gateway?: string;
  /** Single IPs and `a..b` ranges. */
  excludeIps?: readonly string[];
}

const splitList = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/**
 * The pool of a Subnet. As in Kube-OVN, `ip_address` and `ip_pool` may name excluded addresses
 * (the excluded segment is where fixed IPs live), but never the gateway.
 */
export function kubeOvnSubnetPoolSpec(name: string, spec: KubeOvnSubnetSpec): IpPoolSpec {
  const subnets = splitList(spec.cidrBlock);
  let cidrs;
  try {
    cidrs = subnets.map((s) => parseCidr(s));
  } catch (err) {
    throw new InvalidPoolError(`Subnet ${name}: cidrBlock ${spec.cidrBlock}: ${(err as Error).message}`);
  }
  const families = cidrs.map((c) => c.family);
  const derived = families.length === 2 ? 'Dual' : families[0] === 6 ? 'IPv6' : 'IPv4';
  const valid =
    (families.length === 1 || (families.length === 2 && families[0] !== families[1])) &&
    (spec.protocol === undefined || spec.protocol === '' || spec.protocol === derived);
  if (!valid) {
    throw new InvalidPoolError(
      `Subnet ${name}: cidrBlock ${spec.cidrBlock} does not match protocol ${spec.protocol ?? derived}`,
    );
  }
  const gateways = spec.gateway ? splitList(spec.gateway) : cidrs.map((c) => formatIp(nthAddress(c, 1)));
  return {
    name,
    subnets,
    gateways,
    excludeIps: spec.excludeIps ?? [],
    explicitMayUseExcluded: true,
  };
}

export interface KubeOvnSubnetStatusCounts {
  v4availableIPs: bigint;
  v4usingIPs: bigint;
  v4availableIPrange: string;
  v4usingIPrange: string;
  v6availableIPs: bigint;
  v6usingIPs: bigint;
  v6availableIPrange: string;
  v6usingIPrange: string;
}

/** The counts and range strings of a Subnet's status. */
export function kubeOvnSubnetStatus(pool: IpPool): KubeOvnSubnetStatusCounts {
  const part = (family: IpFamily) => {
    const a = pool.allocator.forFamily(family);
    if (!a) return { available: 0n, using: 0n, availableRange: '', usingRange: '' };
    const usage = a.usage();
    return {
      available: usage.available,
      using: usage.used,
      availableRange: formatRangeList(a.availableRanges()),
      usingRange: formatRangeList(a.usedRanges()),
    };
  };
  const v4 = part(4);
  const v6 = part(6);
  return {
    v4availableIPs: v4.available,
    v4usingIPs: v4.using,
    v4availableIPrange: v4.availableRange,
    v4usingIPrange: v4.usingRange,
    v6availableIPs: v6.available,
    v6usingIPs: v6.using,
    v6availableIPrange: v6.availableRange,
    v6usingIPrange: v6.usingRange,
  };
}

// ---------------------------------------------------------------------------------------------
// Spiderpool SpiderIPPool

export interface SpiderIpPoolSpec {
  ipVersion?: number;
  subnet: string;
  /** `a-b` ranges and single IPs; required by the CRD. */
  ips?: readonly string[];
  excludeIPs?: readonly string[];
  gateway?: string;
  routes?: readonly { dst: string; gw: string }[];
}

/** The pool of a SpiderIPPool (single stack; excluded addresses are never handed out). */
export function spiderIpPoolSpec(name: string, spec: SpiderIpPoolSpec): IpPoolSpec {
  let family: IpFamily;
  try {
    family = parseCidr(spec.subnet).family;
  } catch (err) {
    throw new InvalidPoolError(`SpiderIPPool ${name}: subnet ${spec.subnet}: ${(err as Error).message}`);
  }
  if (spec.ipVersion !== undefined && spec.ipVersion !== family) {
    throw new InvalidPoolError(
      `SpiderIPPool ${name}: ipVersion ${spec.ipVersion} does not match subnet ${spec.subnet}`,
    );
  }
  if (!spec.ips || spec.ips.length === 0) throw new InvalidPoolError(`SpiderIPPool ${name}: ips is empty`);
  const routes: PoolRoute[] = (spec.routes ?? []).map((r) => ({ dst: r.dst, gw: r.gw }));
  return {
    name,
    subnets: [spec.subnet],
    ips: spec.ips,
    excludeIps: spec.excludeIPs ?? [],
    gateways: spec.gateway ? [spec.gateway] : [],
    routes,
    explicitMayUseExcluded: false,
  };
}

/** Who holds an allocation, as SpiderIPPool `status.allocatedIPs` records it. */
export interface SpiderPodRef {
  /** "namespace/name" */
  pod: string;
  podUid: string;
}

export interface SpiderIpPoolStatus {
  /** JSON text of {ip: {pod, podUid}}, as Spiderpool stores it. */
  allocatedIPs: string;
  allocatedIPCount: number;
  totalIPCount: number;
}

/**
 * The status of a SpiderIPPool. `podOf` maps an allocation key to its pod; a key it does not know
 * (a retained StatefulSet address whose pod is gone) is still listed, with empty pod fields, so the
 * count and the map always agree with what is really allocated.
 */
export function spiderIpPoolStatus(
  pool: IpPool,
  podOf: (key: string) => SpiderPodRef | undefined,
): SpiderIpPoolStatus {
  const allocated: Record<string, SpiderPodRef> = {};
  let count = 0;
  for (const a of pool.allocations()) {
    const ref = podOf(a.key) ?? { pod: '', podUid: '' };
    for (const { ip } of a.addresses) {
      allocated[ip] = { pod: ref.pod, podUid: ref.podUid };
      count++;
    }
  }
  let total = 0n;
  for (const usage of pool.usage().values()) total += usage.size - usage.excluded;
  return { allocatedIPs: JSON.stringify(allocated), allocatedIPCount: count, totalIPCount: Number(total) };
}
