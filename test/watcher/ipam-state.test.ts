/** The watcher's address bookkeeping: explicit subnets, stable join IPs, rebuilt pod allocators. */
import { describe, expect, it } from 'vitest';
import { ClusterIpam } from '../../src/watcher/ipam-state.js';

describe('ClusterIpam', () => {
  it('honours an explicit node subnet, refuses one held by another node, and keeps a node on its subnet', () => {
    const ipam = new ClusterIpam(['10.128.0.0/14/23'], ['100.64.0.0/16']);
    expect(ipam.nodeSubnets('a', ['10.128.8.0/23'])).toEqual(['10.128.8.0/23']);
    const warned: object[] = [];
    const ipam2 = new ClusterIpam(['10.128.0.0/14/23'], ['100.64.0.0/16'], { warn: (o) => warned.push(o) });
    ipam2.nodeSubnets('a', ['10.128.8.0/23']);
    const b = ipam2.nodeSubnets('b', ['10.128.8.0/23']);
    expect(b).not.toEqual(['10.128.8.0/23']);
    expect(warned).toHaveLength(1);
    expect(ipam2.nodeSubnets('b', [])).toEqual(b);
  });

  it('rebuilds node subnets from records so that a new node never collides', () => {
    const ipam = new ClusterIpam(['10.128.0.0/14/23'], ['100.64.0.0/16']);
    ipam.rebuildHostSubnets([
      { owner: 'a', subnets: ['10.128.0.0/23'] },
      { owner: 'b', subnets: ['10.128.2.0/23'] },
    ]);
    expect(ipam.nodeSubnets('a', [])).toEqual(['10.128.0.0/23']);
    expect(ipam.nodeSubnets('c', [])).toEqual(['10.128.4.0/23']);
    ipam.releaseNode('b');
    // freed, but quarantined: the next node gets a never-used subnet
    expect(ipam.nodeSubnets('d', [])).toEqual(['10.128.6.0/23']);
  });

  it('gives gateway routers join IPs past the cluster router, stable per node', () => {
    const ipam = new ClusterIpam(['10.128.0.0/14/23'], ['100.64.0.0/16']);
    expect(ipam.joinIps('gw1', [])).toEqual(['100.64.0.2/16']);
    expect(ipam.joinIps('gw2', ['100.64.0.9/16'])).toEqual(['100.64.0.9/16']);
    expect(ipam.joinIps('gw1', [])).toEqual(['100.64.0.2/16']);
    // a wanted IP that is taken gives a fresh one
    expect(ipam.joinIps('gw3', ['100.64.0.2/16'])).toEqual(['100.64.0.3/16']);
  });

  it('builds a pod allocator from existing addresses: no duplicate, never .1 or .2', () => {
    const ipam = new ClusterIpam(['10.128.0.0/14/23'], ['100.64.0.0/16']);
    const subnets = ipam.nodeSubnets('n', []);
    const alloc = ipam.podAllocator('n', subnets, () => [
      { key: 'ns/a', ips: ['10.128.0.3'] },
      { key: 'ns/b', ips: ['10.128.0.3'] },
    ]);
    expect(alloc.get('ns/a')).toEqual(['10.128.0.3']);
    expect(alloc.get('ns/b')).toBeUndefined();
    const seen = new Set<string>(['10.128.0.3']);
    for (let i = 0; i < 200; i++) {
      const [ip] = alloc.allocate(`ns/p${i}`);
      expect(ip).not.toMatch(/^10\.128\.0\.[012]$/);
      expect(seen.has(ip!)).toBe(false);
      seen.add(ip!);
    }
    // the same allocator is returned while the subnets are unchanged
    expect(ipam.podAllocator('n', subnets, () => [])).toBe(alloc);
  });
});
