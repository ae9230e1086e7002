/**
 * Random sequences of allocate / fixed allocate / release / rebuild / clock steps against a small
 * subnet, checked step by step against a plain model of which addresses are used, excluded and
 * quarantined.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AddressExcludedError,
  AddressInUseError,
  AddressesExhaustedError,
  IpAllocator,
  KeyAlreadyAllocatedError,
  formatIpValue,
  parseCidr,
  parseIp,
  type IpFamily,
} from '../../src/ipam/index.js';

type Op =
  | { kind: 'alloc'; key: number }
  | { kind: 'fixed'; key: number; offset: number; allowExcluded: boolean }
  | { kind: 'release'; key: number }
  | { kind: 'rebuild'; reverse: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), key: fc.nat(40) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fixed' as const),
      key: fc.nat(40),
      offset: fc.nat(31),
      allowExcluded: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), key: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rebuild' as const), reverse: fc.boolean() }) },
);

const scenarioArb = fc.record({
  family: fc.constantFrom<IpFamily>(4, 6),
  excludeOffsets: fc.uniqueArray(fc.integer({ min: 2, max: 30 }), { maxLength: 8 }),
  quarantineSize: fc.integer({ min: 0, max: 40 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 150 }),
});

describe('IpAllocator properties', () => {
  it('never duplicates, never hands out excluded or reserved addresses, never exceeds the pool, honours the quarantine', () => {
    fc.assert(
      fc.property(scenarioArb, ({ family, excludeOffsets, quarantineSize, ops }) => {
        const subnet = family === 4 ? '10.9.0.0/27' : 'fd00:9::/123';
        const cidr = parseCidr(subnet);
        const ip = (offset: number): string => formatIpValue(family, cidr.network + BigInt(offset));
        const offsetOf = (text: string): number => Number(parseIp(text).value - cidr.network);
        // Reserved: network (0), gateway (1), and for IPv4 the broadcast (31).
        const reserved = new Set(family === 4 ? [0, 1, 31] : [0, 1]);
        const excluded = new Set(excludeOffsets);
        const a = new IpAllocator({
          subnet,
          reserved: [ip(1)],
          exclude: excludeOffsets.map(ip),
          quarantine: { maxSize: quarantineSize },
        });

        // The model.
        const held = new Map<number, number>(); // key -> offset
        let quarantine: number[] = []; // oldest first
        const owner = (offset: number): number | undefined => [...held].find(([, o]) => o === offset)?.[0];
        const freeOffsets = (): number[] => {
          const used = new Set(held.values());
          const out: number[] = [];
          for (let o = 0; o < 32; o++) {
            if (!reserved.has(o) && !excluded.has(o) && !used.has(o) && !quarantine.includes(o)) out.push(o);
          }
          return out;
        };
        const domainSize = 32 - reserved.size;

        for (const op of ops) {
          const key = `k${'key' in op ? op.key : ''}`;
          if (op.kind === 'alloc') {
            const had = held.get(op.key);
            const free = freeOffsets();
            let got: string;
            try {
              got = a.allocate(key);
            } catch (err) {
              expect(err).toBeInstanceOf(AddressesExhaustedError);
              expect(had).toBeUndefined();
              expect(free).toEqual([]);
              expect(quarantine).toEqual([]);
              continue;
            }
            const o = offsetOf(got);
            if (had !== undefined) {
              expect(o).toBe(had);
              continue;
            }
            expect(reserved.has(o)).toBe(false);
            expect(excluded.has(o)).toBe(false);
            expect(owner(o)).toBeUndefined();
            if (quarantine.includes(o)) {
              // Reused from quarantine only when nothing else is free, and the oldest first.
              expect(free).toEqual([]);
              expect(o).toBe(quarantine[0]);
              quarantine = quarantine.slice(1);
            } else {
              expect(free).toContain(o);
            }
            held.set(op.key, o);
          } else if (op.kind === 'fixed') {
            const had = held.get(op.key);
            const o = op.offset;
            let got: string | undefined;
            let error: unknown;
            try {
              got = a.allocate(key, { ip: ip(o), allowExcluded: op.allowExcluded });
            } catch (err) {
              error = err;
            }
            if (had !== undefined) {
              if (had === o) expect(got).toBe(ip(o));
              else expect(error).toBeInstanceOf(KeyAlreadyAllocatedError);
            } else if (reserved.has(o)) {
              expect(error).toBeInstanceOf(AddressExcludedError);
            } else if (owner(o) !== undefined) {
              expect(error).toBeInstanceOf(AddressInUseError);
            } else if (excluded.has(o) && !op.allowExcluded) {
              expect(error).toBeInstanceOf(AddressExcludedError);
            } else {
              expect(error).toBeUndefined();
              expect(got).toBe(ip(o));
              held.set(op.key, o);
              quarantine = quarantine.filter((q) => q !== o);
            }
          } else if (op.kind === 'release') {
            const had = held.get(op.key);
            expect(a.release(key)).toBe(had === undefined ? undefined : ip(had));
            if (had !== undefined) {
              held.delete(op.key);
              if (!excluded.has(had) && quarantineSize > 0) {
                quarantine.push(had);
                if (quarantine.length > quarantineSize) quarantine = quarantine.slice(1);
              }
            }
          } else {
            const before = a.allocations();
            const entries = op.reverse ? [...before].reverse() : before;
            const report = a.rebuild(entries);
            // Rebuilding from the current allocations reproduces them exactly, with nothing to report.
            expect(report).toEqual({
              restored: before.length,
              duplicates: [],
              keyConflicts: [],
              rejected: [],
            });
            expect(a.allocations()).toEqual(before);
            quarantine = [];
          }

          // Invariants after every step.
          const live = a.allocations();
          const ips = live.map((x) => x.ip);
          expect(new Set(ips).size).toBe(ips.length);
          expect(new Map(live.map((x) => [Number(x.key.slice(1)), offsetOf(x.ip)]))).toEqual(held);
          const usage = a.usage();
          expect(usage.used).toBe(BigInt(held.size));
          expect(usage.size).toBe(BigInt(domainSize));
          expect(usage.quarantined).toBe(BigInt(quarantine.length));
          expect(usage.used <= usage.size).toBe(true);
          const usedExcluded = [...held.values()].filter((o) => excluded.has(o)).length;
          expect(usage.available).toBe(BigInt(domainSize - excluded.size - (held.size - usedExcluded)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('rebuild in any order keeps the first claimant of a duplicated address and reports the rest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(10), fc.integer({ min: 2, max: 20 })), { maxLength: 40 }),
        (claims) => {
          const a = new IpAllocator({ subnet: '10.1.0.0/27' });
          const entries = claims.map(([k, o]) => ({ key: `k${k}`, ip: `10.1.0.${o}` }));
          const report = a.rebuild(entries);
          const expected = new Map<string, string>(); // ip -> key
          const keys = new Map<string, string>(); // key -> ip
          let duplicates = 0;
          let conflicts = 0;
          for (const { key, ip } of entries) {
            if (keys.has(key)) {
              if (keys.get(key) !== ip) conflicts++;
              continue;
            }
            if (expected.has(ip)) {
              duplicates++;
              continue;
            }
            expected.set(ip, key);
            keys.set(key, ip);
          }
          expect(report.duplicates.length).toBe(duplicates);
          expect(report.keyConflicts.length).toBe(conflicts);
          expect(report.restored).toBe(expected.size);
          for (const [ip, key] of expected) expect(a.ownerOf(ip)).toBe(key);
        },
      ),
    );
  });
});
