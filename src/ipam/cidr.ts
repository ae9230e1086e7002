/**
 * Addresses, CIDRs and ranges as plain values (family + bigint), parsed with ipaddr.js.
 *
 * Every allocator works on bigints so IPv4 and IPv6 share one code path; strings exist only at the
 * edges (parse on the way in, format on the way out). IPv6 text is always formatted in RFC 5952 form
 * (lower case, longest zero run compressed), which is what Go's net.IP.String() prints, so our output
 * compares equal with what ovn-kubernetes and Kube-OVN write.
 */
import ipaddr from 'ipaddr.js';
import { InvalidAddressError, InvalidCidrError, InvalidRangeError } from './errors.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A network: `network` has no host bits set. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefixLength: number;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** One entry of ovn-kubernetes `--cluster-subnets`: `10.128.0.0/14/23` = cluster CIDR + host prefix. */
export interface ClusterSubnet {
  readonly cidr: Cidr;
  readonly hostPrefixLength: number;
}

export const familyBits = (family: IpFamily): number => (family === 4 ? 32 : 128);

const familyMax = (family: IpFamily): bigint => (1n << BigInt(familyBits(family))) - 1n;

// ---------------------------------------------------------------------------------------------
// addresses

const OCTET = '(0|[1-9][0-9]{0,2})';
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** Parses an IPv4 (strict dotted quad, no leading zeros) or IPv6 address (no zone id). */
export function parseIp(text: string): IpAddress {
  const s = text.trim();
  // Dotted quads are parsed here: ipaddr.js takes ~5 µs per IPv4 address, which dominated rebuilding
  // 100,000 allocations. The rule is the same as its isValidFourPartDecimal (and Go's net.ParseIP):
  // exactly four decimal octets, no leading zeros, each at most 255.
  const m = DOTTED_QUAD.exec(s);
  if (m) {
    let value = 0;
    for (let i = 1; i <= 4; i++) {
      const octet = Number(m[i]);
      if (octet > 255) throw new InvalidAddressError(text, 'octet above 255');
      value = value * 256 + octet;
    }
    return { family: 4, value: BigInt(value) };
  }
  if (s.includes(':')) {
    if (s.includes('%')) throw new InvalidAddressError(text, 'zone ids are not allowed');
    let parts: number[] | undefined;
    try {
      parts = ipaddr.IPv6.parse(s).parts;
    } catch {
      parts = undefined;
    }
    if (parts) {
      // Two 64-bit halves as numbers would lose bits; four 32-bit words are exact and cheap.
      let value = 0n;
      for (let i = 0; i < 8; i += 2) value = (value << 32n) | BigInt(parts[i]! * 0x10000 + parts[i + 1]!);
      return { family: 6, value };
    }
  }
  throw new InvalidAddressError(text);
}

/** Like parseIp, but null instead of an error. */
export function tryParseIp(text: string): IpAddress | null {
  try {
    return parseIp(text);
  } catch {
    return null;
  }
}

export function formatIpValue(family: IpFamily, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const parts: number[] = new Array<number>(8);
  let v = value;
  for (let i = 7; i >= 0; i--) {
    parts[i] = Number(v & 0xffffn);
    v >>= 16n;
  }
  return new ipaddr.IPv6(parts).toRFC5952String();
}

export const formatIp = (addr: IpAddress): string => formatIpValue(addr.family, addr.value);

/** Canonical text of an address ("FD00::0001" -> "fd00::1"). */
export const normalizeIp = (text: string): string => formatIp(parseIp(text));

/** The address's bytes in network order (4 or 16). */
export function ipToBytes(addr: IpAddress): number[] {
  const n = familyBits(addr.family) / 8;
  const bytes = new Array<number>(n);
  let v = addr.value;
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return bytes;
}

export const compareIps = (a: IpAddress, b: IpAddress): number =>
  a.family !== b.family ? a.family - b.family : a.value < b.value ? -1 : a.value > b.value ? 1 : 0;

// ---------------------------------------------------------------------------------------------
// CIDRs

export interface ParseCidrOptions {
  /** Accept `10.1.2.5/24` and mask it to `10.1.2.0/24` (Go's net.ParseCIDR does). Default false. */
  allowHostBits?: boolean;
}

export function parseCidr(text: string, options: ParseCidrOptions = {}): Cidr {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) throw new InvalidCidrError(text, 'missing "/prefix-length"');
  const prefixText = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) throw new InvalidCidrError(text, 'bad prefix length');
  let addr: IpAddress;
  try {
    addr = parseIp(s.slice(0, slash));
  } catch (err) {
    throw new InvalidCidrError(text, (err as Error).message);
  }
  const prefixLength = Number(prefixText);
  if (prefixLength > familyBits(addr.family)) {
    throw new InvalidCidrError(text, `prefix length ${prefixLength} exceeds ${familyBits(addr.family)}`);
  }
  const network = addr.value & prefixMask(addr.family, prefixLength);
  if (network !== addr.value && !options.allowHostBits) {
    const fixed = formatCidr({ family: addr.family, network, prefixLength });
    throw new InvalidCidrError(text, `host bits are set (did you mean ${fixed}?)`);
  }
  return { family: addr.family, network, prefixLength };
}

/** An interface address with its prefix, as in `k8s.ovn.org/pod-networks` `ip_addresses` ("10.1.2.5/24"). */
export function parseIpWithPrefix(text: string): { address: IpAddress; cidr: Cidr } {
  const cidr = parseCidr(text, { allowHostBits: true });
  return { address: parseIp(text.trim().slice(0, text.trim().indexOf('/'))), cidr };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpValue(cidr.family, cidr.network)}/${cidr.prefixLength}`;
}

/** Canonical text of a CIDR ("FD00:0::/48" -> "fd00::/48"). */
export const normalizeCidr = (text: string): string => formatCidr(parseCidr(text));

function prefixMask(family: IpFamily, prefixLength: number): bigint {
  const hostBits = BigInt(familyBits(family) - prefixLength);
  return familyMax(family) ^ ((1n << hostBits) - 1n);
}

export const cidrSize = (cidr: Cidr): bigint => 1n << BigInt(familyBits(cidr.family) - cidr.prefixLength);

/** The last address (the broadcast address for IPv4). */
export const cidrLast = (cidr: Cidr): bigint => cidr.network + cidrSize(cidr) - 1n;

export const cidrToRange = (cidr: Cidr): IpRange => ({
  family: cidr.family,
  first: cidr.network,
  last: cidrLast(cidr),
});

export const cidrContains = (cidr: Cidr, addr: IpAddress): boolean =>
  cidr.family === addr.family && addr.value >= cidr.network && addr.value <= cidrLast(cidr);

export const cidrContainsCidr = (outer: Cidr, inner: Cidr): boolean =>
  outer.family === inner.family &&
  inner.prefixLength >= outer.prefixLength &&
  inner.network >= outer.network &&
  cidrLast(inner) <= cidrLast(outer);

export const cidrsOverlap = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.network <= cidrLast(b) && b.network <= cidrLast(a);

export const cidrEquals = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.network === b.network && a.prefixLength === b.prefixLength;

/**
 * The n-th address of the CIDR (0 = network address); negative n counts from the end
 * (-1 = broadcast for IPv4). Host subnets use n = 1 for the gateway and n = 2 for the management port.
 */
export function nthAddress(cidr: Cidr, n: number | bigint): IpAddress {
  const size = cidrSize(cidr);
  const offset = BigInt(n) < 0n ? size + BigInt(n) : BigInt(n);
  if (offset < 0n || offset >= size) {
    throw new InvalidRangeError(formatCidr(cidr), `has no address number ${n} (size ${size})`);
  }
  return { family: cidr.family, value: cidr.network + offset };
}

/** Offset of an address from the network address. */
export function addressOffset(cidr: Cidr, addr: IpAddress): bigint {
  if (!cidrContains(cidr, addr)) {
    throw new InvalidRangeError(formatCidr(cidr), `does not contain ${formatIp(addr)}`);
  }
  return addr.value - cidr.network;
}

// ---------------------------------------------------------------------------------------------
// cluster subnets (`--cluster-subnets 10.128.0.0/14/23,fd00:10:128::/48/64`)

/**
 * One cluster-subnet entry. Without a host prefix, IPv4 defaults to /24 and IPv6 to /64 as in
 * ovn-kubernetes. The host prefix must leave room for network, gateway (.1), management port (.2)
 * and at least one pod, which rules out IPv4 /30 and longer.
 */
export function parseClusterSubnet(text: string): ClusterSubnet {
  const s = text.trim();
  const parts = s.split('/');
  if (parts.length !== 2 && parts.length !== 3) {
    throw new InvalidRangeError(text, 'expected CIDR or CIDR/host-prefix-length, e.g. 10.128.0.0/14/23');
  }
  let cidr: Cidr;
  try {
    cidr = parseCidr(`${parts[0]}/${parts[1]}`);
  } catch (err) {
    throw new InvalidRangeError(text, (err as Error).message);
  }
  let hostPrefixLength = cidr.family === 4 ? 24 : 64;
  if (parts.length === 3) {
    if (!/^[0-9]{1,3}$/.test(parts[2]!)) throw new InvalidRangeError(text, 'bad host prefix length');
    hostPrefixLength = Number(parts[2]);
  }
  const bits = familyBits(cidr.family);
  if (hostPrefixLength < cidr.prefixLength) {
    throw new InvalidRangeError(
      text,
      `host prefix /${hostPrefixLength} is shorter than the cluster prefix /${cidr.prefixLength}`,
    );
  }
  if (hostPrefixLength > bits - 3) {
    throw new InvalidRangeError(text, `host prefix /${hostPrefixLength} leaves no room for pods`);
  }
  return { cidr, hostPrefixLength };
}

/** A comma-separated list or an array of entries. */
export function parseClusterSubnets(input: string | readonly string[]): ClusterSubnet[] {
  const items = typeof input === 'string' ? input.split(',') : input;
  const out = items.filter((s) => s.trim() !== '').map(parseClusterSubnet);
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      if (cidrsOverlap(out[i]!.cidr, out[j]!.cidr)) {
        throw new InvalidRangeError(
          `${formatClusterSubnet(out[i]!)},${formatClusterSubnet(out[j]!)}`,
          'cluster subnets overlap',
        );
      }
    }
  }
  return out;
}

export const formatClusterSubnet = (c: ClusterSubnet): string =>
  `${formatCidr(c.cidr)}/${c.hostPrefixLength}`;

// ---------------------------------------------------------------------------------------------
// ranges

/**
 * One entry of an address list: a single IP, a Kube-OVN range `a..b`, a Spiderpool range `a-b`
 * or a CIDR (Kube-OVN IPPool `ips`, ovn-kubernetes `excludeSubnets`).
 */
export function parseIpRange(text: string): IpRange {
  const s = text.trim();
  if (s === '') throw new InvalidRangeError(text, 'empty');
  if (s.includes('/')) {
    try {
      return cidrToRange(parseCidr(s));
    } catch (err) {
      throw new InvalidRangeError(text, (err as Error).message);
    }
  }
  let sep = s.indexOf('..');
  let sepLength = 2;
  if (sep < 0) {
    sep = s.indexOf('-');
    sepLength = 1;
  }
  let first: IpAddress;
  let last: IpAddress;
  try {
    if (sep < 0) {
      first = last = parseIp(s);
    } else {
      first = parseIp(s.slice(0, sep));
      last = parseIp(s.slice(sep + sepLength));
    }
  } catch (err) {
    throw new InvalidRangeError(text, (err as Error).message);
  }
  if (first.family !== last.family) throw new InvalidRangeError(text, 'mixes IPv4 and IPv6');
  if (first.value > last.value) throw new InvalidRangeError(text, 'start is after end');
  return { family: first.family, first: first.value, last: last.value };
}

export type RangeStyle = 'kube-ovn' | 'spiderpool';

/** `a..b` (Kube-OVN) or `a-b` (Spiderpool, Kube-OVN status ranges); a single address alone. */
export function formatIpRange(range: IpRange, style: RangeStyle = 'spiderpool'): string {
  const a = formatIpValue(range.family, range.first);
  if (range.first === range.last) return a;
  return `${a}${style === 'kube-ovn' ? '..' : '-'}${formatIpValue(range.family, range.last)}`;
}

export const rangeSize = (r: IpRange): bigint => r.last - r.first + 1n;

export const rangeContains = (r: IpRange, addr: IpAddress): boolean =>
  r.family === addr.family && addr.value >= r.first && addr.value <= r.last;

/** Sorted by (family, first), overlapping and adjacent ranges merged. */
export function normalizeRanges(ranges: Iterable<IpRange>): IpRange[] {
  const sorted = [...ranges].sort((a, b) =>
    a.family !== b.family ? a.family - b.family : a.first < b.first ? -1 : a.first > b.first ? 1 : 0,
  );
  const out: IpRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.family === r.family && r.first <= prev.last + 1n) {
      if (r.last > prev.last) out[out.length - 1] = { ...prev, last: r.last };
    } else {
      out.push(r);
    }
  }
  return out;
}

/** The part of a range inside a CIDR, or null. */
export function clipRange(range: IpRange, cidr: Cidr): IpRange | null {
  if (range.family !== cidr.family) return null;
  const first = range.first > cidr.network ? range.first : cidr.network;
  const end = cidrLast(cidr);
  const last = range.last < end ? range.last : end;
  return first <= last ? { family: range.family, first, last } : null;
}

/** `base` minus `remove`; both normalized first. The result is normalized. */
export function subtractRanges(base: Iterable<IpRange>, remove: Iterable<IpRange>): IpRange[] {
  const minus = normalizeRanges(remove);
  const out: IpRange[] = [];
  for (const r of normalizeRanges(base)) {
    let first = r.first;
    for (const m of minus) {
      if (m.family !== r.family || m.last < first) continue;
      if (m.first > r.last) break;
      if (m.first > first) out.push({ family: r.family, first, last: m.first - 1n });
      first = m.last + 1n;
      if (first > r.last) break;
    }
    if (first <= r.last) out.push({ family: r.family, first, last: r.last });
  }
  return out;
}

/** Compresses sorted distinct values into ranges. */
export function valuesToRanges(family: IpFamily, sortedValues: readonly bigint[]): IpRange[] {
  const out: IpRange[] = [];
  for (const v of sortedValues) {
    const prev = out[out.length - 1];
    if (prev && v === prev.last + 1n) out[out.length - 1] = { ...prev, last: v };
    else out.push({ family, first: v, last: v });
  }
  return out;
}

/** Comma-joined range list, the format of Kube-OVN's status `v4usingIPrange`/`v4availableIPrange`. */
export const formatRangeList = (ranges: readonly IpRange[], style: RangeStyle = 'spiderpool'): string =>
  ranges.map((r) => formatIpRange(r, style)).join(',');
