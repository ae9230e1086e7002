import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backendsFor,
  clusterIntent,
  clusterRows,
  ecmpRouteKey,
  gatewayJoinIps,
  gatewayRows,
  hostCidr,
  hostIp,
  ipPort,
  macFromIp,
  nodeRows,
  podNetwork,
  podRows,
  serviceRows,
  type DesiredRow,
  type EndpointSliceInfo,
  type NodeInfo,
  type ServiceInfo,
} from '../../src/ovn/intent/index.js';
import {
  gatewayRouter,
  gwRouterToJoinPort,
  inNetwork,
  networkPrefix,
  ownerOf,
  podPort,
  serviceLb,
} from '../../src/ovn/names.js';
import { config, node1, node2 } from './fixture.js';

const find = (rows: DesiredRow[], table: string, key: string): DesiredRow => {
  const r = rows.find((x) => x.table === table && x.key === key);
  if (!r) throw new Error(`no ${table} ${key} in ${rows.map((x) => `${x.table}:${x.key}`).join(', ')}`);
  return r;
};
const routes = (rows: DesiredRow[]) => rows.filter((r) => r.table === 'Logical_Router_Static_Route');

describe('names', () => {
  it('follows the ovn-kubernetes naming', () => {
    expect(gatewayRouter('n1')).toBe('GR_n1');
    expect(gwRouterToJoinPort('n1')).toBe('rtoj-GR_n1');
    expect(podPort('ns', 'p')).toBe('ns_p');
    expect(serviceLb('ns', 'svc', 'UDP', 'cluster')).toBe('Service_ns/svc_UDP_cluster');
  });

  it('prefixes secondary-network objects with the network name, - and / as dots', () => {
    expect(networkPrefix('l3-network')).toBe('l3.network_');
    expect(networkPrefix('ns1/nad-a')).toBe('ns1.nad.a_');
    expect(inNetwork('l3-network', 'ovn_cluster_router')).toBe('l3.network_ovn_cluster_router');
    expect(inNetwork('default', 'ovn_cluster_router')).toBe('ovn_cluster_router');
  });

  it('reads owners back only from rows that carry both owner keys', () => {
    expect(ownerOf({ 'k8s.ovn.org/owner': 'a/b', 'k8s.ovn.org/owner-type': 'Pod' })).toEqual({
      type: 'Pod',
      id: 'a/b',
    });
    expect(ownerOf({ 'k8s.ovn.org/owner': 'a/b' })).toBeUndefined();
    expect(ownerOf({ 'k8s.ovn.org/owner': 'a/b', 'k8s.ovn.org/owner-type': 'Martian' })).toBeUndefined();
    expect(ownerOf(null)).toBeUndefined();
  });
});

describe('addresses', () => {
  it('derives MACs from IPs as ovn-k does (0a:58 + IPv4 octets)', () => {
    expect(macFromIp('10.128.0.5')).toBe('0a:58:0a:80:00:05');
    expect(macFromIp('100.64.0.1/16')).toBe('0a:58:64:40:00:01');
  });

  it('IPv4 MACs carry the address itself, so distinct IPs never share a MAC', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const octets = macFromIp(ip)
          .split(':')
          .slice(2)
          .map((h) => parseInt(h, 16));
        expect(octets.join('.')).toBe(ip.split('.').map(Number).join('.'));
      }),
    );
  });

  it('IPv6 MACs are 0a:58 plus the first four bytes of SHA-256 over the canonical address text', () => {
    const expected = (text: string) =>
      [
        '0a',
        '58',
        ...[...createHash('sha256').update(text).digest().subarray(0, 4)].map((b) =>
          b.toString(16).padStart(2, '0'),
        ),
      ].join(':');
    expect(macFromIp('fd00:10:244::5')).toBe(expected('fd00:10:244::5'));
    expect(macFromIp('fd00:10:244:0:0:0:0:5/64')).toBe(expected('fd00:10:244::5'));
    expect(macFromIp('fd00:10:244::6')).not.toBe(macFromIp('fd00:10:244::5'));
  });

  it('computes host addresses and endpoint syntax for both families', () => {
    expect(hostIp('10.128.2.0/23', 2)).toBe('10.128.2.2');
    expect(hostCidr('10.128.2.0/23', 1)).toBe('10.128.2.1/23');
    expect(hostCidr('fd00:10:244:1::/64', 1)).toBe('fd00:10:244:1::1/64');
    expect(() => hostIp('10.0.0.0/31', 2)).toThrow(/outside/);
    expect(ipPort('10.96.0.1', 443)).toBe('10.96.0.1:443');
    expect(ipPort('fd00::1', 443)).toBe('[fd00::1]:443');
  });
});

describe('cluster intent (master-init)', () => {
  const rows = clusterRows(config);
  it('builds the cluster router, the join switch and port pair, and three LB groups', () => {
    expect(find(rows, 'Logical_Router', 'ovn_cluster_router').columns.external_ids).toMatchObject({
      'k8s-cluster-router': 'yes',
      'k8s.ovn.org/owner-type': 'Cluster',
    });
    const rtoj = find(rows, 'Logical_Router_Port', 'rtoj-ovn_cluster_router');
    expect(rtoj.columns).toMatchObject({ networks: ['100.64.0.1/16'], mac: '0a:58:64:40:00:01' });
    expect(rtoj.parents).toEqual([{ table: 'Logical_Router', key: 'ovn_cluster_router', column: 'ports' }]);
    expect(find(rows, 'Logical_Switch_Port', 'jtor-ovn_cluster_router').columns).toMatchObject({
      type: 'router',
      options: { 'router-port': 'rtoj-ovn_cluster_router' },
    });
    expect(rows.filter((r) => r.table === 'Load_Balancer_Group').map((r) => r.key)).toEqual([
      'clusterLBGroup',
      'clusterSwitchLBGroup',
      'clusterRouterLBGroup',
    ]);
  });

  it('honours another join subnet', () => {
    const r = clusterRows({ ...config, joinSubnets: ['100.65.0.0/16'] });
    expect(find(r, 'Logical_Router_Port', 'rtoj-ovn_cluster_router').columns.networks).toEqual([
      '100.65.0.1/16',
    ]);
  });
});

describe('node intent', () => {
  const rows = nodeRows(node2);
  it('gives the node a switch with subnet, excluded management IP and the switch LB groups', () => {
    const sw = find(rows, 'Logical_Switch', 'node2');
    expect(sw.columns.other_config).toEqual({ subnet: '10.128.2.0/23', exclude_ips: '10.128.2.2' });
    expect(sw.refs?.load_balancer_group).toEqual([
      { table: 'Load_Balancer_Group', key: 'clusterLBGroup' },
      { table: 'Load_Balancer_Group', key: 'clusterSwitchLBGroup' },
    ]);
  });

  it('connects it to the cluster router at .1 with the MAC of that IP, and needs no static route', () => {
    expect(find(rows, 'Logical_Router_Port', 'rtos-node2').columns).toMatchObject({
      networks: ['10.128.2.1/23'],
      mac: '0a:58:0a:80:02:01',
    });
    expect(find(rows, 'Logical_Switch_Port', 'stor-node2').columns.options).toEqual({
      'router-port': 'rtos-node2',
    });
    expect(routes(rows)).toEqual([]);
  });

  it('puts the management port at .2, with its own MAC when known', () => {
    expect(find(rows, 'Logical_Switch_Port', 'k8s-node2').columns.addresses).toEqual([
      '0a:58:0a:80:02:02 10.128.2.2',
    ]);
    const withMac = nodeRows({ ...node2, mgmtMac: 'AA:BB:CC:00:11:22' });
    expect(find(withMac, 'Logical_Switch_Port', 'k8s-node2').columns.addresses).toEqual([
      'AA:BB:CC:00:11:22 10.128.2.2',
    ]);
  });

  it('is dual-stack when the node has two subnets', () => {
    const ds = nodeRows({ name: 'n', subnets: ['10.128.4.0/23', 'fd00:10:244:3::/64'] });
    expect(find(ds, 'Logical_Switch', 'n').columns.other_config).toEqual({
      subnet: '10.128.4.0/23',
      exclude_ips: '10.128.4.2',
      ipv6_prefix: 'fd00:10:244:3::',
    });
    expect(find(ds, 'Logical_Router_Port', 'rtos-n').columns.networks).toEqual([
      '10.128.4.1/23',
      'fd00:10:244:3::1/64',
    ]);
    expect(find(ds, 'Logical_Switch_Port', 'k8s-n').columns.addresses).toEqual([
      '0a:58:0a:80:04:02 10.128.4.2 fd00:10:244:3::2',
    ]);
  });
});

describe('gateway intent', () => {
  const rows = gatewayRows(node1, config);
  it('binds GR_<node> to the chassis, with lb_force_snat_ip and the router LB groups', () => {
    const gr = find(rows, 'Logical_Router', 'GR_node1');
    expect(gr.columns.options).toMatchObject({ chassis: 'chassis-node1', lb_force_snat_ip: 'router_ip' });
    expect(gr.columns.external_ids).toMatchObject({ physical_ip: '172.18.0.11' });
    expect(gr.refs?.load_balancer_group).toEqual([
      { table: 'Load_Balancer_Group', key: 'clusterLBGroup' },
      { table: 'Load_Balancer_Group', key: 'clusterRouterLBGroup' },
    ]);
  });

  it('joins it at its join IP and to the physical network through ext_<node> and a localnet port', () => {
    expect(find(rows, 'Logical_Router_Port', 'rtoj-GR_node1').columns).toMatchObject({
      networks: ['100.64.0.2/16'],
      mac: '0a:58:64:40:00:02',
    });
    expect(find(rows, 'Logical_Switch_Port', 'jtor-GR_node1').parents).toEqual([
      { table: 'Logical_Switch', key: 'join', column: 'ports' },
    ]);
    expect(find(rows, 'Logical_Router_Port', 'rtoe-GR_node1').columns).toMatchObject({
      networks: ['172.18.0.11/24'],
      mac: '02:42:ac:12:00:0b',
    });
    const localnet = find(rows, 'Logical_Switch_Port', 'breth0_node1');
    expect(localnet.columns).toMatchObject({
      type: 'localnet',
      addresses: ['unknown'],
      options: { network_name: 'physnet' },
      tag_request: null,
    });
    expect(localnet.parents).toEqual([{ table: 'Logical_Switch', key: 'ext_node1', column: 'ports' }]);
    const custom = gatewayRows(
      {
        ...node1,
        gateway: { ...node1.gateway!, physicalNetwork: 'provider', interfaceId: 'br-ex_node1', vlanId: 100 },
      },
      config,
    );
    expect(find(custom, 'Logical_Switch_Port', 'br-ex_node1').columns).toMatchObject({
      options: { network_name: 'provider' },
      tag_request: 100,
    });
  });

  it('routes: default via the next hop, cluster subnets back via the cluster router, node subnet and cluster default out via this GR', () => {
    expect(
      routes(rows).map((r) => [
        r.parents![0]!.key,
        r.columns.policy,
        r.columns.ip_prefix,
        r.columns.nexthop,
        r.columns.output_port,
      ]),
    ).toEqual([
      ['GR_node1', null, '0.0.0.0/0', '172.18.0.1', 'rtoe-GR_node1'],
      ['GR_node1', null, '10.128.0.0/14', '100.64.0.1', null],
      ['ovn_cluster_router', 'src-ip', '10.128.0.0/23', '100.64.0.2', null],
      ['ovn_cluster_router', null, '0.0.0.0/0', '100.64.0.2', null],
    ]);
    for (const r of routes(rows)) {
      expect((r.columns.external_ids as Record<string, string>)['k8s.ovn.org/id']).toBe(r.key);
      expect(ownerOf(r.columns.external_ids as Record<string, string>)).toEqual({
        type: 'Node',
        id: 'node1',
      });
    }
  });

  it('keeps the keys of the routes that existed before, and keys the ECMP default route by its next hop', () => {
    // the first three are what an NB converged before the cluster default route carries: unchanged
    expect(routes(rows).map((r) => r.key)).toEqual([
      'GR_node1:dst-ip:0.0.0.0/0',
      'GR_node1:dst-ip:10.128.0.0/14',
      'ovn_cluster_router:src-ip:10.128.0.0/23',
      'ovn_cluster_router:dst-ip:0.0.0.0/0@100.64.0.2',
    ]);
    expect(ecmpRouteKey('ovn_cluster_router', 'dst-ip', '::/0', 'fd98::2')).toBe(
      'ovn_cluster_router:dst-ip:::/0@fd98::2',
    );
  });

  it('SNATs the cluster subnets to the node IP', () => {
    const nat = rows.filter((r) => r.table === 'NAT');
    expect(nat.map((r) => r.columns)).toMatchObject([
      { type: 'snat', logical_ip: '10.128.0.0/14', external_ip: '172.18.0.11' },
    ]);
    expect(nat[0]!.parents).toEqual([{ table: 'Logical_Router', key: 'GR_node1', column: 'nat' }]);
  });

  it('gives every gateway its own src-ip route, not only the first', () => {
    const gw2: NodeInfo = {
      ...node2,
      gateway: { ...node1.gateway!, chassisId: 'c2', joinIps: ['100.64.0.3/16'], ips: ['172.18.0.12/24'] },
    };
    const all = clusterIntent({ config, nodes: [node1, gw2], pods: [], services: [] }).flatMap((o) => o.rows);
    const srcIp = routes(all).filter((r) => r.columns.policy === 'src-ip');
    expect(srcIp.map((r) => [r.columns.ip_prefix, r.columns.nexthop])).toEqual([
      ['10.128.0.0/23', '100.64.0.2'],
      ['10.128.2.0/23', '100.64.0.3'],
    ]);
    expect(new Set(all.map((r) => `${r.table}:${r.key}`)).size).toBe(all.length);
  });

  it('every gateway adds its own member to one ECMP default route on the cluster router', () => {
    const gw2: NodeInfo = {
      ...node2,
      gateway: { ...node1.gateway!, chassisId: 'c2', joinIps: ['100.64.0.3/16'], ips: ['172.18.0.12/24'] },
    };
    const node3: NodeInfo = { name: 'node3', subnets: ['10.128.4.0/23'] };
    const defaults = (nodes: NodeInfo[]) =>
      clusterIntent({ config, nodes, pods: [], services: [] }).flatMap((o) =>
        routes(o.rows)
          .filter((r) => r.parents![0]!.key === 'ovn_cluster_router' && r.columns.policy === null)
          .map((r) => ({
            owner: o.owner.id,
            key: r.key,
            prefix: r.columns.ip_prefix,
            nexthop: r.columns.nexthop,
            ownerIds: ownerOf(r.columns.external_ids as Record<string, string>),
          })),
      );
    // same prefix and policy (so northd groups them), different keys and owners
    expect(defaults([node1, gw2, node3])).toEqual([
      {
        owner: 'node1',
        key: 'ovn_cluster_router:dst-ip:0.0.0.0/0@100.64.0.2',
        prefix: '0.0.0.0/0',
        nexthop: '100.64.0.2',
        ownerIds: { type: 'Node', id: 'node1' },
      },
      {
        owner: 'node2',
        key: 'ovn_cluster_router:dst-ip:0.0.0.0/0@100.64.0.3',
        prefix: '0.0.0.0/0',
        nexthop: '100.64.0.3',
        ownerIds: { type: 'Node', id: 'node2' },
      },
    ]);
    // a removed gateway takes only its own member away; without gateways there is no default route
    expect(defaults([{ ...node1, gateway: undefined }, gw2, node3]).map((d) => d.nexthop)).toEqual([
      '100.64.0.3',
    ]);
    expect(defaults([gw2]).map((d) => d.owner)).toEqual(['node2']);
    expect(defaults([node2, node3])).toEqual([]);
  });

  it('a dual-stack gateway has a default route per family; a family it cannot carry out gets none', () => {
    const dsConfig = {
      clusterSubnets: ['10.128.0.0/14', 'fd00:10:244::/48'],
      joinSubnets: ['100.64.0.0/16', 'fd98::/64'],
    };
    const dsNode: NodeInfo = {
      name: 'ds',
      subnets: ['10.128.0.0/23', 'fd00:10:244:1::/64'],
      gateway: {
        ...node1.gateway!,
        joinIps: ['100.64.0.2/16', 'fd98::2/64'],
        ips: ['172.18.0.11/24', 'fc00:f853:ccd:e793::3/64'],
        nextHops: ['172.18.0.1', 'fc00:f853:ccd:e793::1'],
      },
    };
    const clusterDefaults = (n: NodeInfo) =>
      routes(gatewayRows(n, dsConfig))
        .filter((r) => r.parents![0]!.key === 'ovn_cluster_router' && r.columns.policy === null)
        .map((r) => [r.key, r.columns.ip_prefix, r.columns.nexthop]);
    expect(clusterDefaults(dsNode)).toEqual([
      ['ovn_cluster_router:dst-ip:0.0.0.0/0@100.64.0.2', '0.0.0.0/0', '100.64.0.2'],
      ['ovn_cluster_router:dst-ip:::/0@fd98::2', '::/0', 'fd98::2'],
    ]);
    // no IPv6 next hop: GR_ds has no IPv6 way out, so it must not attract other nodes' IPv6 traffic
    const v4Out = { ...dsNode, gateway: { ...dsNode.gateway!, nextHops: ['172.18.0.1'] } };
    expect(clusterDefaults(v4Out).map(([, prefix]) => prefix)).toEqual(['0.0.0.0/0']);
    // no IPv6 node IP (nothing to SNAT to): likewise
    const v4Ip = { ...dsNode, gateway: { ...dsNode.gateway!, ips: ['172.18.0.11/24'] } };
    expect(clusterDefaults(v4Ip).map(([, prefix]) => prefix)).toEqual(['0.0.0.0/0']);
    // its own pods keep a src-ip route per family either way
    expect(
      routes(gatewayRows(v4Out, dsConfig))
        .filter((r) => r.columns.policy === 'src-ip')
        .map((r) => r.columns.ip_prefix),
    ).toEqual(['10.128.0.0/23', 'fd00:10:244:1::/64']);
  });

  it('derives stable join addresses per gateway index, after the cluster router', () => {
    expect(gatewayJoinIps(config, 0)).toEqual(['100.64.0.2/16']);
    expect(gatewayJoinIps({ ...config, joinSubnets: ['100.64.0.0/16', 'fd98::/64'] }, 300)).toEqual([
      '100.64.1.46/16',
      'fd98::12e/64',
    ]);
  });

  it('is empty for a node without gateway config', () => {
    expect(gatewayRows(node2, config)).toEqual([]);
  });
});

describe('gateway intent: ramp-out subnets (gateway-init --rampout-ip-subnets)', () => {
  const gw2: NodeInfo = {
    ...node2,
    gateway: { ...node1.gateway!, chassisId: 'c2', joinIps: ['100.64.0.3/16'], ips: ['172.18.0.12/24'] },
  };
  const node3: NodeInfo = { name: 'node3', subnets: ['10.128.4.0/23'] };
  const withRampout = (n: NodeInfo, rampoutSubnets: string[]): NodeInfo => ({
    ...n,
    gateway: { ...n.gateway!, rampoutSubnets },
  });
  /** src-ip routes on the cluster router, per owner: [owner, key, prefix, nexthop] */
  const srcRoutes = (nodes: NodeInfo[], cfg = config) =>
    clusterIntent({ config: cfg, nodes, pods: [], services: [] }).flatMap((o) =>
      routes(o.rows)
        .filter((r) => r.parents![0]!.key === 'ovn_cluster_router' && r.columns.policy === 'src-ip')
        .map((r) => {
          expect(ownerOf(r.columns.external_ids as Record<string, string>)).toEqual({
            type: 'Node',
            id: o.owner.id,
          });
          return [o.owner.id, r.key, r.columns.ip_prefix, r.columns.nexthop];
        }),
    );

  it('adds a src-ip route per ramp-out subnet via this GR, keyed by its next hop and owned by the node', () => {
    expect(srcRoutes([withRampout(gw2, ['192.168.1.0/24', '10.128.4.0/23']), node3])).toEqual([
      ['node2', 'ovn_cluster_router:src-ip:10.128.2.0/23', '10.128.2.0/23', '100.64.0.3'],
      ['node2', 'ovn_cluster_router:src-ip:192.168.1.0/24@100.64.0.3', '192.168.1.0/24', '100.64.0.3'],
      ['node2', 'ovn_cluster_router:src-ip:10.128.4.0/23@100.64.0.3', '10.128.4.0/23', '100.64.0.3'],
    ]);
    // absent or empty: exactly the rows of a gateway without ramp-out
    expect(gatewayRows(withRampout(node1, []), config)).toEqual(gatewayRows(node1, config));
  });

  it('removing the option or the node removes its ramp-out routes', () => {
    const before = [withRampout(node1, ['192.168.1.0/24']), gw2];
    expect(srcRoutes(before).map(([, , p, nh]) => `${String(p)} via ${String(nh)}`)).toContain(
      '192.168.1.0/24 via 100.64.0.2',
    );
    for (const after of [[node1, gw2], [gw2], [{ ...node1, gateway: undefined }, gw2]])
      expect(srcRoutes(after).map(([, , p]) => p)).not.toContain('192.168.1.0/24');
  });

  it("does not collide with another gateway's ramp-out of the same subnet, or with another node's own route", () => {
    // node1 ramps out node2's own subnet, both ramp out 192.168.1.0/24
    const nodes = [
      withRampout(node1, ['192.168.1.0/24', '10.128.2.0/23']),
      withRampout(gw2, ['192.168.1.0/24']),
    ];
    const all = clusterIntent({ config, nodes, pods: [], services: [] }).flatMap((o) => o.rows);
    expect(new Set(all.map((r) => `${r.table}:${r.key}`)).size).toBe(all.length);
    const via = (prefix: string) =>
      srcRoutes(nodes)
        .filter(([, , p]) => p === prefix)
        .map(([owner, , , nh]) => [owner, nh]);
    // same prefix and policy, one per next hop: ovn-northd load-balances them (ECMP)
    expect(via('192.168.1.0/24')).toEqual([
      ['node1', '100.64.0.2'],
      ['node2', '100.64.0.3'],
    ]);
    expect(via('10.128.2.0/23')).toEqual([
      ['node1', '100.64.0.2'],
      ['node2', '100.64.0.3'],
    ]);
  });

  it("writes no duplicate for a ramp-out subnet equal to the node's own subnet, or given twice", () => {
    expect(
      srcRoutes([withRampout(node1, ['10.128.0.0/23', '192.168.1.0/24', '192.168.1.0/24'])]).map(
        ([, k]) => k,
      ),
    ).toEqual([
      'ovn_cluster_router:src-ip:10.128.0.0/23',
      'ovn_cluster_router:src-ip:192.168.1.0/24@100.64.0.2',
    ]);
  });

  it('routes each ramp-out subnet via the join IP of its family; a family without a join IP gets none', () => {
    const dsConfig = {
      clusterSubnets: ['10.128.0.0/14', 'fd00:10:244::/48'],
      joinSubnets: ['100.64.0.0/16', 'fd98::/64'],
    };
    const ds: NodeInfo = {
      name: 'ds',
      subnets: ['10.128.0.0/23', 'fd00:10:244:1::/64'],
      gateway: {
        ...node1.gateway!,
        joinIps: ['100.64.0.2/16', 'fd98::2/64'],
        rampoutSubnets: ['192.168.1.0/24', 'fd00:99::/64'],
      },
    };
    const ramp = (n: NodeInfo) =>
      srcRoutes([n], dsConfig)
        .filter(([, k]) => String(k).includes('@'))
        .map(([, , p, nh]) => [p, nh]);
    expect(ramp(ds)).toEqual([
      ['192.168.1.0/24', '100.64.0.2'],
      ['fd00:99::/64', 'fd98::2'],
    ]);
    expect(ramp({ ...ds, gateway: { ...ds.gateway!, joinIps: ['100.64.0.2/16'] } })).toEqual([
      ['192.168.1.0/24', '100.64.0.2'],
    ]);
  });
});

describe('pod intent', () => {
  it('builds <ns>_<pod> with "MAC IP" addresses, port security, chassis pinning and owner ids', () => {
    const [lsp] = podRows({ namespace: 'ns', name: 'p', uid: 'u-1', node: 'node2', ips: ['10.128.2.7/23'] });
    expect(lsp!.columns).toEqual({
      name: 'ns_p',
      addresses: ['0a:58:0a:80:02:07 10.128.2.7'],
      port_security: ['0a:58:0a:80:02:07 10.128.2.7'],
      options: { 'requested-chassis': 'node2', 'iface-id-ver': 'u-1' },
      external_ids: {
        namespace: 'ns',
        pod: 'true',
        'k8s.ovn.org/owner-type': 'Pod',
        'k8s.ovn.org/owner': 'ns/p',
      },
    });
    expect(lsp!.parents).toEqual([{ table: 'Logical_Switch', key: 'node2', column: 'ports' }]);
  });
});

describe('service intent', () => {
  const svc = (over: Partial<ServiceInfo> = {}): ServiceInfo => ({
    namespace: 'ns',
    name: 's',
    type: 'ClusterIP',
    clusterIPs: ['10.96.0.10'],
    ports: [{ name: 'http', port: 80, targetPort: 'web' }],
    ...over,
  });
  const slice = (port: number, ...ips: string[]): EndpointSliceInfo => ({
    ports: [{ name: 'http', protocol: 'TCP', port }],
    endpoints: ips.map((ip) => ({ addresses: [ip] })),
  });
  const lb = (rows: DesiredRow[], scope = 'cluster', proto = 'TCP') =>
    find(rows, 'Load_Balancer', `Service_ns/s_${proto}_${scope}`);

  it('maps a ClusterIP to sorted backends, resolving a named target port per slice', () => {
    const rows = serviceRows(svc(), [slice(8080, '10.128.2.5', '10.128.0.5'), slice(9090, '10.128.4.5')]);
    expect(rows).toHaveLength(1);
    expect(lb(rows).columns).toMatchObject({
      protocol: 'tcp',
      vips: { '10.96.0.10:80': '10.128.0.5:8080,10.128.2.5:8080,10.128.4.5:9090' },
      options: { reject: 'true', event: 'false', neighbor_responder: 'none' },
      selection_fields: [],
      external_ids: {
        'k8s.ovn.org/kind': 'Service',
        'k8s.ovn.org/owner': 'ns/s',
        'k8s.ovn.org/owner-type': 'Service',
      },
    });
    expect(lb(rows).parents).toEqual([
      { table: 'Load_Balancer_Group', key: 'clusterLBGroup', column: 'load_balancer' },
    ]);
  });

  it('keeps the VIP with no backends and rejects when no endpoint is ready', () => {
    const notReady: EndpointSliceInfo = {
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.128.0.5'], ready: false }],
    };
    for (const slices of [[], [notReady]]) {
      const rows = serviceRows(svc(), slices);
      expect(lb(rows).columns.vips).toEqual({ '10.96.0.10:80': '' });
      expect(lb(rows).columns.options).toMatchObject({ reject: 'true' });
    }
  });

  it('falls back to serving, terminating endpoints only when none is ready', () => {
    const p = { name: 'http', port: 80 };
    const s: EndpointSliceInfo = {
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [
        { addresses: ['10.0.0.1'], ready: false, serving: true, terminating: true },
        { addresses: ['10.0.0.2'], ready: false },
      ],
    };
    expect(backendsFor(p, [s], 4)).toEqual(['10.0.0.1:8080']);
    expect(backendsFor(p, [s, { ...s, endpoints: [{ addresses: ['10.0.0.3'] }] }], 4)).toEqual([
      '10.0.0.3:8080',
    ]);
  });

  it('splits protocols into their own LBs, TCP, UDP and SCTP', () => {
    const ports = [
      { name: 'dns', protocol: 'UDP' as const, port: 53, targetPort: 53 },
      { name: 'dns-tcp', protocol: 'TCP' as const, port: 53, targetPort: 53 },
      { name: 'sig', protocol: 'SCTP' as const, port: 9, targetPort: 9 },
    ];
    const s: EndpointSliceInfo = {
      ports: [
        { name: 'dns', protocol: 'UDP', port: 5353 },
        { name: 'dns-tcp', protocol: 'TCP', port: 5353 },
        { name: 'sig', protocol: 'SCTP', port: 99 },
      ],
      endpoints: [{ addresses: ['10.128.0.5'] }],
    };
    const rows = serviceRows(svc({ ports }), [s]);
    expect(rows.map((r) => [r.key, r.columns.protocol, r.columns.vips])).toEqual([
      ['Service_ns/s_TCP_cluster', 'tcp', { '10.96.0.10:53': '10.128.0.5:5353' }],
      ['Service_ns/s_UDP_cluster', 'udp', { '10.96.0.10:53': '10.128.0.5:5353' }],
      ['Service_ns/s_SCTP_cluster', 'sctp', { '10.96.0.10:9': '10.128.0.5:99' }],
    ]);
  });

  it('puts NodePorts of every gateway IP on one router-group LB, and external IPs with the cluster IP', () => {
    const s = svc({
      type: 'LoadBalancer',
      externalIPs: ['192.0.2.10'],
      loadBalancerIPs: ['198.51.100.7'],
      ports: [{ name: 'http', port: 80, targetPort: 'web', nodePort: 30080 }],
    });
    const rows = serviceRows(s, [slice(8080, '10.128.0.5')], ['172.18.0.11', '172.18.0.12']);
    expect(lb(rows).columns.vips).toEqual({
      '10.96.0.10:80': '10.128.0.5:8080',
      '192.0.2.10:80': '10.128.0.5:8080',
      '198.51.100.7:80': '10.128.0.5:8080',
    });
    // no gateway answers ARP for VIPs: an external IP on every gateway would get duplicate replies
    expect(lb(rows).columns.options).toMatchObject({ neighbor_responder: 'none' });
    expect(lb(rows, 'node_router').columns.options).toMatchObject({ neighbor_responder: 'none' });
    const np = lb(rows, 'node_router');
    expect(np.columns.vips).toEqual({
      '172.18.0.11:30080': '10.128.0.5:8080',
      '172.18.0.12:30080': '10.128.0.5:8080',
    });
    expect(np.parents).toEqual([
      { table: 'Load_Balancer_Group', key: 'clusterRouterLBGroup', column: 'load_balancer' },
    ]);
    // a ClusterIP service gets no NodePort LB even when ports carry nodePorts
    expect(
      serviceRows(svc({ ports: [{ name: 'http', port: 80, nodePort: 30080 }] }), [], ['172.18.0.11']),
    ).toHaveLength(1);
  });

  it('turns ClientIP session affinity into ip_src selection and affinity_timeout (capped at 65535)', () => {
    expect(lb(serviceRows(svc({ affinityTimeoutSeconds: 10800 }), [])).columns).toMatchObject({
      selection_fields: ['ip_src'],
      options: { affinity_timeout: '10800' },
    });
    expect(
      (lb(serviceRows(svc({ affinityTimeoutSeconds: 86400 }), [])).columns.options as Record<string, string>)
        .affinity_timeout,
    ).toBe('65535');
  });

  it('handles IPv6 VIPs and backends by family, and gives headless services nothing', () => {
    const rows = serviceRows(svc({ clusterIPs: ['10.96.0.10', 'fd00:96::10'] }), [
      slice(8080, '10.128.0.5', 'fd00:10:244::5'),
    ]);
    expect(lb(rows).columns.vips).toEqual({
      '10.96.0.10:80': '10.128.0.5:8080',
      '[fd00:96::10]:80': '[fd00:10:244::5]:8080',
    });
    expect(serviceRows(svc({ clusterIPs: ['None'] }), [slice(8080, '10.128.0.5')])).toEqual([]);
  });

  it('produces the same rows whatever the order of endpoints (stable strings keep reconcile a no-op)', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(['10.128.0.5', '10.128.0.6', '10.128.2.5', '10.128.2.9'], { minLength: 1 }),
        (ips) => {
          const a = serviceRows(svc(), [slice(8080, ...ips)]);
          const b = serviceRows(svc(), [slice(8080, ...[...ips].reverse())]);
          expect(a).toEqual(b);
        },
      ),
    );
  });
});

describe('pod network values for the annotations', () => {
  it('gives the pod its IPs, MAC and the gateway of each of its families', () => {
    const p = { namespace: 'ns', name: 'p', node: 'n', ips: ['10.128.4.7/23', 'fd00:10:244:3::7/64'] };
    expect(podNetwork(p, ['10.128.4.0/23', 'fd00:10:244:3::/64'])).toEqual({
      ipAddresses: ['10.128.4.7/23', 'fd00:10:244:3::7/64'],
      macAddress: '0a:58:0a:80:04:07',
      gatewayIps: ['10.128.4.1', 'fd00:10:244:3::1'],
    });
    expect(
      podNetwork({ ...p, ips: ['10.128.4.7/23'] }, ['10.128.4.0/23', 'fd00:10:244:3::/64']).gatewayIps,
    ).toEqual(['10.128.4.1']);
  });
});
