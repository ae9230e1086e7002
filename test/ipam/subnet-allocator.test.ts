import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HostSubnetAllocator,
  InvalidCidrError,
  InvalidRangeError,
  SubnetConflictError,
  SubnetOutOfRangeError,
  SubnetsExhaustedError,
  cidrsOverlap,
  parseCidr,
} from '../../src/ipam/index.js';

describe('HostSubnetAllocator', () => {
  it('carves 10.128.0.0/14/23 into /23 host subnets in order', () => {
    const s = new HostSubnetAllocator('10.128.0.0/14/23');
    expect(s.allocate('node-a')).toEqual(['10.128.0.0/23']);
    expect(s.allocate('node-b')).toEqual(['10.128.2.0/23']);
    expect(s.allocate('node-c')).toEqual(['10.128.4.0/23']);
    expect(s.allocate('node-a')).toEqual(['10.128.0.0/23']); // idempotent
    expect(s.usage()).toEqual([{ family: 4, total: 512n, allocated: 3 }]);
  });

  it('gives one subnet of each family in dual stack (fd00:10:128::/48/64)', () => {
    const s = new HostSubnetAllocator(['10.128.0.0/14/23', 'fd00:10:128::/48/64']);
    expect(s.allocate('node-a')).toEqual(['10.128.0.0/23', 'fd00:10:128::/64']);
    expect(s.allocate('node-b')).toEqual(['10.128.2.0/23', 'fd00:10:128:1::/64']);
    expect(s.families).toEqual([4, 6]);
    expect(s.usage()).toEqual([
      { family: 4, total: 512n, allocated: 2 },
      { family: 6, total: 65536n, allocated: 2 },
    ]);
  });

  it('moves on to the next cluster subnet and then reports exhaustion by name', () => {
    const s = new HostSubnetAllocator('10.0.0.0/23/24,10.1.0.0/24/24');
    expect(['a', 'b', 'c'].map((n) => s.allocate(n))).toEqual([
      ['10.0.0.0/24'],
      ['10.0.1.0/24'],
      ['10.1.0.0/24'],
    ]);
    expect(() => s.allocate('d')).toThrow(SubnetsExhaustedError);
    expect(() => s.allocate('d')).toThrow(
      'no free IPv4 host subnet left in 10.0.0.0/23/24, 10.1.0.0/24/24 for d',
    );
  });

  it('does not reuse a released subnet while others are free, and reuses the oldest one last', () => {
    const s = new HostSubnetAllocator('10.0.0.0/22/24'); // 4 subnets
    s.allocate('a'); // .0
    s.allocate('b'); // .1
    expect(s.release('a')).toEqual(['10.0.0.0/24']);
    expect(s.allocate('c')).toEqual(['10.0.2.0/24']);
    expect(s.allocate('d')).toEqual(['10.0.3.0/24']);
    expect(s.allocate('a')).toEqual(['10.0.0.0/24']); // the only one left
    expect(s.ownerOf('10.0.0.0/24')).toBe('a');
  });

  it('prefers a never-used subnet in a later cluster subnet over a released one in an earlier one', () => {
    const s = new HostSubnetAllocator('10.0.0.0/24/24,10.1.0.0/24/24');
    s.allocate('a');
    s.release('a');
    expect(s.allocate('b')).toEqual(['10.1.0.0/24']);
  });

  it('rolls back the IPv4 subnet when IPv6 is exhausted', () => {
    const s = new HostSubnetAllocator('10.0.0.0/22/24,fd00::/63/64'); // 4 v4, 2 v6
    s.allocate('a');
    s.allocate('b');
    expect(() => s.allocate('c')).toThrow(/no free IPv6 host subnet/);
    expect(s.get('c')).toBeUndefined();
    expect(s.usage()[0]!.allocated).toBe(2);
    s.release('b');
    expect(s.allocate('d')).toEqual(['10.0.3.0/24', 'fd00:0:0:1::/64']);
    // 10.0.2.0/24 went straight back to free (not into quarantine), so it beats the released ones.
    s.release('a');
    expect(s.allocate('e')).toEqual(['10.0.2.0/24', 'fd00::/64']);
  });

  describe('explicit subnets', () => {
    it('honours an explicit subnet and skips it for others', () => {
      const s = new HostSubnetAllocator('10.128.0.0/14/23');
      expect(s.reserve('master', ['10.128.2.0/23'])).toEqual(['10.128.2.0/23']);
      expect(s.allocate('n1')).toEqual(['10.128.0.0/23']);
      expect(s.allocate('n2')).toEqual(['10.128.4.0/23']);
    });

    it('refuses a subnet another owner holds, naming both', () => {
      const s = new HostSubnetAllocator('10.128.0.0/14/23');
      s.allocate('n1');
      expect(() => s.reserve('n2', ['10.128.0.0/23'])).toThrow(SubnetConflictError);
      expect(() => s.reserve('n2', ['10.128.1.0/24'])).toThrow(
        'subnet 10.128.1.0/24 requested by n2 overlaps 10.128.0.0/23 held by n1',
      );
      expect(() => s.reserve('n2', ['10.128.0.0/22'])).toThrow(SubnetConflictError);
      expect(s.get('n2')).toBeUndefined();
    });

    it('refuses subnets outside the cluster subnets and malformed ones', () => {
      const s = new HostSubnetAllocator('10.128.0.0/14/23');
      expect(() => s.reserve('n', ['192.168.1.0/24'])).toThrow(SubnetOutOfRangeError);
      expect(() => s.reserve('n', ['192.168.1.0/24'])).toThrow(
        /not inside any cluster subnet \(10\.128\.0\.0\/14\/23\)/,
      );
      expect(() => s.reserve('n', ['fd00::/64'])).toThrow(SubnetOutOfRangeError);
      expect(() => s.reserve('n', ['10.128.0.5/23'])).toThrow(InvalidCidrError);
      expect(() => s.reserve('n', ['10.128.0.0/23', '10.128.2.0/23'])).toThrow(InvalidRangeError);
    });

    it("replaces the owner's subnet of that family", () => {
      const s = new HostSubnetAllocator('10.128.0.0/14/23');
      s.allocate('n');
      expect(s.reserve('n', ['10.128.8.0/23'])).toEqual(['10.128.8.0/23']);
      expect(s.ownerOf('10.128.0.0/23')).toBeUndefined();
      expect(s.ownerOf('10.128.8.0/23')).toBe('n');
    });

    it('takes every slot an explicit wider subnet covers', () => {
      const s = new HostSubnetAllocator('10.0.0.0/22/24');
      s.reserve('big', ['10.0.0.0/23']);
      expect(s.allocate('x')).toEqual(['10.0.2.0/24']);
      expect(s.ownerOf('10.0.1.0/24')).toBe('big');
      expect(s.release('big')).toEqual(['10.0.0.0/23']);
      expect(s.ownerOf('10.0.1.0/24')).toBeUndefined();
    });
  });

  describe('rebuild', () => {
    it('restores node-subnets annotations so the same nodes keep the same subnets', () => {
      const s = new HostSubnetAllocator(['10.128.0.0/14/23', 'fd00:10:128::/48/64']);
      const report = s.rebuild([
        { owner: 'n1', subnets: ['10.128.6.0/23', 'fd00:10:128:6::/64'] },
        { owner: 'n2', subnets: ['10.128.2.0/23', 'fd00:10:128:2::/64'] },
      ]);
      expect(report).toEqual({ restored: 4, duplicates: [], ownerConflicts: [], rejected: [] });
      expect(s.get('n1')).toEqual(['10.128.6.0/23', 'fd00:10:128:6::/64']);
      expect(s.allocations()).toEqual([
        { owner: 'n1', subnets: ['10.128.6.0/23', 'fd00:10:128:6::/64'] },
        { owner: 'n2', subnets: ['10.128.2.0/23', 'fd00:10:128:2::/64'] },
      ]);
      // New nodes continue after the highest restored subnet.
      expect(s.allocate('n3')).toEqual(['10.128.8.0/23', 'fd00:10:128:7::/64']);
    });

    it('reports duplicates, conflicting and unusable entries without merging them', () => {
      const s = new HostSubnetAllocator('10.128.0.0/14/23');
      const report = s.rebuild([
        { owner: 'n1', subnets: ['10.128.0.0/23'] },
        { owner: 'n2', subnets: ['10.128.0.0/23'] },
        { owner: 'n1', subnets: ['10.128.4.0/23'] },
        { owner: 'n3', subnets: ['192.168.0.0/24', 'garbage'] },
      ]);
      expect(report.restored).toBe(1);
      expect(report.duplicates).toEqual([{ owner: 'n2', subnet: '10.128.0.0/23', heldBy: 'n1' }]);
      expect(report.ownerConflicts).toEqual([
        { owner: 'n1', subnet: '10.128.4.0/23', kept: '10.128.0.0/23' },
      ]);
      expect(report.rejected.map((r) => [r.subnet, r.error.name])).toEqual([
        ['192.168.0.0/24', 'SubnetOutOfRangeError'],
        ['garbage', 'InvalidCidrError'],
      ]);
      expect(s.get('n2')).toBeUndefined();
      expect(s.allocate('n2')).toEqual(['10.128.2.0/23']);
    });
  });

  it('property: random allocate/reserve/release/rebuild never gives overlapping subnets and rebuild reproduces the state', () => {
    type Op =
      | { kind: 'alloc'; owner: number }
      | { kind: 'reserve'; owner: number; slot: number }
      | { kind: 'release'; owner: number }
      | { kind: 'rebuild' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), owner: fc.nat(12) }),
      fc.record({ kind: fc.constant('reserve' as const), owner: fc.nat(12), slot: fc.nat(15) }),
      fc.record({ kind: fc.constant('release' as const), owner: fc.nat(12) }),
      fc.record({ kind: fc.constant('rebuild' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const s = new HostSubnetAllocator('10.0.0.0/20/24,fd00::/60/64'); // 16 of each
        for (const o of ops) {
          try {
            if (o.kind === 'alloc') s.allocate(`n${o.owner}`);
            else if (o.kind === 'reserve') s.reserve(`n${o.owner}`, [`10.0.${o.slot}.0/24`]);
            else if (o.kind === 'release') s.release(`n${o.owner}`);
            else {
              const before = s.allocations();
              const report = s.rebuild(before);
              expect(report.duplicates).toEqual([]);
              expect(report.ownerConflicts).toEqual([]);
              expect(report.rejected).toEqual([]);
              expect(s.allocations()).toEqual(before);
            }
          } catch (err) {
            expect(err).toBeInstanceOf(o.kind === 'reserve' ? SubnetConflictError : SubnetsExhaustedError);
          }
          const all = s.allocations().flatMap((a) => a.subnets.map((x) => parseCidr(x)));
          for (let i = 0; i < all.length; i++) {
            for (let j = i + 1; j < all.length; j++) expect(cidrsOverlap(all[i]!, all[j]!)).toBe(false);
          }
          for (const a of s.allocations()) {
            for (const subnet of a.subnets) expect(s.ownerOf(subnet)).toBe(a.owner);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
