/** Shared set-up for the node-side tests: running our built CLIs as a node or runtime would. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { run } from '../../src/runtime/process.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const OVERLAY_CLI = join(ROOT, 'dist/cli/ovn-k8s-overlay.js');
export const UTIL_CLI = join(ROOT, 'dist/cli/ovn-k8s-util.js');
export const CNI_CLI = join(ROOT, 'dist/cli/ovn-k8s-cni-overlay.js');

/** `npm test` builds first; a bare `vitest run` builds here when dist is missing. */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(OVERLAY_CLI) && existsSync(CNI_CLI) && existsSync(UTIL_CLI)) return;
  await run('npm', ['run', 'build'], { timeoutMs: 120_000 });
}

/** A short unique suffix for namespace and device names (15-byte interface name limit). */
export const uniq = (): string => randomBytes(3).toString('hex');

export interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node SCRIPT args` (inside `netns` when given) with `env` and `input` on stdin. */
export function runNode(
  script: string,
  args: string[],
  opts: { netns?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<Spawned> {
  const cmd = opts.netns ? 'ip' : process.execPath;
  const argv = opts.netns
    ? ['netns', 'exec', opts.netns, process.execPath, script, ...args]
    : [script, ...args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, argv, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

type SimType = Parameters<K8sSim['api']['create']>[0];

function simType(sim: K8sSim, plural: string): SimType {
  const t = sim.api.registry.get('', plural);
  if (!t) throw new Error(`simulator has no ${plural}`);
  return t;
}

export function createSimNode(sim: K8sSim, name: string, annotations: Record<string, string> = {}): void {
  sim.api.create(simType(sim, 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, annotations },
  });
}

export function simNodeAnnotations(sim: K8sSim, name: string): Record<string, string> {
  const e = sim.api.get(simType(sim, 'nodes'), undefined, name);
  return (e.obj.metadata as { annotations?: Record<string, string> }).annotations ?? {};
}

export function createSimPod(sim: K8sSim, ns: string, name: string, nodeName: string): string {
  const e = sim.api.create(simType(sim, 'pods'), ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { nodeName, containers: [{ name: 'c', image: 'pause' }] },
  });
  return String((e.obj.metadata as { uid?: string }).uid);
}

export function annotateSimPod(
  sim: K8sSim,
  ns: string,
  name: string,
  annotations: Record<string, string>,
): void {
  sim.api.patch(simType(sim, 'pods'), ns, name, 'merge', { metadata: { annotations } });
}

// ---- traffic between pods: a TCP sink that answers with the sha256 of what it received ------

const SINK = `
const net = require('node:net'); const crypto = require('node:crypto');
const srv = net.createServer((c) => {
  const h = crypto.createHash('sha256'); let n = 0;
  c.on('data', (d) => { h.update(d); n += d.length; });
  c.on('end', () => c.end(n + ' ' + h.digest('hex') + (label ? ' ' + label : '')));
  c.on('error', () => {});
});
const label = process.argv[2] || '';
srv.listen(Number(process.argv[1]), '0.0.0.0', () => process.stdout.write('ready\\n'));
`;

const SEND = `
const net = require('node:net'); const crypto = require('node:crypto');
const [host, port, size] = process.argv.slice(1);
const buf = crypto.randomBytes(Number(size));
const want = buf.length + ' ' + crypto.createHash('sha256').update(buf).digest('hex');
const c = net.connect(Number(port), host, () => c.end(buf));
let got = '';
c.on('data', (d) => (got += d));
c.on('end', () => { if (got === want || got.startsWith(want + ' ')) { process.stdout.write('ok ' + got + '\\n'); process.exit(0); }
  process.stderr.write('mismatch: sent ' + want + ' got ' + got + '\\n'); process.exit(1); });
c.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
setTimeout(() => { process.stderr.write('timeout\\n'); process.exit(1); }, 15000);
`;

export interface TcpSink {
  pid: number;
  stop(): Promise<void>;
}

/** Starts the sink inside `netns` on `port` (its replies end with `label`); stop() kills it by pid. */
export async function startTcpSink(netns: string, port: number, label = ''): Promise<TcpSink> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SINK, String(port), label], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code) => rej(new Error(`tcp sink exited with ${code}`)));
    child.stdout.once('data', () => res());
  });
  child.removeAllListeners('exit');
  const pid = child.pid!;
  return {
    pid,
    async stop() {
      const { stopPid } = await import('../../src/runtime/process.js');
      await stopPid(pid, 2_000);
    },
  };
}

/** Sends `size` random bytes from inside `netns` to host:port; resolves when the sink's digest matches. */
export async function tcpTransfer(
  netns: string,
  host: string,
  port: number,
  size = 1 << 20,
): Promise<string> {
  return run('ip', ['netns', 'exec', netns, process.execPath, '-e', SEND, host, String(port), String(size)], {
    timeoutMs: 30_000,
  });
}

export async function ping(netns: string, ip: string, count = 3): Promise<string> {
  return run('ip', ['netns', 'exec', netns, 'ping', '-c', String(count), '-i', '0.2', '-W', '2', ip], {
    timeoutMs: 20_000,
  });
}
