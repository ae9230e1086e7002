/**
 * Child processes of the IPAM load bench: TypeScript entry points run through tsx, their first
 * stdout line awaited, stopped by pid (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { stopPid } from '../../src/runtime/process.js';

const ROOT = join(import.meta.dirname, '..', '..');

export class ChildStartError extends Error {
  override name = 'ChildStartError';
}

export interface Child {
  pid: number;
  /** The first stdout line (the URL or `ready`). */
  first: string;
  /** SIGTERM; resolves with the stdout lines printed after the first one. */
  stop(): Promise<string[]>;
}

/**
 * Starts `node [nodeArgs] --import tsx <script> args` and waits for its first stdout line.
 * stderr is passed through with a prefix so a failing child explains itself.
 */
export async function startChild(
  script: string,
  args: string[],
  opts: { nodeArgs?: string[]; label: string; timeoutMs?: number },
): Promise<Child> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', join(import.meta.dirname, script), ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new ChildStartError(`${opts.label}: spawn failed`);
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${opts.label}] ${d.toString()}`));
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  // 'close' comes after the child's stdout has ended: every line it printed has been read.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ChildStartError(`${opts.label}: no output within ${opts.timeoutMs ?? 60_000} ms`)),
      opts.timeoutMs ?? 60_000,
    );
    rl.on('line', (l) => {
      if (lines.length === 0) {
        clearTimeout(timer);
        resolve(l);
      }
      lines.push(l);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ChildStartError(`${opts.label}: exited with ${code} before it was ready`));
    });
  }).catch(async (err: unknown) => {
    await stopPid(pid);
    throw err;
  });
  return {
    pid,
    first,
    async stop() {
      await stopPid(pid, 15_000);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      rl.close();
      return lines.slice(1);
    },
  };
}
