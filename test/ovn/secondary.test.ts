import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterIntent, type DesiredRow } from '../../src/ovn/intent/index.js';
import {
  SecondaryIntentError,
  attachmentOfOwner,
  attachmentOwner,
  attachmentPort,
  isSecondaryOwner,
  layer2Switch,
  localnetNetworkPort,
  localnetSwitch,
  networkNodeSwitch,
  networkOfOwner,
  networkOwner,
  networkRouter,
  networkRouterToSwitchPort,
  networkSwitchToRouterPort,
  podAttachmentAnnotation,
  podAttachmentRows,
  secondaryNetworkIntent,
  secondaryNetworkRows,
  type PodAttachmentInfo,
  type SecondaryNetworkInfo,
} from '../../src/ovn/intent/secondary.js';
import { parseOvnNetworkConfig } from '../../src/multinet/ovn-network.js';
import { CLUSTER_OWNER, podOwner } from '../../src/ovn/names.js';
import { reconcileOwned, SnapshotNbView } from '../../src/ovn/reconcile/index.js';
import { node1, smallCluster } from './fixture.js';

const find = (rows: DesiredRow[], table: string, key: string): DesiredRow => {
  const r = rows.find((x) => x.table === table && x.key === key);
  if (!r) throw new Error(`no ${table} ${key} in ${rows.map((x) => `${x.table}:${x.key}`).join(', ')}`);
  return r;
};

const L3: SecondaryNetworkInfo = { name: 'ovn-again', topology: 'layer3', subnets: ['10.245.0.0/16/24'] };
const L2: SecondaryNetworkInfo = {
  name: 'l2-net',
  topology: 'layer2',
  subnets: ['10.100.200.0/24'],
  excludeSubnets: ['10.100.200.0/29', '10.100.200.100'],
};
const LOCALNET: SecondaryNetworkInfo = {
  name: 'phys-net',
  topology: 'localnet',
  subnets: ['192.168.1.0/24'],
  vlanID: 100,
  physicalNetworkName: 'physnet-blue',
};
const att = (over: Partial<PodAttachmentInfo> = {}): PodAttachmentInfo => ({
  namespace: 'default',
  name: 'samplepod1',
  node: 'kind-worker',
  uid: 'uid-1',
  nad: 'default/ovn-again-conf',
  ips: ['10.245.3.4/24'],
  ...over,
});

describe('secondary network names', () => {
  it('prefix every object with the network, pod ports with the NAD (ovn-k naming)', () => {
    expect(networkRouter('ovn-again')).toBe('ovn.again_ovn_cluster_router');
    expect(networkNodeSwitch('ovn-again', 'kind-worker')).toBe('ovn.again_kind-worker');
    expect(networkRouterToSwitchPort('ovn-again', 'kind-worker')).toBe('rtos-ovn.again_kind-worker');
    expect(networkSwitchToRouterPort('ovn-again', 'kind-worker')).toBe('stor-ovn.again_kind-worker');
    expect(layer2Switch('l2-net')).toBe('l2.net_ovn_layer2_switch');
    expect(localnetSwitch('phys-net')).toBe('phys.net_ovn_localnet_switch');
    expect(localnetNetworkPort('phys-net')).toBe('phys.net_ovn_localnet_port');
    expect(attachmentPort('default/ovn-again-conf', 'default', 'samplepod1')).toBe(
      'default.ovn.again.conf_default_samplepod1',
    );
  });

  it('never produce a name of the default network, whatever the node, namespace or pod name', () => {
    const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const dnsName = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        dnsName,
        dnsName,
        dnsLabel,
        dnsName,
        dnsLabel,
        dnsName,
        (net, node, ns, pod, nadNs, nad) => {
          fc.pre(net !== 'default' && net !== 'GR' && net !== 'ext');
          const state = smallCluster();
          state.nodes = [
            { name: node, subnets: ['10.128.0.0/23'], gateway: { ...node1.gateway!, chassisId: node } },
          ];
          state.pods = [{ namespace: ns, name: pod, node, ips: ['10.128.0.5/23'] }];
          const defaultNames = new Set(clusterIntent(state).flatMap((o) => o.rows.map((r) => r.key)));
          const secondary = [L3, L2, LOCALNET].flatMap((n) =>
            secondaryNetworkIntent(
              { ...n, name: net },
              [{ name: node, subnets: ['10.245.0.0/24'] }],
              [
                att({
                  namespace: ns,
                  name: pod,
                  node,
                  nad: `${nadNs}/${nad}`,
                  ips: [],
                  mac: '02:00:00:00:00:01',
                }),
              ],
            ).flatMap((o) => o.rows.map((r) => r.key)),
          );
          for (const name of secondary) expect(defaultNames.has(name)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse network names that would collide with default-network objects', () => {
    for (const name of ['default', 'GR', 'ext', ''])
      expect(() => secondaryNetworkRows({ ...L3, name })).toThrow(SecondaryIntentError);
  });

  it('give each network and each pod attachment an owner apart from the default network', () => {
    const net = networkOwner('ovn-again');
    expect(net).toEqual({ type: 'Network', id: 'ovn-again' });
    expect(networkOfOwner(net)).toBe('ovn-again');
    expect(networkOfOwner(CLUSTER_OWNER)).toBeUndefined();
    const pod = attachmentOwner('default', 'samplepod1', 'default/ovn-again-conf');
    expect(pod).toEqual({ type: 'PodNetwork', id: 'default/samplepod1@default/ovn-again-conf' });
    expect(attachmentOfOwner(pod)).toEqual({
      namespace: 'default',
      pod: 'samplepod1',
      nad: 'default/ovn-again-conf',
    });
    expect(attachmentOfOwner(podOwner('default', 'samplepod1'))).toBeUndefined();
    expect(isSecondaryOwner(net) && isSecondaryOwner(pod)).toBe(true);
    expect(isSecondaryOwner(CLUSTER_OWNER) || isSecondaryOwner(podOwner('a', 'b'))).toBe(false);
  });
});

describe('layer3 network rows', () => {
  const nodes = [
    { name: 'kind-worker', subnets: ['10.245.3.0/24'] },
    { name: 'kind-worker2', subnets: ['10.245.2.0/24'] },
    { name: 'kind-worker3', subnets: [] },
  ];
  const rows = secondaryNetworkRows(L3, nodes);
  const ids = {
    'k8s.ovn.org/network': 'ovn-again',
    'k8s.ovn.org/topology': 'layer3',
    'k8s.ovn.org/role': 'secondary',
    'k8s.ovn.org/owner-type': 'Network',
    'k8s.ovn.org/owner': 'ovn-again',
  };

  it('builds the network router, and per node with a subnet a switch behind a router port', () => {
    expect(rows.map((r) => `${r.table}:${r.key}`)).toEqual([
      'Logical_Router:ovn.again_ovn_cluster_router',
      'Logical_Switch:ovn.again_kind-worker',
      'Logical_Router_Port:rtos-ovn.again_kind-worker',
      'Logical_Switch_Port:stor-ovn.again_kind-worker',
      'Logical_Switch:ovn.again_kind-worker2',
      'Logical_Router_Port:rtos-ovn.again_kind-worker2',
      'Logical_Switch_Port:stor-ovn.again_kind-worker2',
    ]);
    expect(find(rows, 'Logical_Router', 'ovn.again_ovn_cluster_router').columns).toEqual({
      name: 'ovn.again_ovn_cluster_router',
      external_ids: ids,
    });
  });

  it('gives the node switch its subnet with .2 excluded, the router port .1 with the MAC from it', () => {
    expect(find(rows, 'Logical_Switch', 'ovn.again_kind-worker').columns).toEqual({
      name: 'ovn.again_kind-worker',
      other_config: { subnet: '10.245.3.0/24', exclude_ips: '10.245.3.2' },
      external_ids: ids,
    });
    const rtos = find(rows, 'Logical_Router_Port', 'rtos-ovn.again_kind-worker');
    expect(rtos.columns).toEqual({
      name: 'rtos-ovn.again_kind-worker',
      mac: '0a:58:0a:f5:03:01',
      networks: ['10.245.3.1/24'],
      external_ids: ids,
    });
    expect(rtos.parents).toEqual([
      { table: 'Logical_Router', key: 'ovn.again_ovn_cluster_router', column: 'ports' },
    ]);
    const stor = find(rows, 'Logical_Switch_Port', 'stor-ovn.again_kind-worker');
    expect(stor.columns).toMatchObject({
      type: 'router',
      addresses: ['router'],
      options: { 'router-port': 'rtos-ovn.again_kind-worker' },
    });
    expect(stor.parents).toEqual([
      { table: 'Logical_Switch', key: 'ovn.again_kind-worker', column: 'ports' },
    ]);
  });

  it('is east-west only: no gateway router, join switch, NAT, routes or load balancers', () => {
    const tables = new Set(rows.map((r) => r.table));
    expect([...tables].sort()).toEqual([
      'Logical_Router',
      'Logical_Router_Port',
      'Logical_Switch',
      'Logical_Switch_Port',
    ]);
    expect(rows.some((r) => r.refs)).toBe(false);
  });

  it('handles dual stack: both gateways on the router port, MAC from the IPv4 one, ipv6_prefix', () => {
    const dual = secondaryNetworkRows({ ...L3, subnets: ['10.245.0.0/16/24', 'fd00:245::/48/64'] }, [
      { name: 'n1', subnets: ['fd00:245:0:1::/64', '10.245.1.0/24'] },
    ]);
    expect(find(dual, 'Logical_Router_Port', 'rtos-ovn.again_n1').columns).toMatchObject({
      mac: '0a:58:0a:f5:01:01',
      networks: ['fd00:245:0:1::1/64', '10.245.1.1/24'],
    });
    expect(find(dual, 'Logical_Switch', 'ovn.again_n1').columns.other_config).toEqual({
      subnet: '10.245.1.0/24',
      exclude_ips: '10.245.1.2',
      ipv6_prefix: 'fd00:245:0:1::',
    });
  });

  it('refuses a node subnet that is not a host subnet of the network', () => {
    expect(() => secondaryNetworkRows(L3, [{ name: 'n1', subnets: ['10.246.1.0/24'] }])).toThrow(
      /not a \/host-prefix/,
    );
    expect(() => secondaryNetworkRows(L3, [{ name: 'n1', subnets: ['10.245.0.0/23'] }])).toThrow(
      SecondaryIntentError,
    );
    expect(() => secondaryNetworkRows({ ...L3, subnets: [] }, [])).toThrow(/no subnets/);
  });
});

describe('layer2 and localnet network rows', () => {
  it('layer2: one switch with the subnet and the excluded addresses as OVN ranges', () => {
    const rows = secondaryNetworkRows(L2);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.columns).toMatchObject({
      name: 'l2.net_ovn_layer2_switch',
      other_config: { subnet: '10.100.200.0/24', exclude_ips: '10.100.200.0..10.100.200.7 10.100.200.100' },
      external_ids: { 'k8s.ovn.org/network': 'l2-net', 'k8s.ovn.org/topology': 'layer2' },
    });
  });

  it('layer2 without subnets: a plain L2 switch', () => {
    const rows = secondaryNetworkRows({ name: 'l2-only', topology: 'layer2', subnets: [] });
    expect(rows[0]!.columns.other_config).toEqual({});
  });

  it('localnet: a switch and a localnet port to the physical network on its VLAN', () => {
    const rows = secondaryNetworkRows(LOCALNET);
    expect(rows.map((r) => r.key)).toEqual(['phys.net_ovn_localnet_switch', 'phys.net_ovn_localnet_port']);
    const port = find(rows, 'Logical_Switch_Port', 'phys.net_ovn_localnet_port');
    expect(port.columns).toMatchObject({
      type: 'localnet',
      addresses: ['unknown'],
      options: { network_name: 'physnet-blue' },
      tag_request: 100,
      external_ids: { 'k8s.ovn.org/topology': 'localnet', 'k8s.ovn.org/owner': 'phys-net' },
    });
    expect(port.parents).toEqual([
      { table: 'Logical_Switch', key: 'phys.net_ovn_localnet_switch', column: 'ports' },
    ]);
  });

  it('localnet without VLAN or physical network name: untagged, named after the network', () => {
    const port = secondaryNetworkRows({ name: 'tenant', topology: 'localnet', subnets: [] })[1]!;
    expect(port.columns.tag_request).toBeNull();
    expect(port.columns.options).toEqual({ network_name: 'tenant' });
  });
});

describe('pod attachments', () => {
  it('a layer3 attachment is a port on the node switch of the network, addressed and port-secured', () => {
    const [row] = podAttachmentRows(L3, att());
    expect(row!.key).toBe('default.ovn.again.conf_default_samplepod1');
    expect(row!.columns).toEqual({
      name: 'default.ovn.again.conf_default_samplepod1',
      addresses: ['0a:58:0a:f5:03:04 10.245.3.4'],
      port_security: ['0a:58:0a:f5:03:04 10.245.3.4'],
      options: { 'requested-chassis': 'kind-worker', 'iface-id-ver': 'uid-1' },
      external_ids: {
        namespace: 'default',
        pod: 'true',
        'k8s.ovn.org/network': 'ovn-again',
        'k8s.ovn.org/topology': 'layer3',
        'k8s.ovn.org/role': 'secondary',
        'k8s.ovn.org/nad': 'default/ovn-again-conf',
        'k8s.ovn.org/owner-type': 'PodNetwork',
        'k8s.ovn.org/owner': 'default/samplepod1@default/ovn-again-conf',
      },
    });
    expect(row!.parents).toEqual([
      { table: 'Logical_Switch', key: 'ovn.again_kind-worker', column: 'ports' },
    ]);
  });

  it('layer2 and localnet attachments sit on the network switch whatever the node', () => {
    const l2 = podAttachmentRows(L2, att({ nad: 'web/l2-conf', ips: ['10.100.200.10/24'] }))[0]!;
    expect(l2.parents![0]!.key).toBe('l2.net_ovn_layer2_switch');
    expect(l2.key).toBe('web.l2.conf_default_samplepod1');
    const ln = podAttachmentRows(LOCALNET, att({ nad: 'default/ln', ips: ['192.168.1.201/24'] }))[0]!;
    expect(ln.parents![0]!.key).toBe('phys.net_ovn_localnet_switch');
  });

  it('on a network without subnets the port is secured on its MAC only', () => {
    const net: SecondaryNetworkInfo = { name: 'l2-only', topology: 'layer2', subnets: [] };
    const [row] = podAttachmentRows(net, att({ nad: 'default/l2-only', ips: [], mac: '02:AA:00:00:00:01' }));
    expect(row!.columns.addresses).toEqual(['02:aa:00:00:00:01']);
    expect(row!.columns.port_security).toEqual(['02:aa:00:00:00:01']);
    expect(() => podAttachmentRows(net, att({ nad: 'default/l2-only', ips: [] }))).toThrow(
      /neither a MAC nor an IP/,
    );
  });

  it('refuses addresses outside the network', () => {
    expect(() => podAttachmentRows(L3, att({ ips: ['10.128.0.5/24'] }))).toThrow(
      /outside 10.245.0.0\/16\/24/,
    );
    expect(() => podAttachmentRows(L3, att({ ips: ['not-an-ip'] }))).toThrow(SecondaryIntentError);
  });

  it('groups a network into its shared owner and one owner per attachment', () => {
    const owned = secondaryNetworkIntent(L3, [{ name: 'kind-worker', subnets: ['10.245.3.0/24'] }], [att()]);
    expect(owned.map((o) => o.owner)).toEqual([
      networkOwner('ovn-again'),
      attachmentOwner('default', 'samplepod1', 'default/ovn-again-conf'),
    ]);
    // the reconciler accepts the rows as they are: all refer to rows of the same batch
    const result = reconcileOwned(new SnapshotNbView({}), owned);
    expect(result.skipped).toEqual([]);
    expect(result.operations.filter((o) => o.op === 'insert')).toHaveLength(5);
  });
});

describe('pod-networks annotation entries', () => {
  it('layer3: addresses, MAC, a route to the network via the node gateway, role secondary', () => {
    expect(podAttachmentAnnotation(L3, att(), ['10.245.3.0/24'])).toEqual({
      key: 'default/ovn-again-conf',
      entry: {
        ip_addresses: ['10.245.3.4/24'],
        mac_address: '0a:58:0a:f5:03:04',
        routes: [{ dest: '10.245.0.0/16', nextHop: '10.245.3.1' }],
        ip_address: '10.245.3.4/24',
        role: 'secondary',
      },
    });
  });

  it('layer3: no gateway_ips (no default route) unless the selection asks for default-route', () => {
    expect(podAttachmentAnnotation(L3, att(), ['10.245.3.0/24']).entry.gateway_ips).toBeUndefined();
    const withDefault = podAttachmentAnnotation(L3, att({ defaultRoute: ['10.245.3.1'] }), ['10.245.3.0/24']);
    expect(withDefault.entry).toMatchObject({ gateway_ips: ['10.245.3.1'], gateway_ip: '10.245.3.1' });
  });

  it('layer3: a route per family on dual stack', () => {
    const net = { ...L3, subnets: ['10.245.0.0/16/24', 'fd00:245::/48/64'] };
    const entry = podAttachmentAnnotation(net, att({ ips: ['10.245.3.4/24', 'fd00:245:0:3::4/64'] }), [
      '10.245.3.0/24',
      'fd00:245:0:3::/64',
    ]).entry;
    expect(entry.routes).toEqual([
      { dest: '10.245.0.0/16', nextHop: '10.245.3.1' },
      { dest: 'fd00:245::/48', nextHop: 'fd00:245:0:3::1' },
    ]);
  });

  it('layer3: refuses an IP outside the node subnet, or a node without a subnet of its family', () => {
    expect(() => podAttachmentAnnotation(L3, att(), ['10.245.2.0/24'])).toThrow(/outside node kind-worker/);
    expect(() => podAttachmentAnnotation(L3, att(), [])).toThrow(/no IPv4 subnet/);
  });

  it('layer2 and localnet: directly connected, no routes', () => {
    const l2 = podAttachmentAnnotation(L2, att({ nad: 'web/l2-conf', ips: ['10.100.200.10/24'] }));
    expect(l2).toEqual({
      key: 'web/l2-conf',
      entry: {
        ip_addresses: ['10.100.200.10/24'],
        mac_address: '0a:58:0a:64:c8:0a',
        ip_address: '10.100.200.10/24',
        role: 'secondary',
      },
    });
    const l2only = podAttachmentAnnotation(
      { name: 'x', topology: 'layer2', subnets: [] },
      att({ nad: 'default/x', ips: [], mac: '02:00:00:00:00:07' }),
    );
    expect(l2only.entry).toEqual({ ip_addresses: [], mac_address: '02:00:00:00:00:07', role: 'secondary' });
  });
});

describe('NAD configs parsed by src/multinet', () => {
  it('feed the intent as they are (seed 003 ovn-again-conf)', () => {
    const cfg = parseOvnNetworkConfig(
      JSON.stringify({
        cniVersion: '0.3.1',
        name: 'ovn-again',
        type: 'ovn-k8s-cni-overlay',
        topology: 'layer3',
        subnets: '10.245.0.0/16/24',
        mtu: 1300,
        netAttachDefName: 'default/ovn-again-conf',
      }),
      'default',
      'ovn-again-conf',
    );
    const rows = secondaryNetworkRows(cfg, [{ name: 'kind-worker', subnets: ['10.245.3.0/24'] }]);
    expect(find(rows, 'Logical_Switch', 'ovn.again_kind-worker').columns.other_config).toEqual({
      subnet: '10.245.3.0/24',
      exclude_ips: '10.245.3.2',
    });
    expect(podAttachmentAnnotation(cfg, att(), ['10.245.3.0/24']).entry.routes).toEqual([
      { dest: '10.245.0.0/16', nextHop: '10.245.3.1' },
    ]);
  });

  it('localnet configs keep their VLAN and physical network', () => {
    const cfg = parseOvnNetworkConfig(
      JSON.stringify({
        cniVersion: '0.3.1',
        name: 'phys-net',
        type: 'ovn-k8s-cni-overlay',
        topology: 'localnet',
        subnets: '192.168.1.0/24',
        excludeSubnets: '192.168.1.0/28',
        vlanID: 100,
        physicalNetworkName: 'physnet-blue',
        netAttachDefName: 'default/ln',
      }),
      'default',
      'ln',
    );
    const rows = secondaryNetworkRows(cfg);
    expect(rows[0]!.columns.other_config).toEqual({
      subnet: '192.168.1.0/24',
      exclude_ips: '192.168.1.0..192.168.1.15',
    });
    expect(rows[1]!.columns).toMatchObject({ tag_request: 100, options: { network_name: 'physnet-blue' } });
  });
});
