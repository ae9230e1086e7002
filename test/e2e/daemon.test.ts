/**
 * The real `ovn-k8s-watcher` as a daemon: sd_notify READY=1 only once its caches are synced, the
 * control socket through `ovn-k8s-util ctl` (status, loglevel, resync, config, exit), the log file
 * reopened on SIGHUP, --detach with --pidfile (and refusing a live pidfile), one-line start-up
 * errors through --detach, and the configuration layers flag > env > INI > Open_vSwitch
 * external_ids as the live watcher sees them. Real NB/SB/northd, the in-process simulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { startOvsdbServer, VSWITCH_SCHEMA, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { isAlive, run, stopPid, waitFor } from '../../src/runtime/process.js';
import { SAMPLE_CLUSTER_SUBNET, createSampleCluster } from '../../src/sandbox/sample-cluster.js';
import { tempDir } from '../helpers/tmp.js';
import {
  UTIL,
  WATCHER,
  ensureBuilt,
  spawnWatcher,
  statusOf,
  type WatcherProcess,
} from './watcher-process.js';

const tmp = tempDir('wdm-');
let central: OvnCentral;
let sim: K8sSim;
const pids: number[] = [];
const listeners: ChildProcess[] = [];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
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

const ctl = (socket: string, ...args: string[]) => node([UTIL, 'ctl', '--target', socket, ...args]);

const baseArgs = () => [
  '--nb-address',
  central.nb.unix,
  '--k8s-api-server',
  sim.url,
  '--cluster-subnets',
  SAMPLE_CLUSTER_SUBNET,
];

beforeAll(async () => {
  await ensureBuilt();
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  sim = await startK8sSim({ controllers: { endpointSlices: true, kubelet: true }, bookmarkIntervalMs: 200 });
  const kc = resolveConnection({
    flags: { server: sim.url },
    env: {},
    serviceAccountDir: '/nonexistent',
  }).kubeConfig;
  await createSampleCluster(kc);
}, 120_000);

afterAll(async () => {
  for (const pid of pids) if (await isAlive(pid)) await stopPid(pid);
  for (const l of listeners) if (l.pid && (await isAlive(l.pid))) await stopPid(l.pid);
  await sim?.stop();
  await central?.stop();
  tmp.cleanup();
});

describe('the watcher in the foreground (systemd Type=notify, containers)', () => {
  let w: WatcherProcess;

  it('sends READY=1 to NOTIFY_SOCKET only once its caches are synced', async () => {
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
    const listener = spawn('/usr/bin/python3', ['-c', script, sock], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    listeners.push(listener);
    let heard = '';
    listener.stdout!.on('data', (c: Buffer) => (heard += c.toString()));
    await waitFor('listener', async () => heard.includes('LISTENING'));

    // a slow API server: the lists take seconds, so there is a window before the caches are synced
    sim.faults.setLatency(1500);
    w = spawnWatcher(tmp.dir, 'fg', baseArgs(), { NOTIFY_SOCKET: sock });
    pids.push(w.pid);
    const early = await waitFor('control socket answers', () => statusOf(w), 20_000, 50);
    expect(early.synced).toBe(false);
    expect(early.ready).toBe(false);
    expect(heard).not.toContain('READY=1');
    sim.faults.reset();
    await waitFor('READY=1', async () => heard.includes('READY=1'), 30_000);
    expect(heard).toMatch(/READY=1\|STATUS=synced, leading\|MAINPID=\d+/);
    expect(heard).toContain(`MAINPID=${w.pid}`);
    const s = await w.status();
    expect(s.synced).toBe(true);
    expect((s.caches as { nodes: number }).nodes).toBe(3);
  }, 60_000);

  it('answers `ovn-k8s-util ctl` status, loglevel, resync and config from the live watcher', async () => {
    const st = await ctl(w.ctl, 'status');
    expect(st.code, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({
      name: 'ovn-k8s-watcher',
      pid: w.pid,
      ready: true,
      synced: true,
      leader: true,
      leadershipKnown: true,
      electionMode: 'none',
      writing: true,
      nb: central.nb.unix,
    });
    expect(status.queue).toHaveProperty('depth');
    expect(typeof (status.queue as { depth: unknown }).depth).toBe('number');

    const lvl = await ctl(w.ctl, 'loglevel', 'debug');
    expect(lvl.stdout.trim()).toBe('debug');
    expect((await w.status()).logLevel).toBe('debug');
    const bad = await ctl(w.ctl, 'loglevel', 'loud');
    expect(bad.code).not.toBe(0);

    const before = (await w.status()).resyncs as number;
    const rs = await ctl(w.ctl, 'resync');
    expect(rs.stdout).toContain('full resync queued');
    expect((await w.status()).resyncs).toBe(before + 1);

    const cfg = await ctl(w.ctl, 'config');
    const values = JSON.parse(cfg.stdout) as { key: string; value: string; source: string }[];
    expect(values.find((v) => v.key === 'nb_address')).toMatchObject({
      value: central.nb.unix,
      source: 'flag',
    });
  }, 30_000);

  it('reopens its log file on SIGHUP (logrotate)', async () => {
    await waitFor('log written', async () => existsSync(w.log));
    renameSync(w.log, `${w.log}.1`);
    process.kill(w.pid, 'SIGHUP');
    await waitFor(
      'a new log file',
      async () => existsSync(w.log) && readFileSync(w.log, 'utf8').includes('reopened'),
    );
    expect(readFileSync(`${w.log}.1`, 'utf8')).toContain('watcher started');
  });

  it('stops on `ctl exit` and says so in its log', async () => {
    const r = await ctl(w.ctl, 'exit');
    expect(r.code).toBe(0);
    expect(await w.exited).toBe(0);
    expect(existsSync(w.ctl)).toBe(false);
    expect(readFileSync(w.log, 'utf8')).toContain('watcher stopped');
  }, 30_000);
});

describe('the watcher with --detach and --pidfile', () => {
  it('returns once the background watcher is up; a second one on the same pidfile is refused', async () => {
    const pidfile = join(tmp.dir, 'd.pid');
    const args = [
      WATCHER,
      '--overlay',
      '--no-ovs',
      ...baseArgs(),
      `--pidfile=${pidfile}`,
      `--log-file=${join(tmp.dir, 'd.log')}`,
      `--ctl-socket=${join(tmp.dir, 'd.ctl')}`,
      '--metrics-address',
      '127.0.0.1:0',
      '--detach',
    ];
    const r = await node(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    pids.push(pid);
    expect(await isAlive(pid)).toBe(true);
    const st = JSON.parse((await ctl(join(tmp.dir, 'd.ctl'), 'status')).stdout) as {
      pid: number;
      ready: boolean;
    };
    expect(st).toMatchObject({ pid, ready: true });

    const again = await node(
      args.map((a) => (a.startsWith('--ctl-socket') ? `--ctl-socket=${join(tmp.dir, 'd2.ctl')}` : a)),
    );
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain(String(pid));
    expect(await isAlive(pid)).toBe(true);

    await stopPid(pid);
    await waitFor('pidfile removed', async () => !existsSync(pidfile));
  }, 60_000);

  it('a start-up error in the background copy is one line from the parent and a non-zero exit', async () => {
    const pidfile = join(tmp.dir, 'e.pid');
    const r = await node([
      WATCHER,
      '--overlay',
      '--no-ovs',
      '--nb-address',
      `unix:${join(tmp.dir, 'nothing.sock')}`,
      '--nb-timeout',
      '1',
      '--k8s-api-server',
      sim.url,
      `--pidfile=${pidfile}`,
      `--log-file=${join(tmp.dir, 'e.log')}`,
      `--ctl-socket=${join(tmp.dir, 'e.ctl')}`,
      '--metrics-address',
      '127.0.0.1:0',
      '--detach',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot reach the OVN northbound database');
    expect(existsSync(pidfile)).toBe(false);
  }, 30_000);
});

describe('configuration layers as the live watcher sees them', () => {
  let ovs: OvsdbServer | undefined;
  afterAll(async () => {
    await ovs?.stop();
  });

  it('flag > environment > INI file > Open_vSwitch external_ids > default', async () => {
    ovs = await startOvsdbServer({ dir: `${tmp.dir}/ovs`, name: 'ovs', schema: VSWITCH_SCHEMA });
    const db = `--db=${ovs.unix}`;
    await run('ovs-vsctl', [db, '--no-wait', 'init']);
    await run('ovs-vsctl', [
      db,
      '--no-wait',
      'set',
      'Open_vSwitch',
      '.',
      `external_ids:ovn-nb="${central.nb.unix}"`,
      `external_ids:k8s-api-server="${sim.url}"`,
    ]);
    const ini = join(tmp.dir, 'ovn_k8s.conf');
    writeFileSync(
      ini,
      [
        '[default]',
        'lease_duration = 20',
        'renew_deadline = 9',
        'retry_period = 3',
        `cluster_subnets = ${SAMPLE_CLUSTER_SUBNET}`,
        '',
      ].join('\n'),
    );
    const env = { OVN_K8S_LEASE_DURATION: '19', OVN_K8S_RENEW_DEADLINE: '8' };
    const w = spawnWatcher(
      tmp.dir,
      'layers',
      ['--ovs-db', ovs.unix, '--config-file', ini, '--lease-duration', '18'],
      env,
    );
    pids.push(w.pid);
    try {
      const s = await waitFor(
        'ready',
        async () => ((await statusOf(w))?.ready ? statusOf(w) : undefined),
        30_000,
      );
      // the NB address and the API server came from external_ids, and it works with them
      expect(s!.nb).toBe(central.nb.unix);
      const live = JSON.parse((await ctl(w.ctl, 'config')).stdout) as {
        key: string;
        value: string;
        source: string;
      }[];
      const by = new Map(live.map((v) => [v.key, v]));
      expect(by.get('lease_duration')).toMatchObject({ value: '18', source: 'flag' });
      expect(by.get('renew_deadline')).toMatchObject({ value: '8', source: 'env' });
      expect(by.get('retry_period')).toMatchObject({ value: '3', source: 'ini' });
      expect(by.get('nb_address')).toMatchObject({ value: central.nb.unix, source: 'ovs-external-ids' });
      expect(by.get('k8s_api_server')).toMatchObject({ value: sim.url, source: 'ovs-external-ids' });
      expect(by.get('metrics_address')).toMatchObject({ source: 'flag' });
      expect(by.get('leader_election')).toMatchObject({ value: 'none', source: 'default' });

      // `ovn-k8s-util config` with the same inputs prints the same values and sources
      const printed = await node(
        [UTIL, 'config', '--json', '--ovs-db', ovs.unix, '--config-file', ini, '--lease-duration', '18'],
        env,
      );
      expect(printed.code, printed.stderr).toBe(0);
      const offline = new Map(
        (
          JSON.parse(printed.stdout) as { values: { key: string; value: string; source: string }[] }
        ).values.map((v) => [v.key, v]),
      );
      for (const key of ['lease_duration', 'renew_deadline', 'retry_period', 'nb_address', 'k8s_api_server'])
        expect(offline.get(key), key).toMatchObject({
          value: by.get(key)!.value,
          source: by.get(key)!.source,
        });
    } finally {
      await stopPid(w.pid);
    }
  }, 60_000);
});

describe('the systemd unit runs the real watcher', () => {
  it('ExecStart uses only flags `ovn-k8s-watcher --help` lists, in foreground mode with Type=notify', async () => {
    const unit = readFileSync('deploy/systemd/ovn-k8s-watcher.service', 'utf8');
    expect(unit).toMatch(/^Type=notify$/m);
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    expect(exec).toMatch(/\bovn-k8s-watcher --overlay\b/);
    expect(exec).not.toContain('--detach'); // systemd supervises the main pid itself
    const help = await node([WATCHER, '--help']);
    expect(help.code).toBe(0);
    const flags = [...exec.matchAll(/(--[a-z0-9-]+)/g)].map((m) => m[1]!);
    expect(flags.length).toBeGreaterThan(1);
    for (const f of flags) expect(help.stdout, f).toContain(f);
  });
});
