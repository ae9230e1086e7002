/**
 * Test helper: the real `ovn-k8s-watcher` (dist/) as a child process with its own control socket,
 * log file and metrics port; its status through the control socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sendControl } from '../../src/daemon/control.js';
import { run } from '../../src/runtime/process.js';

export const WATCHER = 'dist/cli/ovn-k8s-watcher.js';
export const UTIL = 'dist/cli/ovn-k8s-util.js';

export async function ensureBuilt(): Promise<void> {
  if (!existsSync(WATCHER) || !existsSync(UTIL))
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { timeoutMs: 120_000 });
}

export interface WatcherProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  ctl: string;
  log: string;
  exited: Promise<number | null>;
  status(): Promise<WatcherStatus>;
}

export interface WatcherStatus {
  ready: boolean;
  synced: boolean;
  leader: boolean;
  leadershipKnown: boolean;
  writing: boolean;
  metrics?: string;
  nb: string;
  queue: { depth: number };
  transactions: { transactions: number; operations: number };
  [k: string]: unknown;
}

/** Spawns `node dist/cli/ovn-k8s-watcher.js --overlay ...args` with files under `dir`. */
export function spawnWatcher(
  dir: string,
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): WatcherProcess {
  const ctl = join(dir, `${name}.ctl`);
  const log = join(dir, `${name}.log`);
  // hermetic: an empty INI file instead of whatever /etc/openvswitch/ovn_k8s.conf holds here
  if (!existsSync(join(dir, 'none.conf'))) writeFileSync(join(dir, 'none.conf'), '[default]\n');
  const child = spawn(
    process.execPath,
    [
      WATCHER,
      '--overlay',
      ...(args.includes('--ovs-db') ? [] : ['--no-ovs']),
      '--config-file',
      join(dir, 'none.conf'),
      `--ctl-socket=${ctl}`,
      `--log-file=${log}`,
      '--metrics-address',
      '127.0.0.1:0',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (stderr) process.stderr.write(`[${name}] ${stderr}`);
      resolve(code);
    }),
  );
  return {
    name,
    child,
    pid: child.pid!,
    ctl,
    log,
    exited,
    status: async () => (await sendControl(ctl, 'status', [], 5_000)) as WatcherStatus,
  };
}

/** The status, or undefined while the control socket does not answer yet. */
export async function statusOf(w: WatcherProcess): Promise<WatcherStatus | undefined> {
  try {
    return await w.status();
  } catch {
    return undefined;
  }
}
