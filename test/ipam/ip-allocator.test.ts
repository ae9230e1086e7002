import { describe, expect, it } from 'vitest';
import {
  AddressExcludedError,
  AddressInUseError,
  AddressOutOfRangeError,
  AddressesExhaustedError,
  InvalidAddressError,
  InvalidPoolError,
  IpAllocator,
  KeyAlreadyAllocatedError,
  MultiFamilyAllocator,
  createNodeIpAllocator,
  formatRangeList,
  hostSubnetGatewayIp,
  hostSubnetManagementIp,
} from '../../src/ipam/index.js';

describe('IpAllocator', () => {
  it('hands out the lowest addresses first and skips network and broadcast', () => {
    const a = new IpAllocator({ subnet: '10.0.0.0/29' });
    const got = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => a.allocate(k));
    expect(got).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(() => a.allocate('g')).toThrow(AddressesExhaustedError);
    expect(() => a.allocate('g')).toThrow(/no free IP address left in subnet 10\.0\.0\.0\/29 for g/);
  });

  it('is idempotent per key', () => {
    const a = new IpAllocator({ subnet: '10.0.0.0/24' });
    const ip = a.allocate('pod-uid/eth0');
    expect(a.allocate('pod-uid/eth0')).toBe(ip);
    expect(a.allocate('pod-uid/eth0', { ip })).toBe(ip);
    expect(a.size).toBe(1);
  });

  it('never hands out reserved or excluded addresses dynamically', () => {
    const a = new IpAllocator({
      subnet: '10.0.0.0/28',
      reserved: ['10.0.0.1', '10.0.0.2'],
      exclude: ['10.0.0.3..10.0.0.5', '10.0.0.14', '192.168.0.0/16'],
    });
    const got: string[] = [];
    for (let i = 0; ; i++) {
      try {
        got.push(a.allocate(`k${i}`));
      } catch (err) {
        expect(err).toBeInstanceOf(AddressesExhaustedError);
        break;
      }
    }
    expect(got).toEqual([
      '10.0.0.6',
      '10.0.0.7',
      '10.0.0.8',
      '10.0.0.9',
      '10.0.0.10',
      '10.0.0.11',
      '10.0.0.12',
      '10.0.0.13',
    ]);
  });

  describe('fixed addresses', () => {
    const make = () =>
      new IpAllocator({
        subnet: '172.17.0.0/16',
        reserved: ['172.17.0.1'],
        exclude: ['172.17.0.0..172.17.0.10'],
      });

    it('gives a free fixed address', () => {
      const a = make();
      expect(a.allocate('static', { ip: '172.17.0.100' })).toBe('172.17.0.100');
      expect(a.ownerOf('172.17.0.100')).toBe('static');
    });

    it('refuses an address held by another key, naming both', () => {
      const a = make();
      a.allocate('first', { ip: '172.17.0.100' });
      expect(() => a.allocate('second', { ip: '172.17.0.100' })).toThrow(AddressInUseError);
      expect(() => a.allocate('second', { ip: '172.17.0.100' })).toThrow(
        'IP 172.17.0.100 requested by second is already allocated to first',
      );
    });

    it('refuses a second, different address for a key that holds one', () => {
      const a = make();
      a.allocate('k', { ip: '172.17.0.100' });
      expect(() => a.allocate('k', { ip: '172.17.0.101' })).toThrow(KeyAlreadyAllocatedError);
    });

    it('refuses excluded addresses unless allowExcluded (Kube-OVN fixed-IP segment)', () => {
      const a = make();
      expect(() => a.allocate('k', { ip: '172.17.0.5' })).toThrow(AddressExcludedError);
      expect(a.allocate('k', { ip: '172.17.0.5', allowExcluded: true })).toBe('172.17.0.5');
      // Releasing it does not make it dynamically allocatable.
      a.release('k');
      expect(a.state('172.17.0.5')).toBe('excluded');
    });

    it('refuses reserved addresses even with allowExcluded', () => {
      const a = make();
      expect(() => a.allocate('k', { ip: '172.17.0.1', allowExcluded: true })).toThrow(
        /172\.17\.0\.1 cannot be allocated: it is reserved/,
      );
      expect(() => a.allocate('k', { ip: '172.17.0.0', allowExcluded: true })).toThrow(/network address/);
      expect(() => a.allocate('k', { ip: '172.17.255.255' })).toThrow(/broadcast address/);
    });

    it('refuses addresses outside the subnet or of the other family, and garbage', () => {
      const a = make();
      expect(() => a.allocate('k', { ip: '172.18.0.5' })).toThrow(AddressOutOfRangeError);
      expect(() => a.allocate('k', { ip: 'fd00::5' })).toThrow(AddressOutOfRangeError);
      expect(() => a.allocate('k', { ip: '172.17.0' })).toThrow(InvalidAddressError);
    });

    it('takes a quarantined address when asked for it explicitly', () => {
      const a = make();
      a.allocate('old', { ip: '172.17.0.100' });
      a.release('old');
      expect(a.state('172.17.0.100')).toBe('quarantined');
      expect(a.allocate('new', { ip: '172.17.0.100' })).toBe('172.17.0.100');
    });
  });

  describe('ranges', () => {
    it('allocates only inside the given ranges (Spiderpool ips)', () => {
      const a = new IpAllocator({
        subnet: '172.18.0.0/16',
        ranges: ['172.18.30.131-172.18.30.140'],
        reserved: ['172.18.0.1'],
      });
      expect(a.allocate('p1')).toBe('172.18.30.131');
      expect(a.allocate('p2')).toBe('172.18.30.132');
      expect(() => a.allocate('x', { ip: '172.18.30.10' })).toThrow(
        /outside the ranges of subnet 172\.18\.0\.0\/16/,
      );
      expect(a.usage()).toMatchObject({ size: 10n, used: 2n, available: 8n });
    });

    it('spans several ranges in order', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/24', ranges: ['10.0.0.50', '10.0.0.10-10.0.0.11'] });
      expect(['a', 'b', 'c'].map((k) => a.allocate(k))).toEqual(['10.0.0.10', '10.0.0.11', '10.0.0.50']);
      expect(() => a.allocate('d')).toThrow(AddressesExhaustedError);
    });

    it('rejects ranges outside the subnet and reserved addresses outside it', () => {
      expect(() => new IpAllocator({ subnet: '10.0.0.0/24', ranges: ['10.0.1.1-10.0.1.5'] })).toThrow(
        InvalidPoolError,
      );
      expect(() => new IpAllocator({ subnet: '10.0.0.0/24', ranges: ['10.0.0.250-10.0.1.5'] })).toThrow(
        InvalidPoolError,
      );
      expect(() => new IpAllocator({ subnet: '10.0.0.0/24', reserved: ['10.0.1.1'] })).toThrow(
        InvalidPoolError,
      );
    });
  });

  describe('release and quarantine', () => {
    it('does not hand a released address out again while others are free', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/29' }); // .1-.6
      const first = a.allocate('a');
      expect(a.release('a')).toBe(first);
      expect(a.release('a')).toBeUndefined();
      const next = ['b', 'c', 'd', 'e', 'f'].map((k) => a.allocate(k));
      expect(next).not.toContain(first);
      // Only the quarantined address is left: it is reused rather than failing.
      expect(a.allocate('g')).toBe(first);
    });

    it('keeps the quarantine bounded by size', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/29', quarantine: { maxSize: 1 } });
      for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) a.allocate(k);
      a.release('a'); // .1
      a.release('b'); // .2 pushes .1 out
      expect(a.state('10.0.0.1')).toBe('free');
      expect(a.state('10.0.0.2')).toBe('quarantined');
      expect(a.allocate('g')).toBe('10.0.0.1');
    });

    it('lets addresses out of quarantine after maxAgeMs', () => {
      let now = 0;
      const a = new IpAllocator({ subnet: '10.0.0.0/29', quarantine: { maxAgeMs: 60_000 }, now: () => now });
      a.allocate('a');
      a.release('a');
      expect(a.usage().quarantined).toBe(1n);
      now = 60_000;
      expect(a.usage().quarantined).toBe(0n);
      expect(a.state('10.0.0.1')).toBe('free');
    });
  });

  describe('rebuild', () => {
    it('restores allocations and continues after the highest address', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/24' });
      const report = a.rebuild([
        { key: 'a', ip: '10.0.0.7' },
        { key: 'b', ip: '10.0.0.3' },
      ]);
      expect(report).toEqual({ restored: 2, duplicates: [], keyConflicts: [], rejected: [] });
      expect(a.allocations()).toEqual([
        { key: 'b', ip: '10.0.0.3' },
        { key: 'a', ip: '10.0.0.7' },
      ]);
      expect(a.allocate('c')).toBe('10.0.0.8');
      expect(a.get('a')).toBe('10.0.0.7');
    });

    it('reports duplicates and keeps the earlier owner (kube-ovn #4304, #2026)', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/24' });
      const report = a.rebuild([
        { key: 'old-pod', ip: '10.0.0.5' },
        { key: 'new-pod', ip: '10.0.0.5' },
        { key: 'old-pod', ip: '10.0.0.6' },
        { key: 'old-pod', ip: '10.0.0.5' },
        { key: 'bad', ip: '10.0.1.5' },
        { key: 'worse', ip: 'nonsense' },
      ]);
      expect(report.restored).toBe(1);
      expect(report.duplicates).toEqual([{ key: 'new-pod', ip: '10.0.0.5', heldBy: 'old-pod' }]);
      expect(report.keyConflicts).toEqual([{ key: 'old-pod', ip: '10.0.0.6', kept: '10.0.0.5' }]);
      expect(report.rejected.map((r) => [r.key, r.error.name])).toEqual([
        ['bad', 'AddressOutOfRangeError'],
        ['worse', 'InvalidAddressError'],
      ]);
      expect(a.ownerOf('10.0.0.5')).toBe('old-pod');
      expect(a.get('new-pod')).toBeUndefined();
    });

    it('accepts recorded fixed addresses in the excluded range', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/24', exclude: ['10.0.0.1..10.0.0.10'] });
      expect(a.rebuild([{ key: 'fixed', ip: '10.0.0.4' }]).restored).toBe(1);
      expect(a.usage()).toMatchObject({ size: 254n, excluded: 10n, used: 1n, available: 244n });
    });

    it('replaces any previous state', () => {
      const a = new IpAllocator({ subnet: '10.0.0.0/24' });
      a.allocate('x');
      a.rebuild([]);
      expect(a.allocations()).toEqual([]);
      expect(a.allocate('y')).toBe('10.0.0.1');
    });
  });

  it('reports usage and Kube-OVN style range strings', () => {
    const a = new IpAllocator({
      subnet: '10.16.0.0/28',
      reserved: ['10.16.0.1'],
      exclude: ['10.16.0.2..10.16.0.3'],
    });
    a.allocate('a');
    a.allocate('b');
    a.allocate('c', { ip: '10.16.0.9' });
    a.release('b');
    expect(a.usage()).toEqual({ size: 13n, excluded: 2n, used: 2n, available: 9n, quarantined: 1n });
    expect(formatRangeList(a.usedRanges())).toBe('10.16.0.4,10.16.0.9');
    expect(formatRangeList(a.availableRanges())).toBe('10.16.0.5-10.16.0.8,10.16.0.10-10.16.0.14');
  });

  it('works for IPv6 /64 subnets with a bounded bitmap', () => {
    const a = new IpAllocator({
      subnet: 'fd00:10:128:5::/64',
      reserved: ['fd00:10:128:5::1'],
      maxBitmapSize: 1024,
    });
    expect(a.allocate('a')).toBe('fd00:10:128:5::2');
    expect(a.allocate('far', { ip: 'fd00:10:128:5:ffff:ffff:ffff:fffe' })).toBe(
      'fd00:10:128:5:ffff:ffff:ffff:fffe',
    );
    // IPv6 has no broadcast: the last address is usable.
    expect(a.allocate('last', { ip: 'fd00:10:128:5:ffff:ffff:ffff:ffff' })).toBe(
      'fd00:10:128:5:ffff:ffff:ffff:ffff',
    );
    expect(a.usage().size).toBe((1n << 64n) - 2n);
    a.release('far');
    expect(a.state('fd00:10:128:5:ffff:ffff:ffff:fffe')).toBe('free');
  });

  it('allocates 100,000 addresses without a duplicate', () => {
    const a = new IpAllocator({ subnet: '10.128.0.0/14' });
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(a.allocate(`pod-${i}`));
    expect(seen.size).toBe(100_000);
    expect(a.usage().used).toBe(100_000n);
  });
});

describe('MultiFamilyAllocator', () => {
  const make = () =>
    new MultiFamilyAllocator([
      new IpAllocator({ subnet: '10.0.0.0/30' }), // .1, .2
      new IpAllocator({ subnet: 'fd00::/64' }),
    ]);

  it('gives one address per family, fixed where asked', () => {
    const m = make();
    expect(m.allocate('a')).toEqual(['10.0.0.1', 'fd00::1']);
    expect(m.allocate('b', { ips: ['fd00::99'] })).toEqual(['10.0.0.2', 'fd00::99']);
    expect(m.get('b')).toEqual(['10.0.0.2', 'fd00::99']);
    expect(m.ownerOf('fd00::99')).toBe('b');
  });

  it('rolls back the first family when the second fails', () => {
    const m = make();
    m.allocate('a', { ips: ['fd00::5'] });
    expect(() => m.allocate('b', { ips: ['fd00::5'] })).toThrow(AddressInUseError);
    expect(m.get('b')).toBeUndefined();
    // 10.0.0.2 went straight back (it was never used), so it is handed out now.
    expect(m.allocate('c')).toEqual(['10.0.0.2', 'fd00::1']);
  });

  it('rejects two allocators of one family and two fixed addresses of one family', () => {
    expect(
      () =>
        new MultiFamilyAllocator([
          new IpAllocator({ subnet: '10.0.0.0/24' }),
          new IpAllocator({ subnet: '10.1.0.0/24' }),
        ]),
    ).toThrow(InvalidPoolError);
    expect(() => make().allocate('a', { ips: ['10.0.0.1', '10.0.0.2'] })).toThrow(/more than one IPv4/);
  });

  it('rebuilds by family and reports addresses of a missing family', () => {
    const m = new MultiFamilyAllocator([new IpAllocator({ subnet: '10.0.0.0/24' })]);
    const report = m.rebuild([{ key: 'a', ips: ['10.0.0.9', 'fd00::9'] }]);
    expect(report.restored).toBe(1);
    expect(report.rejected.map((r) => r.ip)).toEqual(['fd00::9']);
    expect(m.allocations()).toEqual([{ key: 'a', ips: ['10.0.0.9'] }]);
  });
});

describe('node allocator', () => {
  it('never hands out the gateway (.1) and management port (.2) of a host subnet', () => {
    expect(hostSubnetGatewayIp('10.128.2.0/23')).toBe('10.128.2.1');
    expect(hostSubnetManagementIp('10.128.2.0/23')).toBe('10.128.2.2');
    const n = createNodeIpAllocator('worker-1', ['10.128.2.0/23', 'fd00:10:128:1::/64']);
    expect(n.allocate('pod-a/eth0')).toEqual(['10.128.2.3', 'fd00:10:128:1::3']);
    expect(() => n.allocate('pod-b/eth0', { ips: ['10.128.2.2'] })).toThrow(
      /10\.128\.2\.2 cannot be allocated: it is reserved in node worker-1 subnet 10\.128\.2\.0\/23/,
    );
  });
});
