/**
 * A kubeconfig for the simulator: plain http, a user without credentials, a default namespace.
 * `insecure-skip-tls-verify` is set because @kubernetes/client-node refuses http:// servers
 * without it; kubectl ignores it for http.
 */
import { stringify } from 'yaml';

export function kubeconfigFor(url: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sim', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'sim', user: {} }],
    contexts: [{ name: 'sim', context: { cluster: 'sim', user: 'sim', namespace } }],
    'current-context': 'sim',
    preferences: {},
  });
}
