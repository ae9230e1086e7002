/**
 * `ovn-k8s-util sandbox start|stop --dir DIR`: NB, SB, ovn-northd and the Kubernetes simulator on
 * loopback as background processes tracked by pidfiles in DIR (src/sandbox/sandbox.ts).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const sandbox = program.command('sandbox').description('a local OVN + Kubernetes simulator sandbox');
  sandbox
    .command('start')
    .description(
      'start NB, SB, ovn-northd and the Kubernetes simulator; prints JSON with nb, sb and kubeconfig',
    )
    .requiredOption('--dir <dir>', 'directory for every file and pidfile of the sandbox')
    .action(async (flags: { dir: string }) => {
      const { startSandbox } = await import('../../sandbox/sandbox.js');
      const info = await startSandbox(flags.dir);
      process.stdout.write(`${JSON.stringify(info)}\n`);
    });
  sandbox
    .command('stop')
    .description('stop the sandbox in DIR by the pids it recorded')
    .requiredOption('--dir <dir>', 'the directory given to start')
    .action(async (flags: { dir: string }) => {
      const { stopSandbox } = await import('../../sandbox/sandbox.js');
      const stopped = await stopSandbox(flags.dir);
      process.stdout.write(`${JSON.stringify({ stopped })}\n`);
    });
}
