/** Kubernetes objects to intent records, and the annotation codecs. */
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  endpointSliceInfo,
  gatewayJoinIpsAnnotation,
  gatewayJoinIpsFromAnnotation,
  legacyPodAnnotation,
  nodeGateway,
  nodeSubnetsAnnotation,
  nodeSubnetsFromAnnotation,
  podNetworkFromAnnotation,
  podNetworksAnnotation,
  podWantsPort,
  samePodInputs,
  serviceInfo,
} from '../../src/watcher/convert.js';
import { gatewayAnnotations, SAMPLE_GATEWAY } from '../../src/sandbox/sample-cluster.js';

const node = (annotations: Record<string, string>): V1Node => ({ metadata: { name: 'n', annotations } });

describe('node annotations', () => {
  it('round-trips node subnets, one or several', () => {
    for (const subnets of [['10.128.0.0/23'], ['10.128.0.0/23', 'fd00::/64']]) {
      const n = node({ 'k8s.ovn.org/node-subnets': nodeSubnetsAnnotation(subnets) });
      expect(nodeSubnetsFromAnnotation(n)).toEqual(subnets);
    }
    expect(nodeSubnetsAnnotation(['10.128.0.0/23'])).toBe('{"default":"10.128.0.0/23"}');
    expect(nodeSubnetsFromAnnotation(node({ 'k8s.ovn.org/node-subnets': 'not json' }))).toEqual([]);
  });

  it('round-trips the gateway join IPs', () => {
    const v = gatewayJoinIpsAnnotation(['100.64.0.2/16', 'fd98::2/64']);
    expect(JSON.parse(v)).toEqual({ default: { ipv4: '100.64.0.2/16', ipv6: 'fd98::2/64' } });
    expect(gatewayJoinIpsFromAnnotation(node({ 'k8s.ovn.org/node-gateway-router-lrp-ifaddrs': v }))).toEqual([
      '100.64.0.2/16',
      'fd98::2/64',
    ]);
  });

  it('reads the gateway from l3-gateway-config and the chassis id, and needs both', () => {
    const ann = gatewayAnnotations(SAMPLE_GATEWAY);
    expect(nodeGateway(node(ann))).toEqual({
      chassisId: 'chassis-master',
      ips: ['172.18.0.10/24'],
      mac: '02:42:ac:12:00:0a',
      nextHops: ['172.18.0.1'],
      interfaceId: 'breth0_master',
    });
    expect(
      nodeGateway(node({ 'k8s.ovn.org/l3-gateway-config': ann['k8s.ovn.org/l3-gateway-config']! })),
    ).toBeUndefined();
    const disabled = { ...ann, 'k8s.ovn.org/l3-gateway-config': '{"default":{"mode":"disabled"}}' };
    expect(nodeGateway(node(disabled))).toBeUndefined();
  });
});

describe('pods', () => {
  const pod = (spec: V1Pod['spec'], phase?: string): V1Pod => ({
    metadata: { name: 'p', namespace: 'ns' },
    spec,
    ...(phase ? { status: { phase } } : {}),
  });
  it('wants a port only when scheduled, not host-network and not finished', () => {
    expect(podWantsPort(pod({ containers: [], nodeName: 'n' }))).toBe(true);
    expect(podWantsPort(pod({ containers: [] }))).toBe(false);
    expect(podWantsPort(pod({ containers: [], nodeName: 'n', hostNetwork: true }))).toBe(false);
    expect(podWantsPort(pod({ containers: [], nodeName: 'n' }, 'Succeeded'))).toBe(false);
    expect(podWantsPort(pod({ containers: [], nodeName: 'n' }, 'Failed'))).toBe(false);
    expect(podWantsPort(undefined)).toBe(false);
  });

  it('writes pod-networks as ovn-k does and the original `ovn` annotation, and reads them back', () => {
    const net = { ips: ['10.128.0.5/23'], mac: '0a:58:0a:80:00:05', gateways: ['10.128.0.1'] };
    const v = JSON.parse(podNetworksAnnotation(net)) as { default: Record<string, unknown> };
    expect(v.default).toMatchObject({
      ip_addresses: ['10.128.0.5/23'],
      mac_address: '0a:58:0a:80:00:05',
      gateway_ips: ['10.128.0.1'],
      ip_address: '10.128.0.5/23',
      gateway_ip: '10.128.0.1',
    });
    expect(JSON.parse(legacyPodAnnotation(net))).toEqual({
      ip_address: '10.128.0.5/23',
      mac_address: '0a:58:0a:80:00:05',
      gateway_ip: '10.128.0.1',
    });
    const p: V1Pod = {
      metadata: { annotations: { 'k8s.ovn.org/pod-networks': podNetworksAnnotation(net) } },
    };
    expect(podNetworkFromAnnotation(p)).toEqual(net);
  });
});

describe('services', () => {
  const svc = (spec: V1Service['spec'], status?: V1Service['status']): V1Service => ({
    metadata: { name: 's', namespace: 'ns' },
    spec,
    ...(status ? { status } : {}),
  });
  it('skips ExternalName and headless services', () => {
    expect(serviceInfo(svc({ type: 'ExternalName', externalName: 'x.example' }))).toBeUndefined();
    expect(serviceInfo(svc({ clusterIP: 'None', ports: [{ port: 80 }] }))).toBeUndefined();
  });

  it('keeps ports, protocols, named target ports, affinity, externalIPs and LB ingress', () => {
    const info = serviceInfo(
      svc(
        {
          type: 'LoadBalancer',
          clusterIP: '10.96.0.5',
          clusterIPs: ['10.96.0.5'],
          externalIPs: ['192.0.2.7'],
          sessionAffinity: 'ClientIP',
          ports: [
            { name: 'http', port: 80, targetPort: 'http' as never, nodePort: 30080 },
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 as never },
            { name: 'sig', port: 9000, protocol: 'SCTP' },
          ],
        },
        { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } },
      ),
    )!;
    expect(info.ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 },
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 },
      { name: 'sig', protocol: 'SCTP', port: 9000 },
    ]);
    expect(info.affinityTimeoutSeconds).toBe(10800);
    expect(info.externalIPs).toEqual(['192.0.2.7']);
    expect(info.loadBalancerIPs).toEqual(['198.51.100.1']);
  });

  it('keeps endpoint conditions (absent ready means ready)', () => {
    const slice: V1EndpointSlice = {
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.128.0.5'] },
        { addresses: ['10.128.0.6'], conditions: { ready: false, serving: true, terminating: true } },
      ],
    };
    expect(endpointSliceInfo(slice)).toEqual({
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: [
        { addresses: ['10.128.0.5'] },
        { addresses: ['10.128.0.6'], ready: false, serving: true, terminating: true },
      ],
    });
  });
});

describe('samePodInputs (is a pod event news for the pod key?)', () => {
  const ours = { 'k8s.ovn.org/pod-networks': '', ovn: '' };
  const base = (): V1Pod => ({
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'u1',
      resourceVersion: '5',
      creationTimestamp: new Date('2026-01-01T00:00:00Z'),
      annotations: { 'k8s.v1.cni.cncf.io/networks': 'net1' },
    },
    spec: { nodeName: 'n1', containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });

  it('ignores what the pod path does not read and the annotations it wrote itself', () => {
    const b = base();
    b.metadata!.resourceVersion = '6';
    b.metadata!.annotations = { ...b.metadata!.annotations, 'k8s.ovn.org/pod-networks': '{}', ovn: '{}' };
    b.status!.conditions = [{ type: 'Ready', status: 'False' }];
    expect(samePodInputs(base(), b, ours)).toBe(true);
  });

  it('sees every change the pod path reads', () => {
    const changes: Array<(p: V1Pod) => void> = [
      (p) => (p.metadata!.uid = 'u2'),
      (p) => (p.spec!.nodeName = 'n2'),
      (p) => (p.spec!.hostNetwork = true),
      (p) => (p.status!.phase = 'Succeeded'),
      (p) => (p.metadata!.deletionTimestamp = new Date()),
      (p) => (p.metadata!.creationTimestamp = new Date('2026-01-02T00:00:00Z')),
      (p) => (p.metadata!.annotations!['k8s.v1.cni.cncf.io/networks'] = 'net2'),
      (p) => delete p.metadata!.annotations!['k8s.v1.cni.cncf.io/networks'],
      (p) => (p.metadata!.annotations!['v1.multus-cni.io/default-network'] = 'x'),
    ];
    for (const change of changes) {
      const b = base();
      change(b);
      expect(samePodInputs(base(), b, ours)).toBe(false);
    }
  });
});
