/**
 * `ovn-k8s-util ctl [--target F] status|resync|exit|loglevel LEVEL|help`: talks to a running
 * daemon's control socket, like ovs-appctl. The target defaults to the watcher's socket
 * <rundir>/ovn-k8s-watcher.ctl; a bare name is looked up in the run directory.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
// paths.ts is plain path arithmetic; the config loader and the socket client load in the action
import { controlSocketPath, DEFAULT_RUNDIR } from '../../daemon/paths.js';

interface CtlFlags {
  target?: string;
  timeout: string;
}

/** `--target` may be a path or a daemon name (e.g. ovn-k8s-watcher) under the run directory. */
export function resolveTarget(
  target: string | undefined,
  rundir = process.env.OVN_K8S_RUNDIR || DEFAULT_RUNDIR,
): string {
  if (!target) return controlSocketPath('ovn-k8s-watcher', undefined, { rundir });
  if (target.includes('/')) return target;
  return join(rundir, target.endsWith('.ctl') ? target : `${target}.ctl`);
}

export function register(program: Command): void {
  program
    .command('ctl')
    .description('send a command to a running daemon: status, resync, exit, loglevel LEVEL, help')
    .option('--target <socket|name>', 'control socket path or daemon name (default ovn-k8s-watcher)')
    .option('--timeout <seconds>', 'give up after this long', '30')
    .argument('<command>', 'status | resync | exit | loglevel | help')
    .argument('[args...]', 'command arguments (loglevel LEVEL)')
    .action(async (command: string, args: string[], flags: CtlFlags) => {
      const [{ loadConfig }, { sendControl }] = await Promise.all([
        import('../../config/load.js'),
        import('../../daemon/control.js'),
      ]);
      // the run directory as the daemon sees it: OVN_K8S_RUNDIR or rundir in ovn_k8s.conf
      const rundir = flags.target?.includes('/')
        ? DEFAULT_RUNDIR
        : loadConfig({}).string('rundir') || DEFAULT_RUNDIR;
      const result = await sendControl(
        resolveTarget(flags.target, rundir),
        command,
        args,
        Number(flags.timeout) * 1000 || 30_000,
      );
      process.stdout.write(
        typeof result === 'string' ? `${result}\n` : `${JSON.stringify(result, null, 2)}\n`,
      );
    });
}
