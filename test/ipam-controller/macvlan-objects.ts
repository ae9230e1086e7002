/**
 * The objects and reads the StatefulSet tests share (lifecycle, watch-lag): pods attached to the
 * `default/macvlan` NAD (Kube-OVN provider `macvlan.default`) and their allocated addresses.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeObject } from '../../src/k8s/sim/index.js';
import { annotation, eventually, type Env } from './env.js';

const PROVIDER = 'macvlan.default';
const NETWORKS = { 'k8s.v1.cni.cncf.io/networks': 'default/macvlan' };

/** The pod's macvlan address once the controller has allocated it. */
export const macvlanIpOf = (pod: V1Pod | undefined): string | undefined =>
  annotation(pod, `${PROVIDER}.kubernetes.io/allocated`) === 'true'
    ? annotation(pod, `${PROVIDER}.kubernetes.io/ip_address`)
    : undefined;

/** Waits for `default/name` (with `uid`, when given) to have its macvlan address. */
export const waitMacvlanIp = (env: Env, name: string, uid?: string): Promise<string> =>
  eventually(
    () => {
      const pod = env.pod('default', name);
      if (uid && pod?.metadata?.uid !== uid) return undefined;
      return macvlanIpOf(pod);
    },
    15_000,
    `address of ${name}`,
  );

/** Every live pod's macvlan address. */
export const liveMacvlanIps = (env: Env): string[] => {
  const t = env.sim.api.registry.get('', 'pods')!;
  return env.sim.api
    .list(t, undefined)
    .entries.map((e) => macvlanIpOf(e.obj as V1Pod))
    .filter((x): x is string => x !== undefined);
};

/** A StatefulSet in `default` whose pods attach to the macvlan NAD (`extra` pod annotations). */
export const statefulSet = (name: string, replicas: number, extra: Record<string, string> = {}): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { ...NETWORKS, ...extra } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  }) as KubeObject;

/** A pod in `default` attached to the macvlan NAD, owned by nothing. */
export const plainPod = (name: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations: { ...NETWORKS } },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  }) as KubeObject;
