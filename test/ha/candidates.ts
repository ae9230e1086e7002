/**
 * Elector candidates for the HA tests: each is a child process (elector-child.ts) that prints
 * one JSON line per election event; every child is stopped by pid with stopCandidates().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { stopPid } from '../../src/runtime/process.js';

const CHILD = join(import.meta.dirname, 'elector-child.ts');

export interface Candidate {
  proc: ChildProcess;
  events: { ev: string; id: string; leader?: string | boolean }[];
}

const children: ChildProcess[] = [];
export function candidate(mode: 'lease' | 'lock', id: string, env: Record<string, string>): Candidate {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
    env: { ...process.env, ELECTOR_ID: id, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const c: Candidate = { proc, events: [] };
  let buf = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        c.events.push(JSON.parse(line) as Candidate['events'][number]);
      } catch {
        /* not ours */
      }
    }
  });
  return c;
}
export const leads = (c: Candidate) => c.events.filter((e) => e.ev === 'leading').length;

/** Stops every candidate started so far, by pid. */
export async function stopCandidates(): Promise<void> {
  for (const p of children) if (p.pid) await stopPid(p.pid);
}
