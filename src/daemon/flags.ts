/** commander glue for the OVS-style process flags every long-running ovn-k8s program takes. */
import type { Command } from 'commander';
import { controlSocketPath, logFilePath, pidfilePath, type DaemonDirs } from './paths.js';

export interface DaemonFlags {
  detach?: boolean;
  /** true for a bare --pidfile (default path) */
  pidfile?: string | boolean;
  logFile?: string | boolean;
  ctlSocket?: string;
}

export function addDaemonFlags(cmd: Command): Command {
  return cmd
    .option('--detach', 'run in the background once start-up succeeded (errors before that are printed)')
    .option(
      '--pidfile [file]',
      'write the pid here (default <rundir>/<name>.pid); refuse to start if that pid runs',
    )
    .option(
      '--log-file [file]',
      'log here instead of stdout (default <logdir>/<name>.log); reopened on SIGHUP',
    )
    .option('--ctl-socket <file>', 'control socket for `ovn-k8s-util ctl` (default <rundir>/<name>.ctl)');
}

/** Resolved paths for startDaemon(). */
export function daemonPaths(name: string, flags: DaemonFlags, dirs: DaemonDirs = {}) {
  return {
    detach: flags.detach === true,
    pidfile: pidfilePath(name, flags.pidfile, dirs),
    logFile: logFilePath(name, flags.logFile, dirs),
    controlSocket: controlSocketPath(name, flags.ctlSocket, dirs),
  };
}
