/** A small cluster used by the reconcile and ovn-trace tests. */
import type { ClusterState, NodeInfo, PodInfo } from '../../src/ovn/intent/index.js';

export const config = { clusterSubnets: ['10.128.0.0/14'] };

export const node1: NodeInfo = {
  name: 'node1',
  subnets: ['10.128.0.0/23'],
  gateway: {
    chassisId: 'chassis-node1',
    joinIps: ['100.64.0.2/16'],
    ips: ['172.18.0.11/24'],
    mac: '02:42:ac:12:00:0b',
    nextHops: ['172.18.0.1'],
  },
};
export const node2: NodeInfo = { name: 'node2', subnets: ['10.128.2.0/23'] };

export const pod = (ns: string, name: string, node: string, ip: string, uid?: string): PodInfo => ({
  namespace: ns,
  name,
  node,
  ips: [ip],
  ...(uid ? { uid } : {}),
});

export const pods: PodInfo[] = [
  pod('default', 'a1', 'node1', '10.128.0.5/23', 'uid-a1'),
  pod('default', 'a2', 'node1', '10.128.0.6/23', 'uid-a2'),
  pod('web', 'b1', 'node2', '10.128.2.5/23', 'uid-b1'),
  pod('web', 'b2', 'node2', '10.128.2.6/23', 'uid-b2'),
];

export function smallCluster(): ClusterState {
  return {
    config,
    nodes: [node1, node2],
    pods,
    services: [
      {
        service: {
          namespace: 'web',
          name: 'echo',
          type: 'NodePort',
          clusterIPs: ['10.96.0.10'],
          externalIPs: ['192.0.2.10'],
          ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }],
        },
        slices: [
          {
            ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
            endpoints: [{ addresses: ['10.128.2.5'] }, { addresses: ['10.128.0.6'], ready: true }],
          },
        ],
      },
    ],
  };
}
