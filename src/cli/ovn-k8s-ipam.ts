#!/usr/bin/env node
/**
 * `ovn-k8s-ipam`: the CNI IPAM plugin a NAD's `ipam` section names (macvlan, ipvlan, ovs-cni,
 * host-device...). It returns the addresses the central IPAM in ovn-k8s-watcher allocated for the
 * pod's interface. Speaks CNI on env + stdin/stdout; the logic is in src/node/ipam/plugin.ts.
 */
import { kubeconfigPodReader, runIpamPlugin } from '../node/ipam/plugin.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const stdin = process.env.CNI_COMMAND === 'VERSION' ? '' : await readStdin();
const out = await runIpamPlugin(process.env, stdin, { readPod: kubeconfigPodReader });
if (out.stdout) process.stdout.write(`${out.stdout}\n`);
process.exitCode = out.exitCode;
