/**
 * The life cycle of a long-running ovn-k8s process, as OVS daemons have it:
 *  - `--detach`: the process re-executes itself in a new session and waits until the child says
 *    start-up succeeded (through a pipe on fd 3); errors before that are printed by the parent,
 *    which exits non-zero. Node cannot fork(), hence the re-exec.
 *  - `--pidfile`: written atomically once we are the final process; refuses a live owner.
 *  - `--log-file`: pino JSON, reopened on SIGHUP (logrotate).
 *  - systemd: READY=1 once the caller says so (after caches synced), STOPPING=1 on shutdown.
 *  - a control socket with `exit` and `loglevel` built in, `status` and `resync` added by the caller.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import type { Logger, LevelWithSilent } from 'pino';
import { ControlServer } from './control.js';
import { DetachFailedError } from './errors.js';
import { createDaemonLog, isLogLevel, type DaemonLog } from './log.js';
import { checkPidfile, removePidfile, writePidfile } from './pidfile.js';
import { sdNotify } from './sd-notify.js';

/** Set in the detached child: the fd of the pipe on which it reports start-up. */
export const REPORT_FD_ENV = 'OVN_K8S_DAEMON_REPORT_FD';

export interface DaemonOptions {
  /** Program name for messages and default file names, e.g. "ovn-k8s-watcher". */
  name: string;
  detach?: boolean;
  /** Absolute pidfile path (see pidfilePath()). */
  pidfile?: string | undefined;
  /** Absolute log file path; logs go to stdout without it. */
  logFile?: string | undefined;
  logLevel?: LevelWithSilent;
  /** Control socket path; none when undefined. */
  controlSocket?: string | undefined;
  /** Exit the process on shutdown/failure (default true; tests of the class itself turn it off). */
  exitProcess?: boolean;
}

export type ShutdownHook = (reason: string) => Promise<void> | void;

interface ReportLine {
  ok: boolean;
  pid?: number;
  error?: string;
}

/** Entry point: in the detaching parent this never resolves (the process exits). */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const reportFd = process.env[REPORT_FD_ENV];
  if (opts.detach && reportFd === undefined) {
    await detachAndWait(opts);
    return new Promise<never>(() => undefined);
  }
  delete process.env[REPORT_FD_ENV]; // our own children must not inherit it
  const d = new Daemon(opts, reportFd === undefined ? undefined : Number(reportFd));
  try {
    d.init();
  } catch (err) {
    d.fail(err);
  }
  return d;
}

/** Parent side of --detach: spawn ourselves, relay the child's verdict, exit. */
async function detachAndWait(opts: DaemonOptions): Promise<never> {
  try {
    // a live pidfile owner is an error the user should see right here
    if (opts.pidfile) checkPidfile(opts.pidfile);
  } catch (err) {
    process.stderr.write(`${opts.name}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [REPORT_FD_ENV]: '3' },
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
  const verdict = await new Promise<ReportLine | { exited: number | null; signal: string | null }>(
    (resolve) => {
      let buf = '';
      pipe?.setEncoding('utf8');
      pipe?.on('data', (c: string) => {
        buf += c;
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          try {
            resolve(JSON.parse(buf.slice(0, nl)) as ReportLine);
          } catch {
            resolve({ ok: false, error: `unreadable start-up report: ${buf.slice(0, nl)}` });
          }
        }
      });
      pipe?.on('error', () => undefined);
      child.on('exit', (code, signal) => resolve({ exited: code, signal }));
    },
  );
  if ('exited' in verdict) {
    const how = verdict.signal ? `signal ${verdict.signal}` : `code ${verdict.exited}`;
    process.stderr.write(
      `${opts.name}: the background process exited (${how}) before start-up finished${opts.logFile ? `; see ${opts.logFile}` : ''}\n`,
    );
    process.exit(1);
  }
  if (!verdict.ok) {
    process.stderr.write(`${opts.name}: ${verdict.error ?? 'start-up failed'}\n`);
    process.exit(1);
  }
  child.unref();
  (pipe as unknown as { destroy?: () => void })?.destroy?.();
  process.exit(0);
}

export class Daemon {
  readonly name: string;
  readonly control: ControlServer | undefined;
  private log: DaemonLog | undefined;
  private readonly shutdownHooks: ShutdownHook[] = [];
  private readonly reloadHooks: (() => void)[] = [];
  private statusProvider: () => Record<string, unknown> = () => ({});
  private readyState = false;
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private readonly onSignal = (sig: NodeJS.Signals) => void this.shutdown(`signal ${sig}`);
  private readonly onHup = () => this.reload();

  constructor(
    readonly opts: DaemonOptions,
    private reportFd: number | undefined,
  ) {
    this.name = opts.name;
    this.control = opts.controlSocket ? new ControlServer(opts.controlSocket) : undefined;
  }

  get logger(): Logger {
    if (!this.log) throw new DetachFailedError('daemon logger used before init');
    return this.log.logger;
  }

  get isReady(): boolean {
    return this.readyState;
  }

  /** Pidfile, log, signals (synchronous part of start-up; the control socket listens in ready()). */
  init(): void {
    if (this.opts.pidfile) writePidfile(this.opts.pidfile);
    this.log = createDaemonLog({
      name: this.name,
      file: this.opts.logFile,
      level: this.opts.logLevel ?? 'info',
    });
    process.on('SIGTERM', this.onSignal);
    process.on('SIGINT', this.onSignal);
    process.on('SIGHUP', this.onHup);
    this.control?.register('exit', () => {
      setImmediate(() => void this.shutdown('exit requested on the control socket'));
      return 'exiting';
    });
    this.control?.register(
      'loglevel',
      (args) => {
        const level = args[0];
        if (!level) return this.logger.level;
        if (!isLogLevel(level)) throw new Error(`unknown log level "${level}"`);
        this.logger.level = level;
        this.logger.info({ newLevel: level }, 'log level changed');
        return level;
      },
      'loglevel [fatal|error|warn|info|debug|trace|silent]',
    );
    this.control?.register('status', () => this.status(), 'status');
  }

  /** Starts the control socket early (before ready) so `status` answers during a long sync. */
  async listenControl(): Promise<void> {
    if (this.control && !this.controlListening) {
      this.controlListening = true;
      await this.control.listen();
    }
  }
  private controlListening = false;

  /** Adds fields to the `status` answer (leadership, sync state, counts...). */
  setStatusProvider(fn: () => Record<string, unknown>): void {
    this.statusProvider = fn;
  }

  status(): Record<string, unknown> {
    return {
      name: this.name,
      pid: process.pid,
      ready: this.readyState,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      logLevel: this.log?.logger.level,
      ...this.statusProvider(),
    };
  }

  /**
   * Start-up succeeded: the detaching parent may exit 0, systemd gets READY=1. Call it once the
   * caches are synced (the unit is Type=notify, so dependants start only then).
   */
  async ready(statusText = 'ready'): Promise<void> {
    await this.listenControl();
    this.readyState = true;
    this.report({ ok: true, pid: process.pid });
    await this.notify({ READY: 1, STATUS: statusText, MAINPID: process.pid });
    this.log?.logger.info({ pid: process.pid }, `${this.name} ready`);
  }

  /** STATUS= for systemctl status (no-op outside systemd). */
  async notifyStatus(text: string): Promise<void> {
    await this.notify({ STATUS: text });
  }

  onShutdown(hook: ShutdownHook): void {
    this.shutdownHooks.push(hook);
  }

  /** Extra work on SIGHUP after the log file was reopened. */
  onReload(hook: () => void): void {
    this.reloadHooks.push(hook);
  }

  reload(): void {
    this.log?.reopen();
    this.log?.logger.info('log file reopened (SIGHUP)');
    for (const h of this.reloadHooks) h();
  }

  /**
   * A start-up error: printed (foreground) or sent to the waiting parent (--detach), then exit 1.
   * After ready() it is logged and the process exits 1 as well.
   */
  fail(err: unknown): never {
    const message = err instanceof Error ? err.message : String(err);
    // in the foreground before ready the error line on stderr is enough: stdout stays clean
    if (this.opts.logFile || this.readyState || this.reportFd !== undefined)
      this.log?.logger.fatal({ err }, message);
    if (this.reportFd !== undefined) this.report({ ok: false, error: message });
    else process.stderr.write(`${this.name}: ${message}\n`);
    this.cleanup();
    if (this.opts.exitProcess === false) throw err instanceof Error ? err : new Error(message);
    process.exit(1);
  }

  /** Runs the shutdown hooks (last registered first), tells systemd, cleans up, exits 0. */
  shutdown(reason: string): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.log?.logger.info({ reason }, `${this.name} stopping`);
      await this.notify({ STOPPING: 1 }).catch(() => undefined);
      for (const hook of [...this.shutdownHooks].reverse()) {
        try {
          await hook(reason);
        } catch (err) {
          this.log?.logger.error({ err }, 'shutdown hook failed');
        }
      }
      await this.control?.close();
      this.cleanup();
      if (this.opts.exitProcess !== false) process.exit(0);
    })();
    return this.stopping;
  }

  private cleanup(): void {
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    process.off('SIGHUP', this.onHup);
    if (this.opts.pidfile) removePidfile(this.opts.pidfile);
    this.log?.close();
  }

  private async notify(fields: Record<string, string | number>): Promise<void> {
    try {
      await sdNotify(fields);
    } catch (err) {
      this.log?.logger.warn({ err }, 'sd_notify failed');
    }
  }

  private report(line: ReportLine): void {
    if (this.reportFd === undefined) return;
    const fd = this.reportFd;
    this.reportFd = undefined;
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      closeSync(fd);
    } catch {
      /* the parent is gone; nothing to tell */
    }
  }
}
