/**
 * MAC addresses for logical ports.
 *
 * `macFromIp` is ovn-kubernetes' `util.IPAddrToHWAddr` (go-controller/pkg/util/net.go): the private
 * prefix 0a:58 followed by the four IPv4 octets, so the MAC of a pod, router port or management
 * port follows from its address and needs no storage. For IPv6 the current ovn-kubernetes takes the
 * first four bytes of SHA-256 over the address's canonical text (older releases used address bytes,
 * which collided for addresses differing only in the middle); we follow the current code so our
 * ports and annotations match a real ovn-kubernetes cluster.
 */
import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { formatIp, ipToBytes, parseIp } from './cidr.js';
import { IpamError } from './errors.js';

export class InvalidMacError extends IpamError {
  constructor(readonly input: string) {
    super(`invalid MAC address "${input}": expected six hex octets like 0a:58:0a:80:00:05`);
  }
}

const MAC_RE =
  /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/;

const hex = (b: number): string => b.toString(16).padStart(2, '0');

export const formatMac = (bytes: ArrayLike<number>): string => Array.from(bytes, hex).join(':');

/** Parses `aa:bb:cc:dd:ee:ff` or `AA-BB-...` into six bytes. */
export function parseMac(text: string): number[] {
  const m = MAC_RE.exec(text.trim());
  if (!m) throw new InvalidMacError(text);
  return [m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h!, 16));
}

/** Lower-case colon form ("00:00:00:53:6B:B6" -> "00:00:00:53:6b:b6"), the form OVN stores. */
export const normalizeMac = (text: string): string => formatMac(parseMac(text));

export function isValidMac(text: string): boolean {
  return MAC_RE.test(text.trim());
}

/** The MAC ovn-kubernetes derives from an IP: 0a:58 + IPv4 octets, or + SHA-256 prefix for IPv6. */
export function macFromIp(ip: string): string {
  const addr = parseIp(ip);
  const bytes = ipToBytes(addr);
  // Go's To4() also accepts IPv4-mapped IPv6 addresses (::ffff:a.b.c.d).
  const mapped = addr.family === 6 && addr.value >> 32n === 0xffffn;
  if (addr.family === 4 || mapped) return formatMac([0x0a, 0x58, ...bytes.slice(-4)]);
  const hash = createHash('sha256').update(formatIp(addr)).digest();
  return formatMac([0x0a, 0x58, hash[0]!, hash[1]!, hash[2]!, hash[3]!]);
}

/**
 * A random locally administered unicast MAC (first octet: bit 1 set, bit 0 clear), for ports that
 * have no address to derive one from. The byte source is injectable so tests are deterministic.
 */
export function randomMac(randomBytes: (n: number) => Uint8Array = cryptoRandomBytes): string {
  const b = Array.from(randomBytes(6).subarray(0, 6));
  if (b.length !== 6) throw new IpamError('random byte source returned fewer than 6 bytes');
  b[0] = (b[0]! & 0xfe) | 0x02;
  return formatMac(b);
}

/** True for a MAC whose first octet marks it locally administered and unicast. */
export function isLocalUnicastMac(text: string): boolean {
  const first = parseMac(text)[0]!;
  return (first & 0x03) === 0x02;
}
