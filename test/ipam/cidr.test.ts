import { describe, expect, it } from 'vitest';
import {
  InvalidAddressError,
  InvalidCidrError,
  InvalidRangeError,
  cidrContains,
  cidrContainsCidr,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  formatClusterSubnet,
  formatIp,
  formatIpRange,
  formatRangeList,
  nthAddress,
  normalizeCidr,
  normalizeIp,
  normalizeRanges,
  parseCidr,
  parseClusterSubnet,
  parseClusterSubnets,
  parseIp,
  parseIpRange,
  parseIpWithPrefix,
  rangeSize,
  subtractRanges,
} from '../../src/ipam/index.js';

describe('addresses', () => {
  it('parses IPv4 to a bigint and back', () => {
    const a = parseIp('10.128.2.5');
    expect(a).toEqual({ family: 4, value: 0x0a800205n });
    expect(formatIp(a)).toBe('10.128.2.5');
    expect(formatIp(parseIp('255.255.255.255'))).toBe('255.255.255.255');
  });

  it('parses IPv6 and formats it in RFC 5952 form', () => {
    const a = parseIp('FD00:0010:0128:0000:0000:0000:0000:0001');
    expect(a.family).toBe(6);
    expect(formatIp(a)).toBe('fd00:10:128::1');
    expect(normalizeIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('::')).toBe('::');
  });

  it('rejects bad input with a named error naming the input', () => {
    for (const bad of ['', '10.1', '10.1.2.300', '010.1.2.3', 'fe80::1%eth0', 'hello', '1.2.3.4/24']) {
      expect(() => parseIp(bad), bad).toThrow(InvalidAddressError);
    }
    expect(() => parseIp('10.1')).toThrow(/"10\.1"/);
  });
});

describe('CIDRs', () => {
  it('parses, sizes and formats', () => {
    const c = parseCidr('10.128.0.0/14');
    expect(cidrSize(c)).toBe(262144n);
    expect(formatIp({ family: 4, value: cidrLast(c) })).toBe('10.131.255.255');
    expect(formatCidr(parseCidr('fd00:10:128::/48'))).toBe('fd00:10:128::/48');
    expect(normalizeCidr('FD00:0:0::/64')).toBe('fd00::/64');
  });

  it('rejects host bits unless asked to mask them', () => {
    expect(() => parseCidr('10.128.2.5/23')).toThrow(
      /host bits are set \(did you mean 10\.128\.2\.0\/23\?\)/,
    );
    expect(formatCidr(parseCidr('192.168.0.101/24', { allowHostBits: true }))).toBe('192.168.0.0/24');
  });

  it('rejects malformed CIDRs', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/x', '10.0.0.0/08', 'x/8']) {
      expect(() => parseCidr(bad), bad).toThrow(InvalidCidrError);
    }
  });

  it('answers containment and overlap, never across families', () => {
    const c = parseCidr('10.128.0.0/14');
    expect(cidrContains(c, parseIp('10.131.0.1'))).toBe(true);
    expect(cidrContains(c, parseIp('10.132.0.1'))).toBe(false);
    expect(cidrContains(c, parseIp('::a80:1'))).toBe(false);
    expect(cidrContainsCidr(c, parseCidr('10.130.0.0/23'))).toBe(true);
    expect(cidrContainsCidr(parseCidr('10.130.0.0/23'), c)).toBe(false);
    expect(cidrsOverlap(c, parseCidr('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(c, parseCidr('10.132.0.0/16'))).toBe(false);
  });

  it('gives the n-th address, negative from the end', () => {
    const c = parseCidr('10.128.2.0/23');
    expect(formatIp(nthAddress(c, 1))).toBe('10.128.2.1');
    expect(formatIp(nthAddress(c, 2))).toBe('10.128.2.2');
    expect(formatIp(nthAddress(c, -1))).toBe('10.128.3.255');
    expect(formatIp(nthAddress(parseCidr('fd00:10:128:5::/64'), 1))).toBe('fd00:10:128:5::1');
    expect(() => nthAddress(c, 512)).toThrow(InvalidRangeError);
  });

  it('splits an interface address into address and network', () => {
    const { address, cidr } = parseIpWithPrefix('10.244.1.5/24');
    expect(formatIp(address)).toBe('10.244.1.5');
    expect(formatCidr(cidr)).toBe('10.244.1.0/24');
  });
});

describe('cluster subnets', () => {
  it('parses the ovn-kubernetes default 10.128.0.0/14/23', () => {
    const c = parseClusterSubnet('10.128.0.0/14/23');
    expect(formatCidr(c.cidr)).toBe('10.128.0.0/14');
    expect(c.hostPrefixLength).toBe(23);
    expect(formatClusterSubnet(c)).toBe('10.128.0.0/14/23');
  });

  it('defaults the host prefix to /24 for IPv4 and /64 for IPv6', () => {
    expect(parseClusterSubnet('10.244.0.0/16').hostPrefixLength).toBe(24);
    expect(parseClusterSubnet('fd00:10:244::/48').hostPrefixLength).toBe(64);
  });

  it('parses a dual-stack comma list', () => {
    const list = parseClusterSubnets('10.128.0.0/14/23, fd00:10:128::/48/64');
    expect(list.map(formatClusterSubnet)).toEqual(['10.128.0.0/14/23', 'fd00:10:128::/48/64']);
  });

  it('rejects host prefixes shorter than the cluster prefix or without room for pods', () => {
    expect(() => parseClusterSubnet('10.128.0.0/14/12')).toThrow(/shorter than the cluster prefix/);
    expect(() => parseClusterSubnet('10.128.0.0/14/30')).toThrow(/no room for pods/);
    expect(() => parseClusterSubnet('10.128.0.0/14/x')).toThrow(InvalidRangeError);
    expect(() => parseClusterSubnet('10.128.0.0/14/23/1')).toThrow(InvalidRangeError);
    expect(() => parseClusterSubnet('10.128.0.1/14/23')).toThrow(/host bits/);
  });

  it('rejects overlapping cluster subnets', () => {
    expect(() => parseClusterSubnets('10.128.0.0/14/23,10.130.0.0/16/24')).toThrow(/overlap/);
  });
});

describe('ranges', () => {
  it('parses Kube-OVN a..b, Spiderpool a-b, single IPs and CIDRs', () => {
    const kubeOvn = parseIpRange('172.17.0.1..172.17.0.10');
    expect(rangeSize(kubeOvn)).toBe(10n);
    expect(formatIpRange(kubeOvn, 'kube-ovn')).toBe('172.17.0.1..172.17.0.10');
    const spider = parseIpRange('172.18.30.131-172.18.30.140');
    expect(rangeSize(spider)).toBe(10n);
    expect(formatIpRange(spider)).toBe('172.18.30.131-172.18.30.140');
    expect(rangeSize(parseIpRange('172.17.0.100'))).toBe(1n);
    expect(rangeSize(parseIpRange('10.0.0.0/30'))).toBe(4n);
    expect(formatIpRange(parseIpRange('fd00::10-fd00::1f'))).toBe('fd00::10-fd00::1f');
  });

  it('rejects reversed, mixed-family and empty ranges', () => {
    expect(() => parseIpRange('10.0.0.9..10.0.0.1')).toThrow(/start is after end/);
    expect(() => parseIpRange('10.0.0.1-fd00::1')).toThrow(/mixes IPv4 and IPv6/);
    expect(() => parseIpRange(' ')).toThrow(InvalidRangeError);
    expect(() => parseIpRange('10.0.0.1..x')).toThrow(InvalidRangeError);
  });

  it('normalizes (sort + merge adjacent) and subtracts', () => {
    const merged = normalizeRanges(['10.0.0.5-10.0.0.9', '10.0.0.1-10.0.0.4', '10.0.0.20'].map(parseIpRange));
    expect(formatRangeList(merged)).toBe('10.0.0.1-10.0.0.9,10.0.0.20');
    const rest = subtractRanges(
      [parseIpRange('10.0.0.0/28')],
      ['10.0.0.0', '10.0.0.3-10.0.0.5', '10.0.0.15'].map(parseIpRange),
    );
    expect(formatRangeList(rest)).toBe('10.0.0.1-10.0.0.2,10.0.0.6-10.0.0.14');
  });
});
