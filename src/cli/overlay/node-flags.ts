/**
 * Flags shared by the node-side subcommands of `ovn-k8s-overlay` (minion-init, gateway-init) and
 * the one-line error reporting they use.
 */
import type { Command } from 'commander';
import { NodeConfigError } from '../../node/errors.js';
import { DEFAULT_OVS_ADDRESS } from '../../node/ovs-config.js';
import type { K8sSettings } from '../../node/k8s-access.js';

export interface CommonNodeFlags {
  clusterIpSubnet: string;
  nodeName: string;
  ovsAddress: string;
  k8sApiServer?: string;
  k8sToken?: string;
  k8sCacert?: string;
  k8sKubeconfig?: string;
  verbose?: boolean;
}

export function addCommonNodeFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--cluster-ip-subnet <cidrs>', 'cluster subnets, comma separated (CIDR[/host-prefix])')
    .requiredOption('--node-name <name>', "this node's Kubernetes Node name")
    .option('--ovs-address <remote>', 'the Open_vSwitch database', DEFAULT_OVS_ADDRESS)
    .option('--k8s-api-server <url>', 'Kubernetes API server URL')
    .option('--k8s-token <token>', 'bearer token for the API server')
    .option('--k8s-cacert <file>', 'CA certificate (PEM file) of the API server')
    .option('--k8s-kubeconfig <file>', 'kubeconfig file (instead of server/token/CA)')
    .option('-v, --verbose', 'say what changed');
}

export function k8sSettings(f: CommonNodeFlags): K8sSettings {
  const s: K8sSettings = {};
  if (f.k8sApiServer) s.server = f.k8sApiServer;
  if (f.k8sToken) s.token = f.k8sToken;
  if (f.k8sCacert) s.caCert = f.k8sCacert;
  if (f.k8sKubeconfig) s.kubeconfig = f.k8sKubeconfig;
  return s;
}

export const splitList = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Runs a subcommand body; any failure becomes one line on stderr and a non-zero exit. */
export async function runNodeCommand(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ovn-k8s-overlay ${name}: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(err instanceof NodeConfigError ? 2 : 1);
  }
}
