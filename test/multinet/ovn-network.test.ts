import { describe, expect, it } from 'vitest';
import {
  InvalidNetworkConfigError,
  isOvnNetworkConfig,
  networkPrefix,
  parseOvnNetworkConfig,
  sameNetworkConfig,
} from '../../src/multinet/index.js';

const cfg = (o: Record<string, unknown>) =>
  JSON.stringify({ cniVersion: '0.3.1', type: 'ovn-k8s-cni-overlay', ...o });

describe('parseOvnNetworkConfig', () => {
  it('parses the layer3 network of seed 003 (ovn-again-conf, 10.245.0.0/16 with per-node /24)', () => {
    const c = parseOvnNetworkConfig(
      cfg({
        name: 'ovn-again',
        topology: 'layer3',
        subnets: '10.245.0.0/16/24',
        mtu: 1300,
        netAttachDefName: 'default/ovn-again-conf',
      }),
      'default',
      'ovn-again-conf',
    );
    expect(c).toMatchObject({
      name: 'ovn-again',
      topology: 'layer3',
      role: 'secondary',
      mtu: 1300,
      prefix: 'ovn.again_',
    });
    expect(c.subnets).toHaveLength(1);
    expect(c.subnets[0]!.hostPrefixLength).toBe(24);
    expect(c.subnets[0]!.cidr.prefixLength).toBe(16);
  });

  it('defaults layer3 host prefixes and accepts dual stack', () => {
    const c = parseOvnNetworkConfig(
      cfg({ name: 'n', subnets: '10.1.0.0/16, fd00:10::/48/64', netAttachDefName: 'ns/n' }),
      'ns',
      'n',
    );
    expect(c.topology).toBe('layer3');
    expect(c.subnets.map((s) => s.hostPrefixLength)).toEqual([24, 64]);
  });

  it('parses layer2 with excludeSubnets (CIDRs and single IPs) and localnet with VLAN', () => {
    const l2 = parseOvnNetworkConfig(
      cfg({
        name: 'l2',
        topology: 'layer2',
        subnets: '10.100.200.0/24',
        excludeSubnets: '10.100.200.0/29,10.100.200.100',
        netAttachDefName: 'a/l2',
        allowPersistentIPs: true,
      }),
      'a',
      'l2',
    );
    expect(l2.excludeSubnets).toEqual(['10.100.200.0/29', '10.100.200.100/32']);
    expect(l2.allowPersistentIPs).toBe(true);
    const ln = parseOvnNetworkConfig(
      cfg({
        name: 'tenant-blue',
        topology: 'localnet',
        vlanID: 200,
        physicalNetworkName: 'physnet1',
        netAttachDefName: 'b/blue',
      }),
      'b',
      'blue',
    );
    expect(ln).toMatchObject({
      topology: 'localnet',
      vlanID: 200,
      physicalNetworkName: 'physnet1',
      subnets: [],
      prefix: 'tenant.blue_',
    });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no name', { topology: 'layer2', netAttachDefName: 'ns/n' }, /"name"/],
    ['unknown topology', { name: 'n', topology: 'layer4', netAttachDefName: 'ns/n' }, /topology "layer4"/],
    ['layer3 without subnets', { name: 'n', netAttachDefName: 'ns/n' }, /layer3 needs "subnets"/],
    [
      'netAttachDefName of another NAD',
      { name: 'n', topology: 'layer2', netAttachDefName: 'ns/other' },
      /netAttachDefName is ns\/other/,
    ],
    [
      'host prefix on layer2',
      { name: 'n', topology: 'layer2', subnets: '10.0.0.0/16/24', netAttachDefName: 'ns/n' },
      /host prefix/,
    ],
    ['bad CIDR', { name: 'n', subnets: '10.0.0.300/16/24', netAttachDefName: 'ns/n' }, /subnet 10.0.0.300/],
    [
      'exclude outside',
      {
        name: 'n',
        topology: 'layer2',
        subnets: '10.0.0.0/24',
        excludeSubnets: '10.9.0.0/29',
        netAttachDefName: 'ns/n',
      },
      /not inside/,
    ],
    [
      'vlanID on layer2',
      { name: 'n', topology: 'layer2', vlanID: 10, netAttachDefName: 'ns/n' },
      /vlanID is only valid for localnet/,
    ],
    [
      'vlanID out of range',
      { name: 'n', topology: 'localnet', vlanID: 5000, netAttachDefName: 'ns/n' },
      /vlanID/,
    ],
    [
      'primary localnet',
      { name: 'n', topology: 'localnet', role: 'primary', netAttachDefName: 'ns/n' },
      /primary is not valid on localnet/,
    ],
    ['bad role', { name: 'n', topology: 'layer2', role: 'boss', netAttachDefName: 'ns/n' }, /role boss/],
    ['mtu too small', { name: 'n', topology: 'layer2', mtu: 100, netAttachDefName: 'ns/n' }, /"mtu"/],
    [
      'two v4 subnets',
      { name: 'n', subnets: '10.0.0.0/16/24,10.1.0.0/16/24', netAttachDefName: 'ns/n' },
      /two subnets of one family/,
    ],
  ];
  for (const [what, o, re] of bad) {
    it(`rejects ${what} with a clear error`, () => {
      expect(() => parseOvnNetworkConfig(cfg(o), 'ns', 'n')).toThrow(InvalidNetworkConfigError);
      expect(() => parseOvnNetworkConfig(cfg(o), 'ns', 'n')).toThrow(re);
    });
  }

  it('rejects non-JSON and empty configs naming the NAD', () => {
    expect(() => parseOvnNetworkConfig('{nope', 'ns', 'n')).toThrow(/ns\/n: spec.config is not JSON/);
    expect(() => parseOvnNetworkConfig('', 'ns', 'n')).toThrow(/spec.config is empty/);
  });

  it('compares the configs of NADs naming one network', () => {
    const a = parseOvnNetworkConfig(
      cfg({ name: 'x', topology: 'layer2', subnets: '10.0.0.0/24', netAttachDefName: 'a/x' }),
      'a',
      'x',
    );
    const b = parseOvnNetworkConfig(
      cfg({ name: 'x', topology: 'layer2', subnets: '10.0.0.0/24', netAttachDefName: 'b/x' }),
      'b',
      'x',
    );
    const c = parseOvnNetworkConfig(
      cfg({ name: 'x', topology: 'layer2', subnets: '10.0.1.0/24', netAttachDefName: 'b/x' }),
      'b',
      'x',
    );
    expect(sameNetworkConfig(a, b)).toBe(true);
    expect(sameNetworkConfig(a, c)).toBe(false);
  });

  it('names network prefixes as ovn-kubernetes does', () => {
    expect(networkPrefix('l3-network')).toBe('l3.network_');
    expect(networkPrefix('ns/net-a')).toBe('ns.net.a_');
    expect(isOvnNetworkConfig(cfg({ name: 'x' }))).toBe(true);
    expect(isOvnNetworkConfig('{"type":"macvlan"}')).toBe(false);
  });
});
