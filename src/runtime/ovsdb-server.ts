/**
 * ovsdb-server instances for tests, benchmarks and the sandbox: standalone databases and
 * RAFT clusters, each listening on a unix socket in its directory and on a 127.0.0.1 port.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { daemonEnv, freePort, isAlive, readPidfile, run, stopPid, waitFor } from './process.js';

export const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';
export const SB_SCHEMA = '/usr/share/ovn/ovn-sb.ovsschema';
export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsdbServer {
  /** short name used for every file: NAME.db, NAME.sock, NAME.ctl, NAME.pid, NAME.log */
  name: string;
  dir: string;
  pid: number;
  /** `unix:DIR/NAME.sock` */
  unix: string;
  /** `tcp:127.0.0.1:PORT` (or ssl: when started with TLS) */
  tcp: string;
  port: number;
  ctl: string;
  dbPath: string;
  stop(): Promise<void>;
}

export interface TlsFiles {
  privateKey: string;
  certificate: string;
  caCert: string;
}

export interface StartOptions {
  dir: string;
  name: string;
  schema?: string;
  /** 0 or undefined picks a free port */
  port?: number;
  /** serve `pssl:` instead of `ptcp:` on the port */
  tls?: TlsFiles;
  /** start from an existing database file instead of creating one */
  existingDb?: boolean;
  extraArgs?: string[];
}

async function launch(opts: StartOptions & { dbPath: string }): Promise<OvsdbServer> {
  const dir = resolve(opts.dir);
  const port = opts.port || (await freePort());
  const sock = join(dir, `${opts.name}.sock`);
  const ctl = join(dir, `${opts.name}.ctl`);
  const pidfile = join(dir, `${opts.name}.pid`);
  const args = [
    opts.dbPath,
    `--remote=punix:${sock}`,
    opts.tls ? `--remote=pssl:${port}:127.0.0.1` : `--remote=ptcp:${port}:127.0.0.1`,
    `--unixctl=${ctl}`,
    `--pidfile=${pidfile}`,
    `--log-file=${join(dir, `${opts.name}.log`)}`,
    '-vconsole:off',
    '-vfile:info',
    '--detach',
    '--no-chdir',
  ];
  if (opts.tls) {
    args.push(
      `--private-key=${opts.tls.privateKey}`,
      `--certificate=${opts.tls.certificate}`,
      `--ca-cert=${opts.tls.caCert}`,
    );
  }
  args.push(...(opts.extraArgs ?? []));
  await run('ovsdb-server', args, { env: daemonEnv(dir) });
  const pid = await readPidfile(pidfile);
  await waitFor(`${opts.name} socket`, async () => existsSync(sock));
  const server: OvsdbServer = {
    name: opts.name,
    dir,
    pid,
    unix: `unix:${sock}`,
    tcp: `${opts.tls ? 'ssl' : 'tcp'}:127.0.0.1:${port}`,
    port,
    ctl,
    dbPath: opts.dbPath,
    stop: () => stopPid(pid),
  };
  return server;
}

/** A standalone database server (creates DIR/NAME.db from the schema unless it exists). */
export async function startOvsdbServer(opts: StartOptions): Promise<OvsdbServer> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const dbPath = join(dir, `${opts.name}.db`);
  if (!opts.existingDb || !existsSync(dbPath)) {
    if (existsSync(dbPath)) throw new Error(`${dbPath} already exists`);
    await run('ovsdb-tool', ['create', dbPath, opts.schema ?? NB_SCHEMA]);
  }
  return launch({ ...opts, dir, dbPath });
}

export interface RaftCluster {
  members: OvsdbServer[];
  /** comma-separated client remotes of all members, e.g. `tcp:127.0.0.1:A,tcp:127.0.0.1:B,...` */
  remotes: string;
  dbName: string;
  /** member index of the current leader (asks each member with cluster/status) */
  leader(): Promise<number>;
  /** restarts a stopped member from its database file on its old ports */
  restart(i: number): Promise<OvsdbServer>;
  stop(): Promise<void>;
}

async function clusterStatus(ctl: string, dbName: string): Promise<string> {
  return run('ovs-appctl', ['-t', ctl, 'cluster/status', dbName], { timeoutMs: 5_000 });
}

/** A RAFT cluster of `size` members of one database (OVN_Northbound by default) on 127.0.0.1. */
export async function startRaftCluster(opts: {
  dir: string;
  size?: number;
  schema?: string;
  dbName?: string;
  electionTimerMs?: number;
}): Promise<RaftCluster> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const size = opts.size ?? 3;
  const schema = opts.schema ?? NB_SCHEMA;
  const dbName = opts.dbName ?? 'OVN_Northbound';
  const raftPorts: number[] = [];
  const clientPorts: number[] = [];
  for (let i = 0; i < size; i++) {
    raftPorts.push(await freePort());
    clientPorts.push(await freePort());
  }
  const members: OvsdbServer[] = [];
  const name = (i: number) => `raft${i + 1}`;
  for (let i = 0; i < size; i++) {
    const dbPath = join(dir, `${name(i)}.db`);
    if (i === 0) {
      await run('ovsdb-tool', ['create-cluster', dbPath, schema, `tcp:127.0.0.1:${raftPorts[0]}`]);
    } else {
      await run('ovsdb-tool', [
        'join-cluster',
        dbPath,
        dbName,
        `tcp:127.0.0.1:${raftPorts[i]}`,
        `tcp:127.0.0.1:${raftPorts[0]}`,
      ]);
    }
    members.push(await launch({ dir, name: name(i), dbPath, port: clientPorts[i] }));
  }
  for (const m of members) {
    await waitFor(`${m.name} to join the cluster`, async () =>
      /Status: cluster member/.test(await clusterStatus(m.ctl, dbName)),
    );
  }
  if (opts.electionTimerMs) {
    // the timer can only be changed on the leader, and at most doubled per step
    const first = await findLeader();
    let current = 1000;
    while (current !== opts.electionTimerMs) {
      current = Math.min(opts.electionTimerMs, current * 2);
      await run('ovs-appctl', [
        '-t',
        members[first]!.ctl,
        'cluster/change-election-timer',
        dbName,
        String(current),
      ]);
    }
  }
  async function findLeader(): Promise<number> {
    return waitFor('a cluster leader', async () => {
      for (let i = 0; i < members.length; i++) {
        const m = members[i]!;
        if (!(await isAlive(m.pid))) continue;
        try {
          if (/Role: leader/.test(await clusterStatus(m.ctl, dbName))) return i + 1;
        } catch {
          /* member down or busy */
        }
      }
      return undefined;
    }).then((i) => i - 1);
  }
  return {
    members,
    remotes: members.map((m) => m.tcp).join(','),
    dbName,
    leader: findLeader,
    async restart(i: number) {
      const old = members[i]!;
      const fresh = await launch({ dir, name: old.name, dbPath: old.dbPath, port: old.port });
      members[i] = fresh;
      return fresh;
    },
    async stop() {
      await Promise.all(members.map((m) => m.stop()));
    },
  };
}
