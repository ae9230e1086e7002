import { describe, expect, it } from 'vitest';
import {
  allocatedProviders,
  attachmentIpamOf,
  formatSpiderAssigned,
  InvalidAnnotationError,
  InvalidMultusConfigError,
  InvalidNetworkConfigError,
  kubeOvnAllocation,
  kubeOvnAllocationAnnotations,
  kubeOvnKey,
  kubeOvnRequest,
  multusConfigToNadConfig,
  parseCniConfig,
  parseKubeOvnRoutes,
  parseProvider,
  providerOf,
  spiderAssignedRecords,
  spiderPoolSelections,
  spiderPoolsForInterface,
} from '../../src/multinet/index.js';
import { fixture } from '../ipam-controller/env.js';

describe('Kube-OVN annotations', () => {
  it('builds keys per provider', () => {
    expect(kubeOvnKey('ovn', 'ip_address')).toBe('ovn.kubernetes.io/ip_address');
    expect(kubeOvnKey(providerOf('default', 'macvlan'), 'ip_pool')).toBe(
      'macvlan.default.kubernetes.io/ip_pool',
    );
    expect(kubeOvnKey(providerOf('default', 'attachnet', true), 'routes')).toBe(
      'attachnet.default.ovn.kubernetes.io/routes',
    );
  });

  it('splits providers', () => {
    expect(parseProvider('ovn')).toEqual({ primary: true });
    expect(parseProvider('macvlan.default')).toEqual({
      primary: false,
      nad: 'macvlan',
      namespace: 'default',
      ovn: false,
    });
    expect(parseProvider('my.nad.kube-system.ovn')).toEqual({
      primary: false,
      nad: 'my.nad',
      namespace: 'kube-system',
      ovn: true,
    });
    expect(() => parseProvider('nodot')).toThrow(InvalidAnnotationError);
  });

  it('reads the requests of the seed 004 static-ip pod for both providers', () => {
    const ann = fixture('004-pod-static-ip')[0]!.metadata.annotations!;
    expect(kubeOvnRequest(ann, 'macvlan.default')).toEqual({
      ips: ['172.17.0.100'],
      mac: '00:00:00:53:6b:bb',
    });
    expect(kubeOvnRequest(ann, 'ovn')).toEqual({ ips: ['10.16.0.15'], mac: '00:00:00:53:6b:b6' });
    const pool = fixture('004-deploy-static-workload')[0]!.spec as {
      template: { metadata: { annotations: Record<string, string> } };
    };
    expect(kubeOvnRequest(pool.template.metadata.annotations, 'macvlan.default').ipPool).toBe(
      '172.17.0.200,172.17.0.201,172.17.0.202',
    );
  });

  it('parses the custom routes of seed 004 (no dst = default route)', () => {
    const ann = fixture('004-pod-custom-routes-attach')[0]!.metadata.annotations!;
    expect(kubeOvnRequest(ann, 'attachnet.default.ovn').routes).toEqual([
      { dst: '192.168.0.101/24', gw: '172.17.0.254' },
      { gw: '172.17.0.254' },
    ]);
    expect(() => parseKubeOvnRoutes('[{"dst":"x","gw":"1.1.1.1"}]')).toThrow(/not a CIDR/);
    expect(() => parseKubeOvnRoutes('[{"dst":"10.0.0.0/8"}]')).toThrow(/gw/);
    expect(() => parseKubeOvnRoutes('{}')).toThrow(/JSON list/);
  });

  it('round-trips a recorded allocation, and tells it from a request by "allocated"', () => {
    const rec = {
      ips: ['172.17.0.11'],
      cidr: '172.17.0.0/16',
      gateway: '172.17.0.1',
      mac: '0a:00:00:00:00:01',
      logicalSwitch: 'macvlan',
    };
    const ann = kubeOvnAllocationAnnotations('macvlan.default', rec);
    expect(ann['macvlan.default.kubernetes.io/allocated']).toBe('true');
    expect(kubeOvnAllocation(ann, 'macvlan.default')).toEqual(rec);
    // Once allocated, ip_address is a record, not a static request.
    expect(kubeOvnRequest(ann, 'macvlan.default').ips).toBeUndefined();
    expect(allocatedProviders({ ...ann, 'x.y.kubernetes.io/allocated': 'false' })).toEqual([
      'macvlan.default',
    ]);
    expect(kubeOvnAllocation({}, 'macvlan.default')).toBeUndefined();
    expect(() => kubeOvnRequest({ 'a.b.kubernetes.io/ip_address': 'nope' }, 'a.b')).toThrow(/not an IP/);
  });
});

describe('NAD configs and which IPAM serves them', () => {
  it('recognises the seed 004 NADs', () => {
    const nad = (name: string) => {
      const o = fixture(name)[0]!;
      return attachmentIpamOf(
        parseCniConfig((o.spec as { config: string }).config, 'default/x'),
        'default',
        o.metadata.name!,
      );
    };
    expect(nad('004-nad-macvlan')).toEqual({ model: 'kube-ovn', provider: 'macvlan.default', ovn: false });
    expect(nad('004-nad-attachnet')).toEqual({
      model: 'kube-ovn',
      provider: 'attachnet.default.ovn',
      ovn: true,
    });
  });

  it('classifies ovn-k networks, foreign IPAM, our own, and config lists', () => {
    const of = (c: object) => attachmentIpamOf(parseCniConfig(JSON.stringify(c), 'ns/n'), 'ns', 'n');
    expect(of({ type: 'ovn-k8s-cni-overlay', name: 'x' })).toEqual({ model: 'ovn-network' });
    expect(of({ type: 'macvlan', ipam: { type: 'whereabouts' } })).toEqual({ model: 'none' });
    expect(of({ type: 'macvlan' })).toEqual({ model: 'none' });
    expect(of({ type: 'macvlan', ipam: { type: 'ovn-k8s-ipam' } })).toMatchObject({
      model: 'auto',
      provider: 'n.ns',
    });
    expect(of({ type: 'macvlan', ipam: { type: 'ovn-k8s-ipam', provider: 'p.ns' } })).toMatchObject({
      model: 'kube-ovn',
      provider: 'p.ns',
    });
    expect(
      of({
        plugins: [
          { type: 'ipvlan', ipam: { type: 'ovn-k8s-ipam', default_ipv4_ippool: ['a'] } },
          { type: 'tuning' },
        ],
      }),
    ).toEqual({
      model: 'spiderpool',
      defaultIpv4Pools: ['a'],
      defaultIpv6Pools: [],
    });
    expect(() => parseCniConfig('{"plugins":[]}', 'ns/n')).toThrow(InvalidNetworkConfigError);
    expect(() => parseCniConfig('{"plugins":[{"x":1}]}', 'ns/n')).toThrow(/no "type"/);
  });
});

describe('Spiderpool annotations', () => {
  it('reads the seed 000 Deployment annotation', () => {
    const d = fixture('000-deployment')[0]!.spec as {
      template: { metadata: { annotations: Record<string, string> } };
    };
    const sels = spiderPoolSelections(d.template.metadata.annotations);
    expect(sels).toEqual([{ ipv4: ['ippool-test'], ipv6: [] }]);
    expect(spiderPoolsForInterface(sels, 'eth0')?.ipv4).toEqual(['ippool-test']);
  });

  it('gives ippools entries priority per interface', () => {
    const sels = spiderPoolSelections({
      'ipam.spidernet.io/ippools':
        '[{"interface":"net1","ipv4":["p1"]},{"interface":"net2","ipv6":["p6"],"cleangateway":true}]',
      'ipam.spidernet.io/ippool': '{"ipv4":["fallback"]}',
    });
    expect(spiderPoolsForInterface(sels, 'net2')).toEqual({
      interface: 'net2',
      ipv4: [],
      ipv6: ['p6'],
      cleanGateway: true,
    });
    expect(spiderPoolsForInterface(sels, 'eth0')?.ipv4).toEqual(['fallback']);
    expect(() => spiderPoolSelections({ 'ipam.spidernet.io/ippools': '[{"ipv4":["x"]}]' })).toThrow(
      /no "interface"/,
    );
    expect(() => spiderPoolSelections({ 'ipam.spidernet.io/ippool': '{"ipv4":[]}' })).toThrow(
      /names no pool/,
    );
  });

  it('round-trips assigned records', () => {
    const ann = {
      'ipam.spidernet.io/assigned-eth0': formatSpiderAssigned({
        interface: 'eth0',
        ipv4pool: 'ippool-test',
        ipv4: '172.18.30.131/16',
      }),
    };
    expect(spiderAssignedRecords(ann)).toEqual([
      { interface: 'eth0', ipv4pool: 'ippool-test', ipv4: '172.18.30.131/16', vlan: 0 },
    ]);
  });
});

describe('SpiderMultusConfig -> NAD config', () => {
  it('generates the ovs config of seed 000 wired to ovn-k8s-ipam', () => {
    const smc = fixture('000-spidermultusconfig')[0]!;
    const text = multusConfigToNadConfig('kube-system', 'ovs-conf', smc.spec as object, {
      ipamKubeconfig: '/etc/kc',
    });
    const parsed = parseCniConfig(text, 'kube-system/ovs-conf');
    expect(parsed.name).toBe('ovs-conf');
    expect(parsed.main).toEqual({
      type: 'ovs',
      bridge: 'br1',
      ipam: { type: 'ovn-k8s-ipam', model: 'spiderpool', kubeconfig: '/etc/kc' },
    });
  });

  it('generates macvlan and ipvlan with master, VLAN, bond and default pools', () => {
    const mv = JSON.parse(
      multusConfigToNadConfig('ns', 'mv', {
        cniType: 'macvlan',
        macvlan: { master: ['ens192'], vlanID: 100, ippools: { ipv4: ['v4pool'] } },
      }),
    ) as { plugins: Record<string, unknown>[] };
    expect(mv.plugins[0]).toMatchObject({
      type: 'macvlan',
      master: 'ens192.100',
      mode: 'bridge',
      ipam: { default_ipv4_ippool: ['v4pool'] },
    });
    const iv = JSON.parse(
      multusConfigToNadConfig('ns', 'iv', {
        cniType: 'ipvlan',
        ipvlan: { master: ['a', 'b'], bond: { name: 'bond0' } },
      }),
    ) as {
      plugins: Record<string, unknown>[];
    };
    expect(iv.plugins[0]).toMatchObject({ type: 'ipvlan', master: 'bond0' });
  });

  it('refuses specs that cannot work', () => {
    expect(() => multusConfigToNadConfig('ns', 'x', { cniType: 'ovs', ovs: {} })).toThrow(
      /ovs.bridge is required/,
    );
    expect(() => multusConfigToNadConfig('ns', 'x', { cniType: 'macvlan', macvlan: { master: [] } })).toThrow(
      InvalidMultusConfigError,
    );
    expect(() =>
      multusConfigToNadConfig('ns', 'x', { cniType: 'macvlan', macvlan: { master: ['a', 'b'] } }),
    ).toThrow(/bond.name/);
    expect(() =>
      multusConfigToNadConfig('ns', 'x', { cniType: 'macvlan', macvlan: { master: ['a'], vlanID: 5000 } }),
    ).toThrow(/vlanID/);
    expect(() => multusConfigToNadConfig('ns', 'x', { cniType: 'sriov' })).toThrow(/not supported/);
    expect(() => multusConfigToNadConfig('ns', 'x', { cniType: 'custom', customCNI: '[1]' })).toThrow(
      /customCNI/,
    );
  });
});
