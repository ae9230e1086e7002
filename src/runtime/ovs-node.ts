/**
 * A simulated Kubernetes node for tests, benchmarks and the sandbox: its own Open_vSwitch
 * ovsdb-server, ovs-vswitchd with the userspace ("netdev") datapath and, on request,
 * ovn-controller, all with their run/log/db files in one directory.
 *
 * ovs-vswitchd and ovn-controller run inside the node's network namespace (`ip netns exec`):
 * the userspace datapath opens its ports with AF_PACKET and creates its internal ports
 * (ovs-netdev, br-int, ...) as TAP devices in the namespace it runs in, and reads that namespace's
 * routes for tunnels. The database server listens on a unix socket, reachable from every
 * namespace. The two daemons of one node share OVS_RUNDIR because ovn-controller finds
 * `$OVS_RUNDIR/br-int.mgmt`; different nodes need different directories.
 *
 * Daemons are stopped by the pid in their pidfile, never by name. The TAP devices of the netdev
 * datapath outlive ovs-vswitchd, so stop() deletes them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { startOvsdbServer, VSWITCH_SCHEMA, type OvsdbServer } from './ovsdb-server.js';
import { daemonEnv, isAlive, readPidfile, run, stopPid, waitFor } from './process.js';

export interface OvsNode {
  name: string;
  dir: string;
  /** network namespace the datapath lives in (undefined = the caller's) */
  netns: string | undefined;
  db: OvsdbServer;
  /** `unix:DIR/conf.sock` */
  ovsRemote: string;
  vswitchdPid: number;
  controllerPid: number | undefined;
  /** environment with this node's OVS_RUNDIR etc. */
  env: NodeJS.ProcessEnv;
  /** ovs-vsctl against this node's database */
  vsctl(...args: string[]): Promise<string>;
  /** ovs-appctl against this node's ovs-vswitchd */
  appctl(...args: string[]): Promise<string>;
  /** command prefix that runs something inside the node's namespace with its environment */
  inNode(cmd: string, args: string[]): { cmd: string; args: string[] };
  /** starts ovn-controller (after the OVN external_ids are set) */
  startController(): Promise<number>;
  stop(): Promise<void>;
}

export interface OvsNodeOptions {
  dir: string;
  name: string;
  netns?: string;
  /** start ovn-controller right away (default false: usually after minion-init) */
  controller?: boolean;
}

function netnsPrefix(
  netns: string | undefined,
  cmd: string,
  args: string[],
): { cmd: string; args: string[] } {
  return netns ? { cmd: 'ip', args: ['netns', 'exec', netns, cmd, ...args] } : { cmd, args };
}

export async function startOvsNode(opts: OvsNodeOptions): Promise<OvsNode> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const env = daemonEnv(dir);
  const netns = opts.netns;
  const stoppers: Array<() => Promise<void>> = [];
  const db = await startOvsdbServer({ dir, name: 'conf', schema: VSWITCH_SCHEMA });
  stoppers.push(() => db.stop());
  const vsctl = (...args: string[]) =>
    run('ovs-vsctl', [`--db=${db.unix}`, '--timeout=20', ...args], { env });
  const ctl = join(dir, 'ovs-vswitchd.ctl');
  const appctl = (...args: string[]) => run('ovs-appctl', ['-t', ctl, ...args], { env });
  let vswitchdPid = 0;
  let controllerPid: number | undefined;
  try {
    await vsctl('--no-wait', 'init');
    const pidfile = join(dir, 'ovs-vswitchd.pid');
    const c = netnsPrefix(netns, 'ovs-vswitchd', [
      db.unix,
      `--unixctl=${ctl}`,
      `--pidfile=${pidfile}`,
      `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
      '-vconsole:off',
      '-vfile:info',
      '--detach',
      '--no-chdir',
    ]);
    await run(c.cmd, c.args, { env });
    vswitchdPid = await readPidfile(pidfile);
    stoppers.push(() => stopPid(vswitchdPid));
  } catch (err) {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
    throw err;
  }

  const node: OvsNode = {
    name: opts.name,
    dir,
    netns,
    db,
    ovsRemote: db.unix,
    vswitchdPid,
    controllerPid,
    env,
    vsctl,
    appctl,
    inNode: (cmd, args) => netnsPrefix(netns, cmd, args),
    async startController() {
      const pidfile = join(dir, 'ovn-controller.pid');
      const c = netnsPrefix(netns, 'ovn-controller', [
        db.unix,
        `--pidfile=${pidfile}`,
        `--log-file=${join(dir, 'ovn-controller.log')}`,
        '-vconsole:off',
        '-vfile:info',
        '--detach',
        '--no-chdir',
      ]);
      await run(c.cmd, c.args, { env });
      controllerPid = await readPidfile(pidfile);
      node.controllerPid = controllerPid;
      return controllerPid;
    },
    async stop() {
      // bridge names while the database still answers: each is a TAP device of the datapath
      let taps = ['ovs-netdev'];
      try {
        taps = [...taps, ...(await vsctl('list-br')).split('\n').filter((s) => s !== '')];
      } catch {
        taps.push('br-int');
      }
      if (controllerPid) await stopPid(controllerPid);
      await stopPid(vswitchdPid);
      await db.stop();
      for (const tap of taps) await deleteTap(netns, tap);
      // ovn-controller 23.03 names its control socket after its pid; nothing else cleans it
      for (const f of await readdir(dir).catch(() => [] as string[])) {
        if (/^ovn-controller\.\d+\.ctl$/.test(f)) await run('rm', ['-f', join(dir, f)]).catch(() => '');
      }
    },
  };
  if (opts.controller) {
    try {
      await node.startController();
    } catch (err) {
      await node.stop().catch(() => undefined);
      throw err;
    }
  }
  return node;
}

/** Deletes a TAP device left by the netdev datapath (only if it is one). */
async function deleteTap(netns: string | undefined, name: string): Promise<void> {
  const ns = netns ? ['-n', netns] : [];
  try {
    const out = await run('ip', [...ns, '-j', '-d', 'link', 'show', 'dev', name]);
    const kind = (JSON.parse(out) as Array<{ linkinfo?: { info_kind?: string } }>)[0]?.linkinfo?.info_kind;
    if (kind === 'tun') await run('ip', [...ns, 'link', 'del', 'dev', name]);
  } catch {
    /* already gone */
  }
}

// ---- network namespaces and veth pairs (tests only ever plumb namespaces they created) -------

/** Creates network namespace `name` with lo up. */
export async function createNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/**
 * Deletes namespace `name` after deleting every link in it but lo (TAP devices of the netdev
 * datapath are persistent and would otherwise survive). Missing namespace: nothing to do.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!existsSync(`/var/run/netns/${name}`)) return;
  try {
    const links = JSON.parse(await run('ip', ['-n', name, '-j', 'link', 'show'])) as Array<{
      ifname: string;
    }>;
    for (const l of links) {
      if (l.ifname === 'lo') continue;
      await run('ip', ['-n', name, 'link', 'del', 'dev', l.ifname]).catch(() => '');
    }
  } catch {
    /* namespace half gone */
  }
  await run('ip', ['netns', 'del', name]).catch(() => '');
}

/** A veth pair: `a` in namespace `nsA`, `b` in `nsB` (undefined = the caller's namespace). */
export async function createVeth(
  a: string,
  nsA: string | undefined,
  b: string,
  nsB: string | undefined,
  mtu?: number,
): Promise<void> {
  const args = [...(nsA ? ['-n', nsA] : []), 'link', 'add', a];
  if (mtu) args.push('mtu', String(mtu));
  args.push('type', 'veth', 'peer', 'name', b);
  if (nsB) args.push('netns', nsB);
  // created from inside nsA, the peer would stay there: name our own namespace by our pid
  else if (nsA) args.push('netns', String(process.pid));
  await run('ip', args);
  if (mtu) await run('ip', [...(nsB ? ['-n', nsB] : []), 'link', 'set', b, 'mtu', String(mtu)]);
}

/** Waits until `ovn-nbctl get logical_switch_port LSP up` is true (the chassis bound the port). */
export async function waitPortUp(
  nbctl: (...a: string[]) => Promise<string>,
  lsp: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(
    `${lsp} up`,
    async () => (await nbctl('get', 'logical_switch_port', lsp, 'up')).trim() === 'true',
    timeoutMs,
    50,
  );
}

// ---- reaching a root-namespace loopback service from inside a node namespace ------------------

export interface LoopbackForward {
  stop(): Promise<void>;
}

/** The in-namespace half: listens on 127.0.0.1:PORT and pipes each connection to a unix socket. */
const NETNS_HALF = `
const net = require('node:net');
const [port, path] = process.argv.slice(1);
const srv = net.createServer((c) => {
  const u = net.connect(path);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
});
srv.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

/**
 * Makes `127.0.0.1:port` of the caller's namespace (e.g. the Kubernetes simulator) reachable as
 * `127.0.0.1:port` inside `netns`, through a unix socket at `sockPath` (a unix socket is a
 * filesystem object, so it crosses network namespaces). No interface or address is added
 * anywhere: a node's processes simply use the same URL as the test.
 */
export async function forwardLoopbackPort(
  netns: string,
  port: number,
  sockPath: string,
): Promise<LoopbackForward> {
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    const t = connect(port, '127.0.0.1');
    sockets.add(c);
    sockets.add(t);
    c.pipe(t);
    t.pipe(c);
    const drop = () => {
      c.destroy();
      t.destroy();
      sockets.delete(c);
      sockets.delete(t);
    };
    c.on('error', drop).on('close', drop);
    t.on('error', drop).on('close', drop);
  });
  await rm(sockPath, { force: true });
  await new Promise<void>((res, rej) => server.once('error', rej).listen(sockPath, () => res()));
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, '-e', NETNS_HALF, String(port), sockPath],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const pid = child.pid;
  try {
    await new Promise<void>((res, rej) => {
      child.once('error', rej);
      child.once('exit', (code) => rej(new Error(`loopback forwarder in ${netns} exited with ${code}`)));
      child.stdout!.once('data', () => res());
    });
  } catch (err) {
    server.close();
    throw err;
  }
  child.removeAllListeners('exit');
  return {
    async stop() {
      if (pid && (await isAlive(pid))) await stopPid(pid, 2_000);
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
      await rm(sockPath, { force: true });
    },
  };
}
