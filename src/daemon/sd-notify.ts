/**
 * sd_notify(3) for Node: READY=1, STOPPING=1, STATUS=..., RELOADING=1 to $NOTIFY_SOCKET.
 *
 * NOTIFY_SOCKET is a unix *datagram* socket and Node 20 has no unix datagram support without a
 * native addon. We therefore hand the message to a short-lived helper process:
 *   1. `systemd-notify` (ships with systemd, so it is present wherever NOTIFY_SOCKET is set by
 *      systemd). By default it waits (BARRIER=1) until the manager has processed the message, so
 *      systemd can still attribute it to our cgroup after the helper exits.
 *   2. `python3` as a fallback (containers or test rigs that set NOTIFY_SOCKET without systemd).
 * Because the sender is a child of the daemon and not the main pid, units must say
 * `NotifyAccess=all` (deploy/systemd/ovn-k8s-watcher.service does).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export type NotifyFields = Readonly<Record<string, string | number>>;

export interface NotifyOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Override the helper search (tests). */
  helpers?: readonly NotifyHelper[];
}

export type NotifyHelper = 'systemd-notify' | 'python3';

const SYSTEMD_NOTIFY_PATHS = ['/usr/bin/systemd-notify', '/bin/systemd-notify'];
const PYTHON_PATHS = ['/usr/bin/python3', '/usr/local/bin/python3'];

// Sends argv[1] (the datagram) to argv[2] (the socket; '@' means the abstract namespace).
const PYTHON_SENDER = [
  'import socket,sys',
  'p=sys.argv[2]',
  "p='\\0'+p[1:] if p.startswith('@') else p",
  's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)',
  's.sendto(sys.argv[1].encode(),p)',
].join('\n');

/** The datagram systemd expects: one VAR=VALUE per line. */
export function formatNotify(fields: NotifyFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
    .join('\n');
}

function findHelper(helpers: readonly NotifyHelper[]): { kind: NotifyHelper; path: string } | undefined {
  for (const kind of helpers) {
    const paths = kind === 'systemd-notify' ? SYSTEMD_NOTIFY_PATHS : PYTHON_PATHS;
    const path = paths.find((p) => existsSync(p));
    if (path) return { kind, path };
  }
  return undefined;
}

function execP(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * Sends `fields` to $NOTIFY_SOCKET. Resolves false (and does nothing) when NOTIFY_SOCKET is unset,
 * true once sent; rejects when no helper exists or the helper fails.
 */
export async function sdNotify(fields: NotifyFields, opts: NotifyOptions = {}): Promise<boolean> {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return false;
  const helper = findHelper(opts.helpers ?? ['systemd-notify', 'python3']);
  if (!helper) throw new Error('NOTIFY_SOCKET is set but neither systemd-notify nor python3 is installed');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NOTIFY_SOCKET: socket };
  if (helper.kind === 'systemd-notify') {
    const args = Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`);
    await execP(helper.path, args, childEnv);
  } else {
    await execP(helper.path, ['-c', PYTHON_SENDER, formatNotify(fields), socket], childEnv);
  }
  return true;
}
