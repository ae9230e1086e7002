/**
 * Kubernetes access for node-side commands: the connection comes from explicit settings, the
 * environment, or the Open_vSwitch external_ids that minion-init stores (k8s-api-server,
 * k8s-api-token, k8s-ca-certificate), in that order (see src/k8s/connection.ts).
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { resolveConnection, type ConnectionFlags } from '../k8s/connection.js';
import { NODES, PODS, resourceClient, type ResourceClient } from '../k8s/resources.js';

export interface K8sSettings {
  kubeconfig?: string;
  server?: string;
  token?: string;
  /** path of a PEM CA file */
  caCert?: string;
}

export interface NodeK8s {
  nodes: ResourceClient<V1Node>;
  pods: ResourceClient<V1Pod>;
  server: string;
}

export function connectK8s(settings: K8sSettings, ovsExternalIds: Record<string, string> = {}): NodeK8s {
  const flags: ConnectionFlags = {};
  if (settings.kubeconfig) flags.kubeconfig = settings.kubeconfig;
  if (settings.server) flags.server = settings.server;
  if (settings.token) flags.token = settings.token;
  if (settings.caCert) flags.caCert = settings.caCert;
  const conn = resolveConnection({ flags, ovsExternalIds });
  return {
    nodes: resourceClient(conn.kubeConfig, NODES),
    pods: resourceClient(conn.kubeConfig, PODS),
    server: conn.description.server.value,
  };
}

/** True when `settings` or the external_ids name an API server at all. */
export function hasK8sSettings(settings: K8sSettings, ovsExternalIds: Record<string, string> = {}): boolean {
  return Boolean(
    settings.kubeconfig ||
    settings.server ||
    ovsExternalIds['k8s-api-server'] ||
    process.env.KUBECONFIG ||
    process.env.OVN_K8S_API_SERVER ||
    process.env.K8S_APISERVER,
  );
}
