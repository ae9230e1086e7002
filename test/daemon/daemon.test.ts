import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdNotify, sendControl } from '../../src/daemon/index.js';
import { isAlive, stopPid, waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = join(import.meta.dirname, 'fixture-daemon.ts');

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runFixture(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const tmp = tempDir('dmn-');
const started: number[] = [];
afterAll(async () => {
  for (const pid of started) await stopPid(pid);
  tmp.cleanup();
});

describe('--detach, --pidfile, --log-file, control socket', () => {
  const pidfile = join(tmp.dir, 'd.pid');
  const log = join(tmp.dir, 'd.log');
  const ctl = join(tmp.dir, 'd.ctl');
  let pid = 0;

  beforeAll(async () => {
    const r = await runFixture(['--detach', `--pidfile=${pidfile}`, `--log-file=${log}`, `--ctl=${ctl}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    pid = Number(readFileSync(pidfile, 'utf8').trim());
    started.push(pid);
  });

  it('leaves a background process that owns the pidfile after the parent exited', async () => {
    expect(pid).toBeGreaterThan(0);
    expect(await isAlive(pid)).toBe(true);
    const status = (await sendControl(ctl, 'status')) as Record<string, unknown>;
    expect(status).toMatchObject({ name: 'fixture-daemon', pid, ready: true, leader: true });
  });

  it('refuses a second instance while the pid in the pidfile is alive', async () => {
    const r = await runFixture(['--detach', `--pidfile=${pidfile}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`pid ${pid}`);
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(pid));
  });

  it('runs registered commands and answers errors for unknown ones', async () => {
    expect(await sendControl(ctl, 'resync')).toEqual({ resyncs: 1 });
    await expect(sendControl(ctl, 'nonsense')).rejects.toThrow(/unknown command/);
    await expect(sendControl(ctl, 'loglevel', ['loud'])).rejects.toThrow(/unknown log level/);
    expect(await sendControl(ctl, 'help')).toHaveProperty('resync');
  });

  it('reopens the log file on SIGHUP (logrotate) and honours loglevel', async () => {
    expect(readFileSync(log, 'utf8')).toContain('fixture-daemon ready');
    renameSync(log, `${log}.1`);
    process.kill(pid, 'SIGHUP');
    await waitFor(
      'new log file',
      async () => existsSync(log) && readFileSync(log, 'utf8').includes('reopened'),
    );
    expect(await sendControl(ctl, 'loglevel', ['debug'])).toBe('debug');
    await waitFor('debug ticks in the new file', async () => readFileSync(log, 'utf8').includes('"tick"'));
    expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('"tick"');
  });

  it('exits on the exit command and removes its pidfile and socket', async () => {
    expect(await sendControl(ctl, 'exit')).toBe('exiting');
    await waitFor('daemon gone', async () => !(await isAlive(pid)));
    expect(existsSync(pidfile)).toBe(false);
    expect(existsSync(ctl)).toBe(false);
  });
});

describe('start-up failures', () => {
  it('prints an error raised before ready and exits non-zero, without leaving a pidfile', async () => {
    const pidfile = join(tmp.dir, 'f.pid');
    const r = await runFixture(['--detach', `--pidfile=${pidfile}`, '--fail-startup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fixture-daemon: cannot reach the database at unix:/nonexistent');
    expect(existsSync(pidfile)).toBe(false);
  });

  it('reports a background process that died before finishing start-up', async () => {
    const r = await runFixture(['--detach', '--crash-startup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exited \(code 7\) before start-up finished/);
  });

  it('fails in the foreground too', async () => {
    const r = await runFixture(['--fail-startup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the database');
  });

  it('replaces a stale pidfile whose pid is dead', async () => {
    const pidfile = join(tmp.dir, 's.pid');
    const ctl = join(tmp.dir, 's.ctl');
    writeFileSync(pidfile, '999999999\n');
    const r = await runFixture(['--detach', `--pidfile=${pidfile}`, `--ctl=${ctl}`]);
    expect(r.code).toBe(0);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    started.push(pid);
    expect(pid).not.toBe(999999999);
    expect(await isAlive(pid)).toBe(true);
    await sendControl(ctl, 'exit');
    await waitFor('gone', async () => !(await isAlive(pid)));
  });
});

describe('systemd notification', () => {
  let listener: ChildProcess | undefined;
  afterAll(async () => {
    if (listener?.pid) await stopPid(listener.pid);
  });

  it('sends READY=1 to NOTIFY_SOCKET once ready and STOPPING=1 on SIGTERM', async () => {
    const sock = join(tmp.dir, 'notify.sock');
    const script = [
      'import socket,sys',
      's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      "print('LISTENING',flush=True)",
      'while True:',
      '  d=s.recv(65536)',
      "  print(d.decode().replace(chr(10),'|'),flush=True)",
    ].join('\n');
    listener = spawn('/usr/bin/python3', ['-c', script, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    listener.stdout!.on('data', (c: Buffer) => (heard += c.toString()));
    await waitFor('listener', async () => heard.includes('LISTENING'));

    const pidfile = join(tmp.dir, 'n.pid');
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, `--pidfile=${pidfile}`], {
      env: { ...process.env, NOTIFY_SOCKET: sock },
      stdio: 'ignore',
    });
    started.push(child.pid!);
    await waitFor('READY=1', async () => heard.includes('READY=1'));
    expect(heard).toMatch(/READY=1\|STATUS=synced\|MAINPID=\d+/);
    expect(heard).toContain(`MAINPID=${child.pid}`);
    expect(heard).not.toContain('STOPPING=1');
    child.kill('SIGTERM');
    await waitFor('STOPPING=1', async () => heard.includes('STOPPING=1'));
    await waitFor('exit', async () => !(await isAlive(child.pid!)));
    expect(existsSync(pidfile)).toBe(false);
  });

  it('falls back to python3 when systemd-notify is missing, and does nothing without NOTIFY_SOCKET', async () => {
    const sock = join(tmp.dir, 'notify2.sock');
    const script = [
      'import socket,sys',
      's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      "print('LISTENING',flush=True)",
      "print(s.recv(65536).decode().replace(chr(10),'|'),flush=True)",
    ].join('\n');
    const l = spawn('/usr/bin/python3', ['-c', script, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    l.stdout!.on('data', (c: Buffer) => (heard += c.toString()));
    try {
      await waitFor('listener', async () => heard.includes('LISTENING'));
      expect(
        await sdNotify(
          { READY: 1, STATUS: 'two\nlines' },
          { env: { NOTIFY_SOCKET: sock }, helpers: ['python3'] },
        ),
      ).toBe(true);
      await waitFor('datagram', async () => heard.includes('READY=1'));
      expect(heard).toContain('READY=1|STATUS=two lines');
      expect(await sdNotify({ READY: 1 }, { env: {} })).toBe(false);
    } finally {
      await stopPid(l.pid!);
    }
  });
});
