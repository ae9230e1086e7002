#!/usr/bin/env node
/**
 * `ovn-k8s-cni-overlay`: the CNI plugin binary. The container runtime runs it with CNI_* in the
 * environment and the network configuration on stdin; the result or a CNI error object goes to
 * stdout (see src/node/cni/plugin.ts).
 */
import { runCni } from '../node/cni/plugin.js';

async function readStdin(): Promise<string> {
  // VERSION may be called with stdin closed or a terminal; never block on a tty
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const outcome = await runCni(process.env, await readStdin());
process.stdout.write(outcome.stdout, () => process.exit(outcome.exitCode));
