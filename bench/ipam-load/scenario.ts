/**
 * The objects of the IPAM load bench: the CRDs the central IPAM reads, two secondary networks with
 * two IPAM models (a macvlan NAD served by a Kube-OVN Subnet through its provider, an ipvlan NAD
 * served by a SpiderIPPool), the nodes, and the pods of the burst.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/k8s/sim/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

export const NAMESPACE = 'bench';
export const MACVLAN_NAD = 'macvlan-ko';
export const IPVLAN_NAD = 'ipvlan-sp';
export const MACVLAN_PROVIDER = `${MACVLAN_NAD}.${NAMESPACE}`;
/** Interface names the pods ask for; the IPAM result is keyed by them. */
export const ATTACHMENT_INTERFACES = ['net1', 'net2'] as const;
/** The optional secondary OVN network (layer3), served by the watcher, not the central IPAM. */
export const OVN_NAD = 'ovn-l3';
export const OVN_INTERFACE = 'net3';
/** Its key in `k8s.ovn.org/pod-networks`. */
export const OVN_NETWORK_KEY = `${NAMESPACE}/${OVN_NAD}`;

/** What the pods of a run ask for besides the primary network. */
export interface PodShape {
  /** net1 (Kube-OVN Subnet model) and net2 (SpiderIPPool model), from the central IPAM */
  attachments: boolean;
  /** net3 on a secondary OVN layer3 network, from the watcher */
  ovnSecondary: boolean;
}

/** Both pools hold 4,000+ addresses: a scale of up to 4 never exhausts them. */
const MACVLAN_CIDR = '172.20.0.0/16';
const SPIDER_RANGE = '172.21.0.10-172.21.63.250';

/** The CRDs deploy/ ships, as a user installs them (the simulator serves NADs itself). */
export function shippedCrds(): KubeObject[] {
  const files = [join(ROOT, 'deploy', '01-crds.yaml'), join(ROOT, 'deploy', 'crds', 'ipreservations.yaml')];
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJSON() as KubeObject | null)
      .filter((o): o is KubeObject => o?.kind === 'CustomResourceDefinition'),
  );
}

/** Namespace, NADs, pools and nodes: everything that exists before the burst. */
export function clusterObjects(nodes: number, shape: PodShape): KubeObject[] {
  const objs: KubeObject[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }];
  for (let i = 0; i < nodes; i++) {
    objs.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i) } });
  }
  if (shape.ovnSecondary) {
    objs.push({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: OVN_NAD, namespace: NAMESPACE },
      spec: {
        config: JSON.stringify({
          cniVersion: '0.3.1',
          name: 'bench-l3',
          type: 'ovn-k8s-cni-overlay',
          topology: 'layer3',
          subnets: '10.200.0.0/16/23',
          netAttachDefName: OVN_NETWORK_KEY,
        }),
      },
    });
  }
  if (!shape.attachments) return objs;
  objs.push(
    {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: MACVLAN_NAD, namespace: NAMESPACE },
      spec: {
        config: JSON.stringify({
          cniVersion: '0.3.1',
          type: 'macvlan',
          master: 'eth0',
          mode: 'bridge',
          ipam: { type: 'ovn-k8s-ipam', provider: MACVLAN_PROVIDER },
        }),
      },
    },
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 'bench-macvlan' },
      spec: {
        protocol: 'IPv4',
        provider: MACVLAN_PROVIDER,
        cidrBlock: MACVLAN_CIDR,
        gateway: '172.20.0.1',
        excludeIps: ['172.20.0.0..172.20.0.10'],
      },
    },
    {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: IPVLAN_NAD, namespace: NAMESPACE },
      spec: {
        config: JSON.stringify({
          cniVersion: '0.3.1',
          type: 'ipvlan',
          master: 'eth0',
          ipam: { type: 'ovn-k8s-ipam', model: 'spiderpool', default_ipv4_ippool: ['bench-pool'] },
        }),
      },
    },
    {
      apiVersion: 'spiderpool.spidernet.io/v2beta1',
      kind: 'SpiderIPPool',
      metadata: { name: 'bench-pool' },
      spec: { ips: [SPIDER_RANGE], subnet: '172.21.0.0/16', gateway: '172.21.0.1' },
    },
  );
  return objs;
}

export const nodeName = (i: number): string => `node-${i}`;
export const podName = (i: number): string => `p-${i}`;

/** Pod `i` of the burst, on node `i mod nodes`, asking for the networks of `shape`. */
export function podObject(i: number, nodes: number, shape: PodShape): KubeObject {
  const [if1, if2] = ATTACHMENT_INTERFACES;
  const networks = [
    ...(shape.attachments ? [`${NAMESPACE}/${MACVLAN_NAD}@${if1}`, `${NAMESPACE}/${IPVLAN_NAD}@${if2}`] : []),
    ...(shape.ovnSecondary ? [`${OVN_NETWORK_KEY}@${OVN_INTERFACE}`] : []),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(i),
      namespace: NAMESPACE,
      labels: { app: 'ipam-load' },
      ...(networks.length > 0 ? { annotations: { 'k8s.v1.cni.cncf.io/networks': networks.join(',') } } : {}),
    },
    spec: { nodeName: nodeName(i % nodes), containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
  };
}
