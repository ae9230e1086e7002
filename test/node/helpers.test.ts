/** Pure helpers of the node side: external_ids mutations and bridge-mapping merges. */
import { describe, expect, it } from 'vitest';
import { mergeBridgeMappings } from '../../src/node/gateway-init.js';
import { mapChanges } from '../../src/node/ovs-config.js';
import { hostVethName } from '../../src/node/cni/plugin.js';

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

it('names the host end of a pod veth after the first 15 characters of the container id', () => {
  expect(hostVethName('0123456789abcdef0123')).toBe('0123456789abcde');
});
