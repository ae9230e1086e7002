import { describe, expect, it } from 'vitest';
import {
  AddressExcludedError,
  InvalidPoolError,
  IpPool,
  kubeOvnSubnetPoolSpec,
  kubeOvnSubnetStatus,
  spiderIpPoolSpec,
  spiderIpPoolStatus,
} from '../../src/ipam/index.js';

describe('Kube-OVN Subnet', () => {
  it('turns seed 004 macvlan Subnet into a pool with its excluded range', () => {
    const spec = kubeOvnSubnetPoolSpec('macvlan', {
      protocol: 'IPv4',
      cidrBlock: '172.17.0.0/16',
      gateway: '172.17.0.1',
      excludeIps: ['172.17.0.0..172.17.0.10'],
    });
    const pool = new IpPool(spec);
    expect(pool.allocate('pod/net1').addresses[0]!.ip).toBe('172.17.0.11');
    expect(pool.allocate('fixed/net1', { ips: ['172.17.0.100'] }).addresses[0]!.ip).toBe('172.17.0.100');
    expect(pool.allocate('in-excluded/net1', { ips: ['172.17.0.3'] }).addresses[0]!.ip).toBe('172.17.0.3');
    expect(() => pool.allocate('gw/net1', { ips: ['172.17.0.1'] })).toThrow(AddressExcludedError);
    const status = kubeOvnSubnetStatus(pool);
    expect(status).toMatchObject({
      v4usingIPs: 3n,
      v4availableIPs: 65522n,
      v4usingIPrange: '172.17.0.3,172.17.0.11,172.17.0.100',
      v4availableIPrange: '172.17.0.12-172.17.0.99,172.17.0.101-172.17.255.254',
      v6usingIPs: 0n,
      v6availableIPs: 0n,
      v6usingIPrange: '',
    });
  });

  it('defaults the gateway to the first address of each CIDR in dual stack', () => {
    const spec = kubeOvnSubnetPoolSpec('dual', {
      protocol: 'Dual',
      cidrBlock: '10.16.0.0/16, fd00:10:16::/64',
    });
    expect(spec.gateways).toEqual(['10.16.0.1', 'fd00:10:16::1']);
    const pool = new IpPool(spec);
    expect(pool.allocate('a').addresses.map((x) => x.ip)).toEqual(['10.16.0.2', 'fd00:10:16::2']);
    expect(kubeOvnSubnetStatus(pool).v6usingIPrange).toBe('fd00:10:16::2');
  });

  it('rejects a cidrBlock that does not match the protocol or is malformed', () => {
    expect(() => kubeOvnSubnetPoolSpec('x', { protocol: 'Dual', cidrBlock: '10.16.0.0/16' })).toThrow(
      InvalidPoolError,
    );
    expect(() => kubeOvnSubnetPoolSpec('x', { protocol: 'IPv6', cidrBlock: '10.16.0.0/16' })).toThrow(
      /does not match protocol IPv6/,
    );
    expect(() => kubeOvnSubnetPoolSpec('x', { cidrBlock: '10.16.0.0/16,10.17.0.0/16' })).toThrow(
      InvalidPoolError,
    );
    expect(() => kubeOvnSubnetPoolSpec('x', { cidrBlock: '10.16.0.1/16' })).toThrow(/Subnet x: cidrBlock/);
  });
});

describe('SpiderIPPool', () => {
  const seed000 = {
    subnet: '172.18.0.0/16',
    ips: ['172.18.30.131-172.18.30.140'],
    gateway: '172.18.0.1',
  };

  it('turns seed 000 ippool-test into a pool that gives .131 and .132, with its status', () => {
    const pool = new IpPool(spiderIpPoolSpec('ippool-test', seed000));
    pool.allocate('uid-a/eth0');
    pool.allocate('uid-b/eth0');
    const pods: Record<string, { pod: string; podUid: string }> = {
      'uid-a/eth0': { pod: 'default/test-app-6f8dddd88d-hstg7', podUid: 'uid-a' },
      'uid-b/eth0': { pod: 'default/test-app-6f8dddd88d-rj7sm', podUid: 'uid-b' },
    };
    const status = spiderIpPoolStatus(pool, (key) => pods[key]);
    expect(status.allocatedIPCount).toBe(2);
    expect(status.totalIPCount).toBe(10);
    expect(JSON.parse(status.allocatedIPs)).toEqual({
      '172.18.30.131': { pod: 'default/test-app-6f8dddd88d-hstg7', podUid: 'uid-a' },
      '172.18.30.132': { pod: 'default/test-app-6f8dddd88d-rj7sm', podUid: 'uid-b' },
    });
  });

  it('counts excludeIPs out of the total and never hands them out', () => {
    const pool = new IpPool(
      spiderIpPoolSpec('p', { ...seed000, excludeIPs: ['172.18.30.131-172.18.30.132'] }),
    );
    expect(pool.allocate('a').addresses[0]!.ip).toBe('172.18.30.133');
    expect(() => pool.allocate('b', { ips: ['172.18.30.131'] })).toThrow(AddressExcludedError);
    expect(spiderIpPoolStatus(pool, () => undefined).totalIPCount).toBe(8);
  });

  it('passes routes through and rejects inconsistent pools', () => {
    const spec = spiderIpPoolSpec('p', { ...seed000, routes: [{ dst: '10.0.0.0/8', gw: '172.18.0.254' }] });
    expect(new IpPool(spec).routes).toEqual([{ dst: '10.0.0.0/8', gw: '172.18.0.254' }]);
    expect(() => spiderIpPoolSpec('p', { ...seed000, ipVersion: 6 })).toThrow(/ipVersion 6 does not match/);
    expect(() => spiderIpPoolSpec('p', { ...seed000, ips: [] })).toThrow(/ips is empty/);
    expect(() => spiderIpPoolSpec('p', { ...seed000, subnet: 'nope' })).toThrow(InvalidPoolError);
  });
});
