import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AddressExcludedError,
  AddressInUseError,
  AddressesExhaustedError,
  InvalidPoolError,
  IpPool,
  KeyAlreadyAllocatedError,
  PoolCandidatesError,
  parseIpPoolList,
  statefulSetKey,
  type StatefulSetRef,
} from '../../src/ipam/index.js';

/** Seed 004: Kube-OVN Subnet for a macvlan attachment (provider macvlan.default). */
const kubeOvnMacvlanSubnet = () =>
  new IpPool({
    name: 'macvlan',
    subnets: ['172.17.0.0/16'],
    gateways: ['172.17.0.1'],
    excludeIps: ['172.17.0.0..172.17.0.10'],
    routes: [{ dst: '192.168.0.0/24', gw: '172.17.0.254' }],
    explicitMayUseExcluded: true,
  });

describe('IpPool: Kube-OVN Subnet 172.17.0.0/16 (seed 004)', () => {
  it('gives a pod without annotations the first address after the excluded range', () => {
    const pool = kubeOvnMacvlanSubnet();
    const a = pool.allocate('uid-1/net1');
    expect(a).toEqual({
      key: 'uid-1/net1',
      addresses: [{ ip: '172.17.0.11', prefixLength: 16, gateway: '172.17.0.1' }],
    });
    expect(pool.routes).toEqual([{ dst: '192.168.0.0/24', gw: '172.17.0.254' }]);
  });

  it('gives the static-IP pod its macvlan.default.kubernetes.io/ip_address', () => {
    const pool = kubeOvnMacvlanSubnet();
    expect(pool.allocate('static-ip/net1', { ips: ['172.17.0.100'] }).addresses[0]!.ip).toBe('172.17.0.100');
    expect(() => pool.allocate('other/net1', { ips: ['172.17.0.100'] })).toThrow(AddressInUseError);
    // Kube-OVN lets fixed IPs use the excluded segment, but never the gateway.
    expect(pool.allocate('fixed-in-excluded/net1', { ips: ['172.17.0.5'] }).addresses[0]!.ip).toBe(
      '172.17.0.5',
    );
    expect(() => pool.allocate('gw/net1', { ips: ['172.17.0.1'] })).toThrow(AddressExcludedError);
  });

  it('gives the ip_pool Deployment the first free entries of its list', () => {
    const pool = kubeOvnMacvlanSubnet();
    const candidates = parseIpPoolList('172.17.0.200,172.17.0.201,172.17.0.202');
    const ips = ['p1', 'p2', 'p3'].map((p) => pool.allocate(`${p}/net1`, { candidates }).addresses[0]!.ip);
    expect(ips).toEqual(['172.17.0.200', '172.17.0.201', '172.17.0.202']);
    expect(pool.allocate('p2/net1', { candidates }).addresses[0]!.ip).toBe('172.17.0.201'); // idempotent
    expect(() => pool.allocate('p4/net1', { candidates })).toThrow(PoolCandidatesError);
    // A pod of the rollout replaces p2: it gets p2's address back, the only free one of the list.
    pool.release('p2/net1');
    expect(pool.allocate('p5/net1', { candidates }).addresses[0]!.ip).toBe('172.17.0.201');
  });

  it('prefers a free list entry over a just-released one', () => {
    const pool = kubeOvnMacvlanSubnet();
    const candidates = ['172.17.0.200', '172.17.0.201'];
    pool.allocate('p1/net1', { candidates });
    pool.release('p1/net1');
    expect(pool.allocate('p2/net1', { candidates }).addresses[0]!.ip).toBe('172.17.0.201');
  });

  it('gives StatefulSet ordinal N the N-th ip_pool entry', () => {
    const pool = kubeOvnMacvlanSubnet();
    const candidates = parseIpPoolList('172.17.0.200,172.17.0.201,172.17.0.202');
    const sts = (ordinal: number): StatefulSetRef => ({ namespace: 'default', name: 'web', ordinal });
    expect(pool.allocate(sts(2), { candidates }).addresses[0]!.ip).toBe('172.17.0.202');
    expect(pool.allocate(sts(0), { candidates }).addresses[0]!.ip).toBe('172.17.0.200');
    expect(() => pool.allocate(sts(3), { candidates })).toThrow(/has 3 entries; ordinal 3 has no address/);
    // An entry held by someone else is a conflict, not a silent substitute.
    pool.allocate('intruder/net1', { ips: ['172.17.0.201'] });
    expect(() => pool.allocate(sts(1), { candidates })).toThrow(AddressInUseError);
  });

  it('counts used and available addresses like the Subnet status', () => {
    const pool = kubeOvnMacvlanSubnet();
    pool.allocate('a/net1');
    pool.allocate('b/net1', { ips: ['172.17.0.5'] });
    // 65,534 hosts minus the gateway = 65,533; 9 more excluded (.2-.10); .5 is excluded already.
    expect(pool.usage().get(4)).toMatchObject({ size: 65533n, excluded: 9n, used: 2n, available: 65523n });
  });
});

describe('IpPool: SpiderIPPool ippool-test (seed 000)', () => {
  const spiderPool = () =>
    new IpPool({
      name: 'ippool-test',
      subnets: ['172.18.0.0/16'],
      ips: ['172.18.30.131-172.18.30.140'],
      gateways: ['172.18.0.1'],
    });

  it('gives the two replicas .131 and .132', () => {
    const pool = spiderPool();
    const a = pool.allocate('test-app-hstg7-uid/eth0');
    const b = pool.allocate('test-app-rj7sm-uid/eth0');
    expect([a.addresses[0], b.addresses[0]]).toEqual([
      { ip: '172.18.30.131', prefixLength: 16, gateway: '172.18.0.1' },
      { ip: '172.18.30.132', prefixLength: 16, gateway: '172.18.0.1' },
    ]);
    expect(pool.usage().get(4)).toMatchObject({ size: 10n, used: 2n, available: 8n });
  });

  it('runs out after ten pods', () => {
    const pool = spiderPool();
    for (let i = 0; i < 10; i++) pool.allocate(`p${i}`);
    expect(() => pool.allocate('p10')).toThrow(AddressesExhaustedError);
    expect(() => pool.allocate('p10')).toThrow(/pool ippool-test/);
  });

  it('refuses excluded addresses even for a fixed request (Spiderpool semantics)', () => {
    const pool = new IpPool({
      name: 'p',
      subnets: ['172.18.0.0/16'],
      ips: ['172.18.30.131-172.18.30.140'],
      excludeIps: ['172.18.30.135'],
    });
    expect(() => pool.allocate('x', { ips: ['172.18.30.135'] })).toThrow(AddressExcludedError);
    expect(() => pool.allocate('x', { ips: ['172.18.30.141'] })).toThrow(/outside the ranges of pool p/);
  });
});

describe('IpPool: StatefulSet retention and leak collection', () => {
  const web = (ordinal: number): StatefulSetRef => ({ namespace: 'default', name: 'web', ordinal });

  it("keeps a StatefulSet ordinal's address across pod restarts", () => {
    const pool = new IpPool({ name: 'p', subnets: ['10.16.0.0/24'] });
    const first = pool.allocate(web(0)).addresses[0]!.ip;
    pool.allocate('other-pod/eth0');
    // Pod deleted and recreated with a new uid: a release by the old pod's key does not touch it.
    expect(pool.release('old-pod-uid/eth0')).toBeUndefined();
    expect(pool.allocate(web(0)).addresses[0]!.ip).toBe(first);
    expect(pool.get(web(0))!.statefulSet).toEqual(web(0));
    expect(pool.get(web(0))!.key).toBe(statefulSetKey(web(0)));
  });

  it('releases ordinals at and above the new replica count on scale-down, all on delete', () => {
    const pool = new IpPool({ name: 'p', subnets: ['10.16.0.0/24'] });
    for (let i = 0; i < 4; i++) pool.allocate(web(i));
    pool.allocate({ namespace: 'default', name: 'db', ordinal: 0 });
    expect(
      pool
        .releaseStatefulSet('default', 'web', 2)
        .map((a) => a.statefulSet!.ordinal)
        .sort(),
    ).toEqual([2, 3]);
    expect(pool.get(web(1))).toBeDefined();
    expect(pool.releaseStatefulSet('default', 'web')).toHaveLength(2);
    expect(pool.allocations().map((a) => a.key)).toEqual(['sts/default/db/0']);
  });

  it('collects leaked allocations but keeps StatefulSet ones whose owner is still wanted', () => {
    const pool = new IpPool({ name: 'p', subnets: ['10.16.0.0/24'] });
    pool.allocate('live/eth0');
    pool.allocate('gone/eth0');
    pool.allocate(web(0));
    pool.allocate(web(5));
    const released = pool.collectLeaks({
      keys: new Set(['live/eth0']),
      statefulSetAlive: (ref) => ref.ordinal < 3, // web has 3 replicas
    });
    expect(released.map((r) => r.key).sort()).toEqual(['gone/eth0', 'sts/default/web/5']);
    expect(
      pool
        .allocations()
        .map((a) => a.key)
        .sort(),
    ).toEqual(['live/eth0', 'sts/default/web/0']);
  });

  it('rebuilds StatefulSet allocations so retention survives a controller restart (kube-ovn PR #1038)', () => {
    const pool = new IpPool({ name: 'p', subnets: ['10.16.0.0/24'] });
    const report = pool.rebuild([
      { owner: web(1), ips: ['10.16.0.20'] },
      { owner: 'pod/eth0', ips: ['10.16.0.21'] },
    ]);
    expect(report.restored).toBe(2);
    expect(pool.allocate(web(1)).addresses[0]!.ip).toBe('10.16.0.20');
    expect(pool.collectLeaks({ keys: new Set(), statefulSetAlive: () => true }).map((r) => r.key)).toEqual([
      'pod/eth0',
    ]);
  });

  it('refuses a different fixed address for a key that already holds one', () => {
    const pool = new IpPool({ name: 'p', subnets: ['10.16.0.0/24'] });
    pool.allocate('k', { ips: ['10.16.0.5'] });
    expect(() => pool.allocate('k', { ips: ['10.16.0.6'] })).toThrow(KeyAlreadyAllocatedError);
    expect(() => pool.allocate('k', { candidates: ['10.16.0.7'] })).toThrow(KeyAlreadyAllocatedError);
  });
});

describe('IpPool: dual stack', () => {
  const dual = () =>
    new IpPool({
      name: 'dual',
      subnets: ['10.16.0.0/16', 'fd00:10:16::/64'],
      gateways: ['10.16.0.1', 'fd00:10:16::1'],
      excludeIps: ['10.16.0.1', 'fd00:10:16::1'],
    });

  it('gives one address per family with its gateway', () => {
    expect(dual().allocate('a').addresses).toEqual([
      { ip: '10.16.0.2', prefixLength: 16, gateway: '10.16.0.1' },
      { ip: 'fd00:10:16::2', prefixLength: 64, gateway: 'fd00:10:16::1' },
    ]);
  });

  it('pairs ip_pool entries by family and fills a missing family dynamically', () => {
    const pool = dual();
    const candidates = parseIpPoolList('10.16.0.15,10.16.0.16,fd00:10:16::15,fd00:10:16::16');
    expect(candidates).toEqual([
      ['10.16.0.15', 'fd00:10:16::15'],
      ['10.16.0.16', 'fd00:10:16::16'],
    ]);
    expect(
      pool.allocate({ namespace: 'ns', name: 's', ordinal: 1 }, { candidates }).addresses.map((a) => a.ip),
    ).toEqual(['10.16.0.16', 'fd00:10:16::16']);
    expect(pool.allocate('v4-only', { ips: ['10.16.0.50'] }).addresses.map((a) => a.ip)).toEqual([
      '10.16.0.50',
      'fd00:10:16::2',
    ]);
  });

  it('parses the ";"-separated form of ip_pool', () => {
    expect(parseIpPoolList('10.16.0.15,fd00::f; 10.16.0.16,fd00::10;')).toEqual([
      ['10.16.0.15', 'fd00::f'],
      ['10.16.0.16', 'fd00::10'],
    ]);
  });
});

describe('IpPool: definition errors', () => {
  it('rejects pools that cannot work', () => {
    expect(() => new IpPool({ name: 'x', subnets: [] })).toThrow(InvalidPoolError);
    expect(() => new IpPool({ name: 'x', subnets: ['10.0.0.0/24'], ips: ['fd00::1-fd00::9'] })).toThrow(
      /no IPv6 subnet/,
    );
    expect(() => new IpPool({ name: 'x', subnets: ['10.0.0.0/24'], gateways: ['10.0.1.1'] })).toThrow(
      InvalidPoolError,
    );
    expect(() => new IpPool({ name: 'x', subnets: ['10.0.0.0/24'], ips: ['10.0.1.1-10.0.1.9'] })).toThrow(
      InvalidPoolError,
    );
    expect(() => new IpPool({ name: 'x', subnets: ['10.0.0.0/24', 'fd00::/64'], ips: ['10.0.0.5'] })).toThrow(
      /ips has no IPv6/,
    );
  });
});

describe('IpPool properties', () => {
  it('no live address is shared, list entries go to the right ordinal, rebuild reproduces the state', () => {
    type Op =
      | { kind: 'pod'; id: number; useList: boolean }
      | { kind: 'sts'; ordinal: number; useList: boolean }
      | { kind: 'release'; id: number }
      | { kind: 'scaleDown'; replicas: number }
      | { kind: 'gc'; liveMask: number; replicas: number }
      | { kind: 'rebuild' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('pod' as const), id: fc.nat(15), useList: fc.boolean() }),
      fc.record({ kind: fc.constant('sts' as const), ordinal: fc.nat(6), useList: fc.boolean() }),
      fc.record({ kind: fc.constant('release' as const), id: fc.nat(15) }),
      fc.record({ kind: fc.constant('scaleDown' as const), replicas: fc.nat(6) }),
      fc.record({ kind: fc.constant('gc' as const), liveMask: fc.nat(0xffff), replicas: fc.nat(6) }),
      fc.record({ kind: fc.constant('rebuild' as const) }),
    );
    const list = ['10.5.0.20', '10.5.0.21', '10.5.0.22', '10.5.0.23'];
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const pool = new IpPool({
          name: 'p',
          subnets: ['10.5.0.0/27'],
          gateways: ['10.5.0.1'],
          excludeIps: ['10.5.0.20-10.5.0.23'],
          explicitMayUseExcluded: true,
        });
        for (const o of ops) {
          try {
            if (o.kind === 'pod') {
              pool.allocate(`pod${o.id}`, o.useList ? { candidates: list } : {});
            } else if (o.kind === 'sts') {
              const ref = { namespace: 'ns', name: 'web', ordinal: o.ordinal };
              const got = pool.allocate(ref, o.useList ? { candidates: list } : {});
              if (o.useList) expect(got.addresses[0]!.ip).toBe(list[o.ordinal]);
            } else if (o.kind === 'release') {
              pool.release(`pod${o.id}`);
            } else if (o.kind === 'scaleDown') {
              pool.releaseStatefulSet('ns', 'web', o.replicas);
              for (const a of pool.allocations()) {
                if (a.statefulSet) expect(a.statefulSet.ordinal).toBeLessThan(o.replicas);
              }
            } else if (o.kind === 'gc') {
              const keys = new Set(
                Array.from({ length: 16 }, (_, i) => i)
                  .filter((i) => o.liveMask & (1 << i))
                  .map((i) => `pod${i}`),
              );
              pool.collectLeaks({ keys, statefulSetAlive: (r) => r.ordinal < o.replicas });
              for (const a of pool.allocations()) {
                if (a.statefulSet) expect(a.statefulSet.ordinal).toBeLessThan(o.replicas);
                else expect(keys.has(a.key)).toBe(true);
              }
            } else {
              const before = pool.allocations();
              const report = pool.rebuild(
                before.map((a) => ({ owner: a.statefulSet ?? a.key, ips: a.addresses.map((x) => x.ip) })),
              );
              expect(report.duplicates).toEqual([]);
              expect(report.rejected).toEqual([]);
              expect(pool.allocations()).toEqual(before);
            }
          } catch (err) {
            // Conflicts and exhaustion are expected outcomes of random requests; anything else is a bug.
            expect(
              err instanceof AddressInUseError ||
                err instanceof AddressesExhaustedError ||
                err instanceof PoolCandidatesError ||
                err instanceof KeyAlreadyAllocatedError,
              String(err),
            ).toBe(true);
          }
          const ips = pool.allocations().flatMap((a) => a.addresses.map((x) => x.ip));
          expect(new Set(ips).size).toBe(ips.length);
          expect(ips).not.toContain('10.5.0.1');
        }
      }),
      { numRuns: 200 },
    );
  });
});
