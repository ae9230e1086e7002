/**
 * The watcher as a process: pino JSON logs (stdout or --log-file), a pidfile, SIGTERM/SIGINT for a
 * clean stop, and --detach: the foreground process starts a copy of itself in the background and
 * exits 0 only once that copy reported a successful start-up (or 1 with the copy's error line).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { Watcher } from './watcher.js';
import type { TlsOptions } from '../ovsdb/remote/connect.js';
import type { OvsdbDatabase } from '../ovsdb/database.js';
import { openNb } from './nb-connect.js';

export const DETACHED_ENV = 'OVN_K8S_WATCHER_DETACHED';

export class PidfileBusyError extends Error {
  override name = 'PidfileBusyError';
}

export class DetachError extends Error {
  override name = 'DetachError';
}

export interface DaemonOptions {
  nbRemotes: string;
  tls?: TlsOptions;
  nbOpenTimeoutMs: number;
  k8sSyncTimeoutMs?: number;
  kubeConfig: KubeConfig;
  clusterSubnets: string[];
  joinSubnets?: string[];
  pidfile?: string;
  logFile?: string;
  logLevel: string;
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Refuses a pidfile that names a live process; writes ours. */
export function writePidfile(path: string): void {
  if (existsSync(path)) {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid))
      throw new PidfileBusyError(`pidfile ${path} names running pid ${pid}; is another watcher up?`);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${process.pid}\n`);
}

function removePidfile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * The parent side of --detach: re-runs this program (same arguments minus --detach) in the
 * background and waits for its verdict on the IPC channel.
 */
export async function detach(argv: readonly string[]): Promise<number> {
  const args = argv.slice(1).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  const verdict = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
    child.once('message', (m: { ok: boolean; error?: string }) => resolve(m));
    child.once('exit', (code) =>
      resolve({ ok: false, error: `background watcher exited with ${code} during start-up` }),
    );
    child.once('error', (err) => resolve({ ok: false, error: err.message }));
  });
  if (!verdict.ok) {
    process.stderr.write(`ovn-k8s-watcher: ${verdict.error}\n`);
    return 1;
  }
  child.disconnect();
  child.unref();
  return 0;
}

/** Reports the start-up verdict to a waiting --detach parent, if there is one. */
export function reportToParent(verdict: { ok: boolean; error?: string }): void {
  if (process.env[DETACHED_ENV] !== '1' || !process.send) return;
  process.send(verdict);
  if (verdict.ok) process.disconnect();
}

/** Runs the watcher until SIGTERM/SIGINT. Resolves when it stopped. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const destination = opts.logFile
    ? (mkdirSync(dirname(opts.logFile), { recursive: true }),
      pino.destination({ dest: opts.logFile, sync: true }))
    : pino.destination({ fd: 1, sync: true });
  const log = pino({ name: 'ovn-k8s-watcher', level: opts.logLevel }, destination);
  if (opts.pidfile) writePidfile(opts.pidfile);
  let watcher: Watcher;
  let db: OvsdbDatabase | undefined;
  try {
    // quiet while connecting: an unreachable database is one error, not a log line per retry
    db = await openNb({ nbAddress: opts.nbRemotes }, { timeoutMs: opts.nbOpenTimeoutMs, tls: opts.tls });
    watcher = await Watcher.start({
      db,
      ...(opts.k8sSyncTimeoutMs ? { k8sSyncTimeoutMs: opts.k8sSyncTimeoutMs } : {}),
      kubeConfig: opts.kubeConfig,
      clusterSubnets: opts.clusterSubnets,
      ...(opts.joinSubnets ? { joinSubnets: opts.joinSubnets } : {}),
      logger: log,
    });
  } catch (err) {
    // the caller prints the one error line; a log file keeps it too
    if (opts.logFile) log.error({ err: (err as Error).message }, 'start-up failed');
    await db?.close();
    if (opts.pidfile) removePidfile(opts.pidfile);
    throw err;
  }
  log.info({ nb: opts.nbRemotes, clusterSubnets: opts.clusterSubnets }, 'watcher started');
  reportToParent({ ok: true });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      watcher.stop().then(resolve, (err: unknown) => {
        log.error({ err: (err as Error).message }, 'error while stopping');
        resolve();
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await db.close();
  log.info(watcher.stats(), 'watcher stopped');
  if (opts.pidfile) removePidfile(opts.pidfile);
  destination.flushSync?.();
}
