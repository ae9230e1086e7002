/**
 * Address arithmetic the intent modules need: host N of a subnet, the ovn-k MAC derived from an IP,
 * and the VIP/backend strings of OVN load balancers. Pure; ipaddr.js does the parsing.
 */
import ipaddr from 'ipaddr.js';
import { macFromIp as ipamMacFromIp } from '../../ipam/mac.js';

export class AddressError extends Error {
  override name = 'AddressError';
}

export type IpFamily = 4 | 6;

export interface Cidr {
  /** canonical network address (host bits cleared) */
  network: string;
  prefix: number;
  family: IpFamily;
}

function toBigInt(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let v = 0n;
  for (const b of addr.toByteArray()) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBigInt(v: bigint, family: IpFamily): string {
  const len = family === 4 ? 4 : 16;
  const bytes: number[] = new Array<number>(len);
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (!ipaddr.isValid(ip)) throw new AddressError(`not an IP address: ${ip}`);
  return ipaddr.parse(ip);
}

/**
 * Canonical dotted-quad IPv4 (no leading zeros, no octal/hex forms). Intent handles one address
 * per pod and endpoint - hundreds of thousands at scale - so this common case skips ipaddr.js.
 */
const CANONICAL_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The canonical text of an address (IPv6 compressed, lower case). */
export const canonicalIp = (ip: string): string => (CANONICAL_V4.test(ip) ? ip : parseIp(ip).toString());

export const ipFamily = (ip: string): IpFamily => {
  const a = ipOf(ip);
  return a.includes(':') ? 6 : 4;
};

/**
 * A small cache for the pure functions below: intent asks about the same few thousand subnets
 * (node subnets, join and cluster subnets) once or more per pod, and ipaddr.js's CIDR parser
 * throws and catches internally for every IPv4 input. Cleared when full rather than evicting.
 */
function memo<R>(fn: (key: string) => R, max = 20_000): (key: string) => R {
  const cache = new Map<string, R>();
  return (key) => {
    let r = cache.get(key);
    if (r === undefined) {
      r = fn(key);
      if (cache.size >= max) cache.clear();
      cache.set(key, r);
    }
    return r;
  };
}

const parseCidrCached = memo((cidr: string): Cidr => Object.freeze(parseCidrUncached(cidr)));

/** Network, prefix and family of `cidr` (host bits cleared); throws AddressError if malformed. */
export const parseCidr = (cidr: string): Cidr => parseCidrCached(cidr);

function parseCidrUncached(cidr: string): Cidr {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    throw new AddressError(`not a CIDR: ${cidr}`);
  }
  const [addr, prefix] = parsed;
  const family: IpFamily = addr.kind() === 'ipv4' ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { network: fromBigInt(toBigInt(addr) & mask, family), prefix, family };
}

/** `network/prefix` with host bits cleared, e.g. 10.128.0.7/23 -> 10.128.0.0/23 */
export function canonicalCidr(cidr: string): string {
  const c = parseCidr(cidr);
  return `${c.network}/${c.prefix}`;
}

const hostIpCached = memo((key: string): string => {
  const bar = key.lastIndexOf('|');
  return hostIpUncached(key.slice(0, bar), Number(key.slice(bar + 1)));
});

/** The address `n` hosts into the subnet (1 = the gateway .1, 2 = the management port .2). */
export const hostIp = (subnet: string, n: number): string => hostIpCached(`${subnet}|${n}`);

function hostIpUncached(subnet: string, n: number): string {
  const c = parseCidr(subnet);
  const bits = c.family === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - c.prefix);
  if (BigInt(n) >= size) throw new AddressError(`host ${n} is outside ${subnet}`);
  return fromBigInt(toBigInt(parseIp(c.network)) + BigInt(n), c.family);
}

/** The host `n` with the subnet's prefix length: the form router ports and annotations use. */
export const hostCidr = (subnet: string, n: number): string =>
  `${hostIp(subnet, n)}/${parseCidr(subnet).prefix}`;

/** The IP part of `ip/len` (or a bare IP). */
export const ipOf = (ipOrCidr: string): string => {
  const slash = ipOrCidr.indexOf('/');
  return canonicalIp(slash < 0 ? ipOrCidr : ipOrCidr.slice(0, slash));
};

/** `/32` or `/128` for one address: the prefix of a host route or SNAT logical_ip. */
export const hostPrefix = (ip: string): string => `${ipOf(ip)}/${ipFamily(ip) === 4 ? 32 : 128}`;

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  if ((a.kind() === 'ipv4' ? 4 : 6) !== c.family) return false;
  return a.match(parseIp(c.network), c.prefix);
}

/**
 * ovn-kubernetes `util.IPAddrToHWAddr` (src/ipam/mac.ts holds the one implementation): 0a:58
 * followed by the IPv4 octets, or by a SHA-256 prefix for IPv6. Deterministic, so a port keeps its
 * MAC across restarts without storing it. Accepts `ip/len` too.
 */
export function macFromIp(ip: string): string {
  const addr = ipOf(ip);
  if (addr.includes(':')) return ipamMacFromIp(addr);
  // IPv4 fast path, same result as src/ipam/mac.ts: 0a:58 + the four octets
  return `0a:58:${addr
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join(':')}`;
}

/** OVN load-balancer endpoint syntax: `ip:port`, `[ip6]:port`. */
export function ipPort(ip: string, port: number): string {
  const addr = ipOf(ip);
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
