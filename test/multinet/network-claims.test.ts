import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  networkIdentity,
  parseOvnNetworkConfig,
  resolveClaims,
  type NetworkClaim,
  type OvnNetworkConfig,
} from '../../src/multinet/index.js';

const T = Date.parse('2026-11-21T10:00:00Z');

/** A layer3 claim of network `net` by NAD `ns/name` on cluster subnet `subnet`. */
function claim(nad: string, createdMs: number, subnet: string, net = 'blue'): NetworkClaim {
  const [ns, name] = nad.split('/') as [string, string];
  const config: OvnNetworkConfig = parseOvnNetworkConfig(
    JSON.stringify({
      cniVersion: '0.3.1',
      type: 'ovn-k8s-cni-overlay',
      name: net,
      topology: 'layer3',
      subnets: subnet,
      netAttachDefName: nad,
    }),
    ns,
    name,
  );
  return { nad, createdMs, config };
}
const X = '10.245.0.0/16/24';
const Y = '10.246.0.0/16/24';
const idOf = (c: NetworkClaim) => networkIdentity(c.config);

describe('resolveClaims: which config defines a network', () => {
  it('without anything built the oldest config wins; ties in one second go by namespace/name', () => {
    const z = claim('default/z-net', T, X);
    const a = claim('default/a-net', T, Y);
    const r = resolveClaims([z, a]);
    expect(r.byNetwork.get('blue')).toMatchObject({ nads: ['default/a-net'], reason: 'oldest' });
    expect(r.rejected.map((x) => [x.claim.nad, x.definedBy])).toEqual([['default/z-net', 'default/a-net']]);
    const older = claim('default/z-old', T - 1000, X);
    expect(resolveClaims([z, a, older]).byNetwork.get('blue')!.nads).toEqual([
      'default/z-old',
      'default/z-net',
    ]);
  });

  it('the built config keeps the network when a tie or an older conflicting NAD would take it', () => {
    const z = claim('default/z-net', T, X);
    const a = claim('default/a-net', T, Y); // same second, sorts first
    const older = claim('restored/old', T - 3_600_000, Y); // re-created from a backup
    const r = resolveClaims([a, z, older], { identity: () => idOf(z) });
    expect(r.byNetwork.get('blue')).toMatchObject({ nads: ['default/z-net'], reason: 'built' });
    expect([...r.byNad.keys()]).toEqual(['default/z-net']);
    expect(r.rejected.map((x) => x.claim.nad)).toEqual(['restored/old', 'default/a-net']);
    expect(r.rejected.every((x) => x.definedBy === 'default/z-net' && x.reason === 'built')).toBe(true);
  });

  it('once no NAD of the built config is left, the oldest remaining config takes over', () => {
    const a = claim('default/a-net', T, Y);
    const older = claim('restored/old', T - 3_600_000, Y);
    const r = resolveClaims([a, older], { identity: () => idOf(claim('default/z-net', T, X)) });
    expect(r.byNetwork.get('blue')).toMatchObject({
      nads: ['restored/old', 'default/a-net'],
      reason: 'oldest',
    });
    expect(r.rejected).toEqual([]);
  });

  it('without an exact identity, the config NB agrees with is kept (the oldest of those that agree)', () => {
    const z = claim('default/z-net', T, X);
    const a = claim('default/a-net', T, Y);
    const w = claim('default/w-net', T + 5000, '10.247.0.0/16/24');
    const asked: string[] = [];
    const agrees = (_n: string, c: OvnNetworkConfig) => {
      asked.push(c.netAttachDefName);
      return c.subnets.length > 0 && networkIdentity(c) !== idOf(a);
    };
    const r = resolveClaims([w, a, z], { agrees });
    expect(r.byNetwork.get('blue')).toMatchObject({ nads: ['default/z-net'], reason: 'built' });
    expect(asked).toEqual(['default/a-net', 'default/z-net']);
    // nothing agrees (nothing built): the oldest
    expect(resolveClaims([w, a, z], { agrees: () => false }).byNetwork.get('blue')!.nads).toEqual([
      'default/a-net',
    ]);
  });

  it('an exact identity with no NAD left is not second-guessed by NB: the oldest wins', () => {
    const z = claim('default/z-net', T, X);
    const a = claim('default/a-net', T - 1000, Y);
    const r = resolveClaims([z, a], { identity: () => 'gone', agrees: () => true });
    expect(r.byNetwork.get('blue')!.nads).toEqual(['default/a-net']);
  });

  it('a network whose NADs agree never asks what is built; networks are resolved separately', () => {
    const r = resolveClaims([claim('a/x', T, X), claim('b/x', T + 1, X), claim('c/red', T, Y, 'red')], {
      identity: () => {
        throw new Error('not asked');
      },
    });
    expect(r.byNetwork.get('blue')!.nads).toEqual(['a/x', 'b/x']);
    expect(r.byNetwork.get('red')!.nads).toEqual(['c/red']);
    expect(r.rejected).toEqual([]);
  });

  it('property: the order of the NADs never matters, the built config with a NAD always wins, every NAD is placed once', () => {
    const subnets = [X, Y, '10.247.0.0/16/24'];
    const arb = fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
        ns: fc.constantFrom('default', 'web'),
        second: fc.integer({ min: 0, max: 2 }),
        subnet: fc.integer({ min: 0, max: 2 }),
      }),
      { selector: (r) => `${r.ns}/${r.name}`, minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(arb, fc.integer({ min: -1, max: 2 }), fc.integer(), (raw, builtIdx, seed) => {
        const claims = raw.map((r) => claim(`${r.ns}/${r.name}`, T + r.second * 1000, subnets[r.subnet]!));
        const builtId = builtIdx < 0 ? undefined : idOf(claim('x/x', T, subnets[builtIdx]!));
        const built = { identity: () => builtId };
        const r1 = resolveClaims(claims, built);
        const shuffled = [...claims].sort(
          (a, b) => ((a.nad.length * seed) % 7) - ((b.nad.length * seed) % 7),
        );
        const r2 = resolveClaims(shuffled.reverse(), built);
        expect([...r2.byNetwork]).toEqual([...r1.byNetwork]);
        expect(r2.rejected.map((x) => x.claim.nad)).toEqual(r1.rejected.map((x) => x.claim.nad));
        const winner = r1.byNetwork.get('blue')!;
        if (builtId !== undefined && claims.some((c) => idOf(c) === builtId))
          expect(winner.identity).toBe(builtId);
        const placed = [...r1.byNad.keys(), ...r1.rejected.map((x) => x.claim.nad)].sort();
        expect(placed).toEqual(claims.map((c) => c.nad).sort());
        for (const nad of r1.byNad.keys())
          expect(idOf(claims.find((c) => c.nad === nad)!)).toBe(winner.identity);
      }),
      { numRuns: 300 },
    );
  });
});
