/**
 * `ovn-k8s-util k8s-sim`: serves the Kubernetes API simulator until SIGTERM/SIGINT.
 * Prints the URL on one line once it is ready.
 */
import type { Command } from 'commander';

export class ListenAddressError extends Error {
  constructor(value: string) {
    super(`--listen expects HOST:PORT (e.g. 127.0.0.1:6443), got "${value}"`);
    this.name = 'ListenAddressError';
  }
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  if (!m) throw new ListenAddressError(value);
  const port = Number(m[3]);
  if (port > 65535) throw new ListenAddressError(value);
  return { host: m[1] ?? m[2]!, port };
}

interface K8sSimFlags {
  listen: string;
  state?: string;
  seed: string[];
  kubeconfigOut?: string;
  endpointController?: boolean;
  kubelet?: boolean;
}

export function register(program: Command): void {
  program
    .command('k8s-sim')
    .description('serve a Kubernetes API simulator (kubectl and client-node accept it)')
    .option('--listen <host:port>', 'address to serve on', '127.0.0.1:6443')
    .option(
      '--state <file>',
      'persist all objects to this JSON file (changes go to <file>.journal until stop) and load both at start',
    )
    .option('--seed <file...>', 'multi-document YAML applied at start', [])
    .option('--kubeconfig-out <file>', 'write a kubeconfig for the simulator here')
    .option('--endpoint-controller', 'run the EndpointSlice controller stand-in')
    .option('--kubelet', 'run the kubelet stand-in (pods Running once annotated)')
    .action(async (flags: K8sSimFlags) => {
      const { host, port } = parseListen(flags.listen);
      // loaded on use (the simulator pulls in client-node): other subcommands do not pay for it
      const { startK8sSim } = await import('../../k8s/sim/index.js');
      const sim = await startK8sSim({
        host,
        port,
        ...(flags.state ? { statePath: flags.state } : {}),
        seedFiles: flags.seed,
        controllers: { endpointSlices: flags.endpointController === true, kubelet: flags.kubelet === true },
      });
      if (flags.kubeconfigOut) await sim.writeKubeconfig(flags.kubeconfigOut);
      process.stdout.write(`${sim.url}\n`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        sim.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`k8s-sim: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
}
