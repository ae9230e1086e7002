/**
 * Pidfiles as OVS daemons keep them: written atomically (temporary file + link/rename, so a
 * reader never sees a half-written pid), refusing to start while the pid in an existing file is
 * alive, removed on exit.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PidfileInUseError } from './errors.js';

/** The pid in `path`, or undefined when the file is missing or does not hold a pid. */
export function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether `pid` runs (and is not a zombie, which this machine's init reaps late). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Throws PidfileInUseError when `path` names a live process other than `self`. */
export function checkPidfile(path: string, self = process.pid): void {
  const pid = readPid(path);
  if (pid !== undefined && pid !== self && pidAlive(pid)) throw new PidfileInUseError(path, pid);
}

/**
 * Writes `pid` to `path` atomically. A live owner makes it throw PidfileInUseError; a stale file
 * (dead pid, garbage) is replaced. `link()` fails when the file exists, which closes the race of
 * two instances starting at once: only one of them creates the file.
 */
export function writePidfile(path: string, pid = process.pid): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp${pid}`;
  writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  try {
    try {
      linkSync(tmp, path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    checkPidfile(path, pid);
    // the existing file is stale: replace it in one step
    renameSync(tmp, path);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* renamed away */
    }
  }
}

/** Removes `path` if it still names `pid` (a successor may own it by now). */
export function removePidfile(path: string, pid = process.pid): void {
  if (readPid(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
