/**
 * `ovn-k8s-util demo [--dir DIR] [--keep]`: a sandbox with a sample cluster, master-init and the
 * watcher, the resulting topology, and ovn-trace checks printed as PASSED/FAILED
 * (src/sandbox/demo.ts). Exits 1 when a check failed.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the sample cluster in a sandbox and prove its network with ovn-trace')
    .option('--dir <dir>', 'sandbox directory (default: a new temporary one)')
    .option('--keep', 'leave the sandbox running')
    .action(async (flags: { dir?: string; keep?: boolean }) => {
      // loaded on use: the demo pulls in the whole watcher, other subcommands should not pay for it
      const { runDemo } = await import('../../sandbox/demo.js');
      const code = await runDemo({ ...(flags.dir ? { dir: flags.dir } : {}), keep: flags.keep === true });
      process.exit(code);
    });
}
