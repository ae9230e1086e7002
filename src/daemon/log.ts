/**
 * The daemon's pino logger: JSON lines to --log-file (reopened on demand, e.g. on SIGHUP after
 * logrotate moved the file) or to stdout in foreground mode.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, destination, type Logger, type LevelWithSilent } from 'pino';

export interface DaemonLog {
  logger: Logger;
  /** The file logs go to, or undefined for stdout. */
  file: string | undefined;
  /** Reopens the log file (no-op on stdout): logrotate renames it, we start a new one. */
  reopen(): void;
  /** Flushes and closes the file. */
  close(): void;
}

export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export function isLogLevel(v: string): v is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

export function createDaemonLog(opts: { name: string; file?: string; level?: LevelWithSilent }): DaemonLog {
  const level = opts.level ?? 'info';
  if (!opts.file) {
    const logger = pino({ name: opts.name, level });
    return { logger, file: undefined, reopen() {}, close() {} };
  }
  mkdirSync(dirname(opts.file), { recursive: true });
  // sync writes: a daemon that exits right after logging an error must not lose that line
  const dest = destination({ dest: opts.file, sync: true, mkdir: true });
  const logger = pino({ name: opts.name, level }, dest);
  return {
    logger,
    file: opts.file,
    reopen: () => dest.reopen(),
    close: () => {
      try {
        dest.flushSync();
      } catch {
        /* nothing buffered */
      }
      dest.end();
    },
  };
}
