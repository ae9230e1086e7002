/** Pure helpers of the node side: external_ids mutations and bridge-mapping merges. */
import { describe, expect, it } from 'vitest';
import { mergeBridgeMappings } from '../../src/node/gateway-init.js';
import { mapChanges } from '../../src/node/ovs-config.js';
import { hostVethName } from '../../src/node/cni/plugin.js';
import { nodeGateway } from '../../src/watcher/convert.js';

describe('mapChanges', () => {
  it('writes nothing when every desired key already has its value', () => {
    expect(mapChanges('external_ids', { a: '1', foreign: 'x' }, { a: '1' })).toEqual([]);
  });

  it('inserts new keys and replaces changed ones, never touching other keys', () => {
    expect(mapChanges('external_ids', { a: '1', b: '2', foreign: 'x' }, { a: '1', b: '3', c: '4' })).toEqual([
      { column: 'external_ids', mutator: 'delete', value: ['b'] },
      { column: 'external_ids', mutator: 'insert', value: { b: '3', c: '4' } },
    ]);
  });
});

describe('mergeBridgeMappings', () => {
  it('adds, replaces and keeps other physical networks', () => {
    expect(mergeBridgeMappings(undefined, 'physnet', 'breth0')).toBe('physnet:breth0');
    expect(mergeBridgeMappings('other:br1', 'physnet', 'breth0')).toBe('other:br1,physnet:breth0');
    expect(mergeBridgeMappings('physnet:brold, other:br1', 'physnet', 'breth0')).toBe(
      'other:br1,physnet:breth0',
    );
  });
});

describe('rampout-ip-subnets in l3-gateway-config, as the watcher reads it', () => {
  const gatewayOf = (extra: Record<string, unknown>) =>
    nodeGateway({
      metadata: {
        name: 'gw',
        annotations: {
          'k8s.ovn.org/node-chassis-id': 'chassis-gw',
          'k8s.ovn.org/l3-gateway-config': JSON.stringify({
            default: {
              mode: 'shared',
              'mac-address': '02:42:ac:12:00:0a',
              'ip-addresses': ['172.18.0.10/24'],
              'next-hops': ['172.18.0.1'],
              ...extra,
            },
          }),
        },
      },
    });

  it('absent or empty: no ramp-out (annotations written before the option stay valid)', () => {
    expect(gatewayOf({})).toBeDefined();
    expect(gatewayOf({})).not.toHaveProperty('rampoutSubnets');
    expect(gatewayOf({ 'rampout-ip-subnets': [] })).not.toHaveProperty('rampoutSubnets');
  });

  it('canonical and each once; an entry that is not a CIDR is dropped, the gateway kept', () => {
    expect(
      gatewayOf({
        'rampout-ip-subnets': [
          '192.168.1.0/24',
          '192.168.1.7/24',
          'fd00:99:0::/64',
          'bogus',
          42,
          '10.0.0.0/33',
        ],
      })?.rampoutSubnets,
    ).toEqual(['192.168.1.0/24', 'fd00:99::/64']);
    expect(gatewayOf({ 'rampout-ip-subnets': 'not a list' })).not.toHaveProperty('rampoutSubnets');
  });
});

it('names the host end of a pod veth after the first 15 characters of the container id', () => {
  expect(hostVethName('0123456789abcdef0123')).toBe('0123456789abcde');
});
