/**
 * The custom resources the central IPAM reads and writes, with the fields it uses. Kube-OVN's
 * Subnet and Spiderpool's SpiderIPPool / SpiderMultusConfig keep their upstream group, version and
 * shape so those projects' YAML applies unchanged; IPReservation (ovn-k8s.io/v1) is ours: the
 * record of a StatefulSet ordinal's retained addresses (deploy/crds/ipreservations.yaml).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { customResource, type ResourceType } from '../../k8s/resources.js';
import type { KubeOvnSubnetSpec, SpiderIpPoolSpec } from '../../ipam/index.js';
import type { SpiderMultusConfigSpec } from '../../multinet/index.js';

export interface KubeOvnSubnet extends KubernetesObject {
  spec?: KubeOvnSubnetSpec & { provider?: string; namespaces?: string[] };
  status?: Record<string, unknown>;
}

export interface SpiderIpPool extends KubernetesObject {
  spec?: SpiderIpPoolSpec & {
    multusName?: string[];
    namespaceName?: string[];
    nodeName?: string[];
    default?: boolean;
    disable?: boolean;
  };
  status?: Record<string, unknown>;
}

export interface SpiderMultusConfig extends KubernetesObject {
  spec?: SpiderMultusConfigSpec;
}

export interface IpReservationSpec {
  /** `Subnet/<name>` or `SpiderIPPool/<name>`. */
  pool: string;
  statefulSet: string;
  /** uid of the StatefulSet the ordinal belongs to: a re-created StatefulSet starts afresh. */
  statefulSetUid?: string;
  ordinal: number;
  /** The allocation key's interface part (Kube-OVN provider or interface name). */
  interface: string;
  ips: string[];
  mac?: string;
}

export interface IpReservation extends KubernetesObject {
  spec?: IpReservationSpec;
}

export interface StatefulSetLike extends KubernetesObject {
  spec?: { replicas?: number; ordinals?: { start?: number } };
}

export const SUBNETS: ResourceType<KubeOvnSubnet> = customResource<KubeOvnSubnet>({
  group: 'kubeovn.io',
  version: 'v1',
  plural: 'subnets',
  kind: 'Subnet',
  namespaced: false,
});

export const SPIDER_IPPOOLS: ResourceType<SpiderIpPool> = customResource<SpiderIpPool>({
  group: 'spiderpool.spidernet.io',
  version: 'v2beta1',
  plural: 'spiderippools',
  kind: 'SpiderIPPool',
  namespaced: false,
});

export const SPIDER_MULTUS_CONFIGS: ResourceType<SpiderMultusConfig> = customResource<SpiderMultusConfig>({
  group: 'spiderpool.spidernet.io',
  version: 'v2beta1',
  plural: 'spidermultusconfigs',
  kind: 'SpiderMultusConfig',
  namespaced: true,
});

export const IP_RESERVATIONS: ResourceType<IpReservation> = customResource<IpReservation>({
  group: 'ovn-k8s.io',
  version: 'v1',
  plural: 'ipreservations',
  kind: 'IPReservation',
  namespaced: true,
});

export const STATEFULSETS: ResourceType<StatefulSetLike> = customResource<StatefulSetLike>({
  group: 'apps',
  version: 'v1',
  plural: 'statefulsets',
  kind: 'StatefulSet',
  namespaced: true,
});
