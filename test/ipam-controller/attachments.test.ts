/** Which pod interfaces the central IPAM serves (pure: NADs given as a lookup). */
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { NetworkAttachmentDefinition } from '../../src/k8s/resources.js';
import { parseOvnNetworkConfig } from '../../src/multinet/index.js';
import { ownerFor, podAttachments, statefulSetOf } from '../../src/watcher/ipam/attachments.js';

const nads: Record<string, string> = {
  // Seed 003's attachments: a whereabouts macvlan (not our IPAM) and a second OVN layer3 network.
  'default/whereabouts-conf': JSON.stringify({
    cniVersion: '0.3.1',
    type: 'macvlan',
    master: 'eth1',
    mode: 'bridge',
    ipam: { type: 'whereabouts', range: '192.168.1.200/24' },
  }),
  'default/ovn-again-conf': JSON.stringify({
    cniVersion: '0.3.1',
    name: 'ovn-again',
    type: 'ovn-k8s-cni-overlay',
    topology: 'layer3',
    subnets: '10.245.0.0/16/24',
    mtu: 1300,
    netAttachDefName: 'default/ovn-again-conf',
  }),
  'default/macvlan': JSON.stringify({
    cniVersion: '0.3.0',
    type: 'macvlan',
    master: 'eth0',
    ipam: { type: 'kube-ovn', provider: 'macvlan.default' },
  }),
  'default/mine': JSON.stringify({
    cniVersion: '1.0.0',
    type: 'ipvlan',
    master: 'eth0',
    ipam: { type: 'ovn-k8s-ipam' },
  }),
  'default/empty': '',
};

const ctx = (subnetProviders: string[] = []) => ({
  nad: (ns: string, name: string): NetworkAttachmentDefinition | undefined =>
    `${ns}/${name}` in nads
      ? { metadata: { name, namespace: ns }, spec: { config: nads[`${ns}/${name}`] } }
      : undefined,
  hasSubnetForProvider: (p: string) => subnetProviders.includes(p),
});

const pod = (annotations: Record<string, string>, extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({
  metadata: { name: 'samplepod1', namespace: 'default', uid: 'u1', annotations, ...extra },
});

describe('podAttachments', () => {
  it('leaves seed 003 interfaces to their owners (whereabouts, the OVN network controller)', () => {
    const r = podAttachments(
      pod({ 'k8s.v1.cni.cncf.io/networks': 'whereabouts-conf@eth1,ovn-again-conf@eth2' }),
      ctx(),
    );
    expect(r.attachments).toEqual([]);
    expect(r.problems).toEqual([]);
    const l3 = parseOvnNetworkConfig(nads['default/ovn-again-conf'], 'default', 'ovn-again-conf');
    expect(l3.subnets[0]!.hostPrefixLength).toBe(24);
  });

  it('serves Kube-OVN providers, and decides our own ipam type by the Subnets present', () => {
    const p = pod({ 'k8s.v1.cni.cncf.io/networks': 'macvlan,mine@net5' });
    const spider = podAttachments(p, ctx()).attachments;
    expect(spider.map((a) => [a.selection.interface, a.servedBy.model, a.keyPart])).toEqual([
      ['net1', 'kube-ovn', 'macvlan.default'],
      ['net5', 'spiderpool', 'net5'],
    ]);
    const kubeOvn = podAttachments(p, ctx(['mine.default'])).attachments;
    expect(kubeOvn[1]!.servedBy).toEqual({ model: 'kube-ovn', provider: 'mine.default', ovn: false });
  });

  it('reports a missing NAD as transient and an empty config as permanent', () => {
    const r = podAttachments(pod({ 'k8s.v1.cni.cncf.io/networks': 'nosuch,empty' }), ctx());
    expect(r.problems.map((x) => [x.network, x.transient])).toEqual([
      ['default/nosuch', true],
      ['default/empty', false],
    ]);
    expect(r.problems[1]!.message).toMatch(/spec.config is empty/);
  });
});

describe('allocation owners', () => {
  it('keys StatefulSet pods by ordinal and others by uid', () => {
    const sts = pod(
      {},
      {
        name: 'web-3',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 's1', controller: true },
        ],
      },
    );
    expect(statefulSetOf(sts)).toEqual({ name: 'web', uid: 's1', ordinal: 3 });
    expect(ownerFor(sts, 'net1')).toEqual({
      namespace: 'default',
      name: 'web',
      ordinal: 3,
      interface: 'net1',
    });
    expect(ownerFor(pod({}), 'macvlan.default')).toBe('u1/macvlan.default');
    const odd = pod(
      {},
      {
        name: 'other-1',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 's1' }],
      },
    );
    expect(statefulSetOf(odd)).toBeUndefined();
  });
});
