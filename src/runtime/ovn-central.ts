/**
 * The OVN central control plane from Debian's packages: NB and SB ovsdb-servers plus ovn-northd,
 * all state in one directory, reachable on unix sockets and 127.0.0.1 ports.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NB_SCHEMA, SB_SCHEMA, startOvsdbServer, type OvsdbServer } from './ovsdb-server.js';
import { daemonEnv, readPidfile, run, stopPid } from './process.js';

export interface OvnCentral {
  dir: string;
  nb: OvsdbServer;
  sb: OvsdbServer;
  northdPid: number;
  /** runs ovn-nbctl against this NB (unix socket) and returns stdout */
  nbctl(...args: string[]): Promise<string>;
  /** runs ovn-sbctl against this SB */
  sbctl(...args: string[]): Promise<string>;
  /** runs ovn-trace against this SB and returns its output */
  trace(...args: string[]): Promise<string>;
  /** `ovn-nbctl --wait=sb sync`: returns once northd has compiled everything in NB so far */
  syncSb(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOvnCentral(opts: { dir: string; northd?: boolean }): Promise<OvnCentral> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const env = daemonEnv(dir);
  const nb = await startOvsdbServer({ dir, name: 'nb', schema: NB_SCHEMA });
  const sb = await startOvsdbServer({ dir, name: 'sb', schema: SB_SCHEMA });
  const nbctl = (...args: string[]) =>
    run('ovn-nbctl', [`--db=${nb.unix}`, '--timeout=30', ...args], { env });
  const sbctl = (...args: string[]) =>
    run('ovn-sbctl', [`--db=${sb.unix}`, '--timeout=30', ...args], { env });
  await nbctl('init');
  let northdPid = 0;
  if (opts.northd !== false) {
    const pidfile = join(dir, 'northd.pid');
    await run(
      'ovn-northd',
      [
        `--ovnnb-db=${nb.unix}`,
        `--ovnsb-db=${sb.unix}`,
        `--unixctl=${join(dir, 'northd.ctl')}`,
        `--pidfile=${pidfile}`,
        `--log-file=${join(dir, 'northd.log')}`,
        '-vconsole:off',
        '-vfile:info',
        '--detach',
        '--no-chdir',
      ],
      { env },
    );
    northdPid = await readPidfile(pidfile);
    await nbctl('--wait=sb', 'sync');
  }
  return {
    dir,
    nb,
    sb,
    northdPid,
    nbctl,
    sbctl,
    trace: (...args: string[]) => run('ovn-trace', [`--db=${sb.unix}`, ...args], { env }),
    syncSb: async () => {
      await nbctl('--wait=sb', 'sync');
    },
    async stop() {
      if (northdPid) await stopPid(northdPid);
      await Promise.all([nb.stop(), sb.stop()]);
    },
  };
}
