/** Default file locations, as OVS daemons use them: <rundir>/<name>.pid, <rundir>/<name>.ctl, <logdir>/<name>.log. */
import { join, resolve } from 'node:path';

export const DEFAULT_RUNDIR = '/var/run/openvswitch';
export const DEFAULT_LOGDIR = '/var/log/openvswitch';

export interface DaemonDirs {
  rundir?: string | undefined;
  logdir?: string | undefined;
}

/** `--pidfile` without a value means the default path; a relative value is made absolute (detach keeps cwd, but be safe). */
export function pidfilePath(
  name: string,
  flag: string | boolean | undefined,
  dirs: DaemonDirs = {},
): string | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (flag === true || flag === '') return join(dirs.rundir || DEFAULT_RUNDIR, `${name}.pid`);
  return resolve(flag);
}

export function logFilePath(
  name: string,
  flag: string | boolean | undefined,
  dirs: DaemonDirs = {},
): string | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (flag === true || flag === '') return join(dirs.logdir || DEFAULT_LOGDIR, `${name}.log`);
  return resolve(flag);
}

export function controlSocketPath(name: string, flag: string | undefined, dirs: DaemonDirs = {}): string {
  return flag ? resolve(flag) : join(dirs.rundir || DEFAULT_RUNDIR, `${name}.ctl`);
}
