/**
 * The demo's sample cluster, created through the Kubernetes API (the simulator, in-process or
 * detached): three nodes, one of them a gateway (l3-gateway-config + chassis id, as gateway-init
 * on the node would publish them), pods in two namespaces, a ClusterIP and a NodePort service.
 */
import { CoreV1Api, type KubeConfig, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { L3_GATEWAY_CONFIG_ANNOTATION, NODE_CHASSIS_ID_ANNOTATION } from '../ovn/names.js';

export interface SampleGateway {
  node: string;
  chassisId: string;
  /** the node's physical address `ip/len` */
  ip: string;
  mac: string;
  nextHop: string;
  interfaceId: string;
}

export const SAMPLE_CLUSTER_SUBNET = '10.128.0.0/14/23';
export const SAMPLE_NODES = ['master', 'worker1', 'worker2'] as const;
export const SAMPLE_GATEWAY: SampleGateway = {
  node: 'master',
  chassisId: 'chassis-master',
  ip: '172.18.0.10/24',
  mac: '02:42:ac:12:00:0a',
  nextHop: '172.18.0.1',
  interfaceId: 'breth0_master',
};

export const gatewayAnnotations = (gw: SampleGateway): Record<string, string> => ({
  [L3_GATEWAY_CONFIG_ANNOTATION]: JSON.stringify({
    default: {
      mode: 'shared',
      'interface-id': gw.interfaceId,
      'mac-address': gw.mac,
      'ip-addresses': [gw.ip],
      'ip-address': gw.ip,
      'next-hops': [gw.nextHop],
      'next-hop': gw.nextHop,
      'node-port-enable': 'true',
      'vlan-id': '0',
    },
  }),
  [NODE_CHASSIS_ID_ANNOTATION]: gw.chassisId,
});

export function sampleNode(
  name: string,
  internalIp: string,
  annotations: Record<string, string> = {},
): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name }, annotations },
    status: {
      addresses: [{ type: 'InternalIP', address: internalIp }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

/** A pod serving `http` on 8080 (named port) and `dns` on 5353/UDP. */
export function samplePod(namespace: string, name: string, node: string, app: string): V1Pod {
  return {
    metadata: { name, namespace, labels: { app } },
    spec: {
      nodeName: node,
      containers: [
        {
          name: 'main',
          image: 'registry.k8s.io/pause:3.9',
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'dns', containerPort: 5353, protocol: 'UDP' },
          ],
        },
      ],
    },
  };
}

export function sampleService(
  namespace: string,
  name: string,
  app: string,
  type: 'ClusterIP' | 'NodePort',
  ports: { name: string; port: number; targetPort: string | number; protocol?: string; nodePort?: number }[],
): V1Service {
  return {
    metadata: { name, namespace },
    spec: {
      type,
      selector: { app },
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort as never,
        protocol: p.protocol ?? 'TCP',
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
      })),
    },
  };
}

export interface SampleCluster {
  nodes: string[];
  pods: { namespace: string; name: string; node: string }[];
  services: { namespace: string; name: string; type: 'ClusterIP' | 'NodePort' }[];
  gateway: SampleGateway;
}

/** Creates the sample cluster; returns what it created. */
export async function createSampleCluster(kc: KubeConfig): Promise<SampleCluster> {
  const api = kc.makeApiClient(CoreV1Api);
  for (const ns of ['web', 'db']) {
    await api.createNamespace({ body: { metadata: { name: ns } } }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }
  const nodes = [...SAMPLE_NODES];
  for (const [i, name] of nodes.entries()) {
    const ann = name === SAMPLE_GATEWAY.node ? gatewayAnnotations(SAMPLE_GATEWAY) : {};
    await api.createNode({ body: sampleNode(name, `172.18.0.${10 + i}`, ann) });
  }
  const pods = [
    { namespace: 'web', name: 'web-1', node: 'worker1', app: 'web' },
    { namespace: 'web', name: 'web-2', node: 'worker2', app: 'web' },
    { namespace: 'web', name: 'client', node: 'worker1', app: 'client' },
    { namespace: 'db', name: 'db-1', node: 'worker1', app: 'db' },
    { namespace: 'db', name: 'db-2', node: 'worker2', app: 'db' },
  ];
  for (const p of pods)
    await api.createNamespacedPod({
      namespace: p.namespace,
      body: samplePod(p.namespace, p.name, p.node, p.app),
    });
  const services = [
    sampleService('db', 'db', 'db', 'ClusterIP', [
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' },
    ]),
    sampleService('web', 'web', 'web', 'NodePort', [{ name: 'http', port: 80, targetPort: 'http' }]),
  ];
  for (const s of services) await api.createNamespacedService({ namespace: s.metadata!.namespace!, body: s });
  return {
    nodes,
    pods: pods.map(({ namespace, name, node }) => ({ namespace, name, node })),
    services: [
      { namespace: 'db', name: 'db', type: 'ClusterIP' },
      { namespace: 'web', name: 'web', type: 'NodePort' },
    ],
    gateway: SAMPLE_GATEWAY,
  };
}
