import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidAnnotationError,
  InvalidNetworkSelectionError,
  networkStatusFromResult,
  parseDefaultNetwork,
  parseNetworkSelections,
  parseNetworkStatus,
  podNetworkSelections,
  statusIpOf,
} from '../../src/multinet/index.js';

describe('k8s.v1.cni.cncf.io/networks', () => {
  it('parses the comma form with namespaces and interfaces, naming the rest net<i+1>', () => {
    const s = parseNetworkSelections('default/macvlan, other/ovs@eth5,l3-network', 'pods');
    expect(s.map((x) => [x.namespace, x.name, x.interface, x.interfaceRequested])).toEqual([
      ['default', 'macvlan', 'net1', false],
      ['other', 'ovs', 'eth5', true],
      ['pods', 'l3-network', 'net3', false],
    ]);
  });

  it('parses JSON selection elements (seed 004 default-route, ips, mac, interface)', () => {
    const s = parseNetworkSelections(
      '[{ "name": "macvlan", "namespace": "default", "default-route": ["172.17.0.1"] },' +
        ' {"name":"l2","interface":"blue","ips":["10.0.0.5/24"],"mac":"02:AA:bb:cc:dd:ee","cni-args":{"x":1}}]',
      'ns1',
    );
    expect(s[0]).toMatchObject({
      name: 'macvlan',
      namespace: 'default',
      interface: 'net1',
      defaultRoute: ['172.17.0.1'],
    });
    expect(s[1]).toMatchObject({
      name: 'l2',
      namespace: 'ns1',
      interface: 'blue',
      ips: ['10.0.0.5/24'],
      mac: '02:aa:bb:cc:dd:ee',
      extra: { 'cni-args': { x: 1 } },
    });
  });

  it('treats an absent or empty value as no selection', () => {
    expect(parseNetworkSelections(undefined, 'x')).toEqual([]);
    expect(parseNetworkSelections('  ', 'x')).toEqual([]);
  });

  const bad: [string, RegExp][] = [
    ['a/b/c', /more than one "\/"/],
    ['Bad_Name', /not a valid name/],
    ['net@a@b', /more than one "@"/],
    ['a,,b', /empty entry/],
    ['[{"namespace":"x"}]', /has no "name"/],
    ['[{"name":"x","mac":"zz"}]', /not a MAC/],
    ['[{"name":"x","ips":"10.0.0.1"}]', /"ips" must be a list/],
    ['[{"name":"x"', /not valid JSON/],
    ['a@eth1,b@eth1', /interface eth1 is used twice/],
  ];
  for (const [value, re] of bad) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      expect(() => parseNetworkSelections(value, 'ns')).toThrow(InvalidNetworkSelectionError);
      expect(() => parseNetworkSelections(value, 'ns')).toThrow(re);
    });
  }

  it('round-trips any list written in the comma form', () => {
    const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ns: fc.option(name, { nil: undefined }),
            name,
            iface: fc.option(fc.stringMatching(/^eth[0-9]{1,3}$/), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (items) => {
          const ifaces = items.map((i) => i.iface).filter((x) => x !== undefined);
          fc.pre(new Set(ifaces).size === ifaces.length && !ifaces.some((i) => /^net[0-9]+$/.test(i!)));
          const text = items
            .map((i) => `${i.ns ? `${i.ns}/` : ''}${i.name}${i.iface ? `@${i.iface}` : ''}`)
            .join(',');
          const parsed = parseNetworkSelections(text, 'podns');
          expect(parsed.map((p) => p.name)).toEqual(items.map((i) => i.name));
          expect(parsed.map((p) => p.namespace)).toEqual(items.map((i) => i.ns ?? 'podns'));
          expect(parsed.map((p) => p.interface)).toEqual(items.map((i, idx) => i.iface ?? `net${idx + 1}`));
        },
      ),
    );
  });
});

describe('v1.multus-cni.io/default-network', () => {
  it('replaces the cluster network on eth0 (seed 000: kube-system/ovs-conf)', () => {
    expect(parseDefaultNetwork('kube-system/ovs-conf', 'default')).toMatchObject({
      namespace: 'kube-system',
      name: 'ovs-conf',
      interface: 'eth0',
    });
    expect(parseDefaultNetwork('macvlan', 'default')).toMatchObject({
      namespace: 'default',
      name: 'macvlan',
      interface: 'eth0',
    });
    expect(() => parseDefaultNetwork('a,b', 'x')).toThrow(/one network/);
  });

  it('lists the default network first, then the attachments', () => {
    const s = podNetworkSelections(
      {
        'v1.multus-cni.io/default-network': 'default/macvlan',
        'k8s.v1.cni.cncf.io/networks': 'default/attachnet',
      },
      'default',
    );
    expect(s.map((x) => x.interface)).toEqual(['eth0', 'net1']);
    expect(() =>
      podNetworkSelections(
        { 'v1.multus-cni.io/default-network': 'a', 'k8s.v1.cni.cncf.io/networks': 'b@eth0' },
        'x',
      ),
    ).toThrow(/eth0 is taken/);
  });
});

describe('k8s.v1.cni.cncf.io/network-status', () => {
  it('builds the entry Multus writes: bare IPs, gateway only from default routes, sandbox interface', () => {
    const st = networkStatusFromResult('default/macvlan', 'net1', {
      interfaces: [
        { name: 'eth0', mac: '11:22:33:44:55:66' },
        { name: 'net1', mac: '86:1d:96:ff:55:0d', sandbox: '/var/run/netns/x' },
      ],
      ips: [{ address: '172.17.0.100/16', gateway: '172.17.0.1', interface: 1 }],
      routes: [
        { dst: '192.168.0.0/24', gw: '172.17.0.254' },
        { dst: '0.0.0.0/0', gw: '172.17.0.1' },
      ],
    });
    expect(st).toEqual({
      name: 'default/macvlan',
      interface: 'net1',
      ips: ['172.17.0.100'],
      mac: '86:1d:96:ff:55:0d',
      dns: {},
      gateway: ['172.17.0.1'],
    });
    const noDefault = networkStatusFromResult('a/b', 'net2', {
      ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }],
    });
    expect(noDefault.gateway).toBeUndefined();
  });

  it('parses the annotation of the reference brief and finds an interface IP as users jq it', () => {
    const text =
      '[{"name":"kube-ovn","interface":"eth0","ips":["10.16.0.5"],"mac":"00:00:00:aa:bb:cc","mtu":1400,"default":true,"dns":{},"gateway":["10.16.0.1"]},' +
      '{"name":"default/macvlan","interface":"net1","ips":["172.17.0.100"],"mac":"86:1d:96:ff:55:0d","dns":{"nameservers":[],"domain":"","search":[],"options":[]},' +
      '"device-info":{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:00:1f.0"}}}]';
    const list = parseNetworkStatus(text);
    expect(list).toHaveLength(2);
    expect(statusIpOf(list, 'net1')).toBe('172.17.0.100');
    expect(list[0]!.default).toBe(true);
    expect(() => parseNetworkStatus('{}')).toThrow(InvalidAnnotationError);
    expect(() => parseNetworkStatus('[{"ips":[]}]')).toThrow(/no name/);
  });
});
