/**
 * The command-line surface, run as real processes from dist/ (`npm run build` first):
 * `ovn-k8s-util sandbox start|stop`, `ovn-k8s-overlay master-init`, `ovn-k8s-watcher` in the
 * foreground (SIGTERM) and with --detach, and its one-line failures.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { isAlive, run, stopPid, waitFor } from '../../src/runtime/process.js';
import { samplePod, sampleNode } from '../../src/sandbox/sample-cluster.js';
import type { SandboxInfo } from '../../src/sandbox/sandbox.js';
import { podNetworkFromAnnotation } from '../../src/watcher/convert.js';
import { tempDir } from '../helpers/tmp.js';

const UTIL = 'dist/cli/ovn-k8s-util.js';
const OVERLAY = 'dist/cli/ovn-k8s-overlay.js';
const WATCHER = 'dist/cli/ovn-k8s-watcher.js';

const tmp = tempDir('wkc-');
const sandboxDir = join(tmp.dir, 'sb');
let info: SandboxInfo | undefined;
const started: number[] = [];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], timeoutMs = 30_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  if (!existsSync(UTIL) || !existsSync(WATCHER) || !existsSync(OVERLAY))
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { timeoutMs: 120_000 });
}, 130_000);

afterAll(async () => {
  for (const pid of started) await stopPid(pid);
  if (existsSync(sandboxDir)) await node([UTIL, 'sandbox', 'stop', '--dir', sandboxDir]);
  tmp.cleanup();
});

describe('ovn-k8s-watcher failures are one line and a non-zero exit', () => {
  it('an unknown flag', async () => {
    const r = await node([WATCHER, '--overlay', '--no-such-flag']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('a bad cluster subnet, and a missing --overlay', async () => {
    const bad = await node([WATCHER, '--overlay', '--cluster-subnets', '10.0.0.0/33']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--cluster-subnets');
    const mode = await node([WATCHER]);
    expect(mode.code).toBe(1);
    expect(mode.stderr).toContain('--overlay is required');
  });

  it('an unreachable NB database', async () => {
    const r = await node([
      WATCHER,
      '--overlay',
      '--nb-address',
      `unix:${join(tmp.dir, 'nothing.sock')}`,
      '--nb-timeout',
      '1',
      '--k8s-api-server',
      'http://127.0.0.1:9',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot reach the OVN northbound database');
    expect(r.stdout).toBe('');
  });
});

describe('sandbox, master-init and the watcher as processes', () => {
  it('sandbox start prints where NB, SB and the kubeconfig are, with live pids', async () => {
    const r = await node([UTIL, 'sandbox', 'start', '--dir', sandboxDir]);
    expect(r.code, r.stderr).toBe(0);
    info = JSON.parse(r.stdout) as SandboxInfo;
    expect(info.nb).toMatch(/^unix:/);
    expect(info.sb).toMatch(/^unix:/);
    expect(existsSync(info.kubeconfig)).toBe(true);
    for (const pid of Object.values(info.pids)) expect(await isAlive(pid)).toBe(true);
  }, 60_000);

  it('an unreachable Kubernetes API is one line and a non-zero exit too', async () => {
    const r = await node([
      WATCHER,
      '--overlay',
      '--nb-address',
      info!.nb,
      '--k8s-api-server',
      'http://127.0.0.1:9',
      '--k8s-timeout',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot list from the Kubernetes API at http://127.0.0.1:9');
  });

  it('master-init creates the cluster and writes nothing the second time', async () => {
    const args = [
      OVERLAY,
      'master-init',
      '--cluster-ip-subnet',
      '10.128.0.0/14/23',
      '--node-name',
      'n1',
      '--nb-address',
      info!.nb,
    ];
    const first = await node(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/operations committed/);
    const second = await node(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing written');
  });

  it('runs in the foreground with pidfile and JSON log file, and stops cleanly on SIGTERM', async () => {
    const kc = resolveConnection({ flags: { kubeconfig: info!.kubeconfig }, env: {} }).kubeConfig;
    const api = kc.makeApiClient(CoreV1Api);
    await api.createNode({ body: sampleNode('n1', '172.18.0.11') });
    await api.createNamespacedPod({ namespace: 'default', body: samplePod('default', 'p1', 'n1', 'p') });
    const pidfile = join(tmp.dir, 'w.pid');
    const logFile = join(tmp.dir, 'w.log');
    const child = spawn(
      process.execPath,
      [
        WATCHER,
        '--overlay',
        '--nb-address',
        info!.nb,
        '--kubeconfig',
        info!.kubeconfig,
        `--pidfile=${pidfile}`,
        `--log-file=${logFile}`,
      ],
      { stdio: 'ignore' },
    );
    started.push(child.pid!);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor('p1 annotated', async () => {
      const pod = await api.readNamespacedPod({ namespace: 'default', name: 'p1' });
      return podNetworkFromAnnotation(pod) !== undefined;
    });
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(child.pid));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['watcher started', 'watcher stopped']));
  }, 60_000);

  it('--detach returns once the background watcher is up; it serves and stops by its pid', async () => {
    const pidfile = join(tmp.dir, 'wd.pid');
    const r = await node([
      WATCHER,
      '--overlay',
      '--nb-address',
      info!.nb,
      '--kubeconfig',
      info!.kubeconfig,
      `--pidfile=${pidfile}`,
      `--log-file=${join(tmp.dir, 'wd.log')}`,
      '--detach',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    started.push(pid);
    expect(await isAlive(pid)).toBe(true);
    const kc = resolveConnection({ flags: { kubeconfig: info!.kubeconfig }, env: {} }).kubeConfig;
    const api = kc.makeApiClient(CoreV1Api);
    await api.createNamespacedPod({ namespace: 'default', body: samplePod('default', 'p2', 'n1', 'p') });
    await waitFor(
      'p2 annotated by the detached watcher',
      async () =>
        podNetworkFromAnnotation(await api.readNamespacedPod({ namespace: 'default', name: 'p2' })) !==
        undefined,
    );
    await stopPid(pid);
    expect(existsSync(pidfile)).toBe(false);
  }, 60_000);

  it('sandbox stop stops every process by pid', async () => {
    const r = await node([UTIL, 'sandbox', 'stop', '--dir', sandboxDir]);
    expect(r.code, r.stderr).toBe(0);
    for (const pid of Object.values(info!.pids)) expect(await isAlive(pid)).toBe(false);
  }, 60_000);
});
