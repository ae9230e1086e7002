/**
 * Running host tools (ip, ethtool) from the node side. Arguments are passed as an array, never
 * through a shell, so interface and namespace names cannot inject anything.
 */
import { execFile } from 'node:child_process';
import { HostCommandError } from './errors.js';

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
}

/** Runs `cmd args...`; resolves with stdout, rejects with HostCommandError carrying stderr. */
export function execHost(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new HostCommandError(`${cmd} ${args.join(' ')}`, String(stderr).trim() || err.message, {
              cause: err,
            }),
          );
          return;
        }
        resolve(String(stdout));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
