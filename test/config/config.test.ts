import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/util/config.js';
import {
  ConfigError,
  describeConfig,
  formatConfigTable,
  loadConfig,
  parseIni,
  readOvsExternalIds,
  resolveConfig,
} from '../../src/config/index.js';
import { startOvsdbServer, VSWITCH_SCHEMA, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { run } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('cfg-');
afterAll(() => tmp.cleanup());

describe('INI file', () => {
  it('parses the original ovn_k8s.conf dialect', () => {
    const s = parseIni(
      [
        '# comment',
        '[default]',
        'MTU = 1500',
        'ovn_mode: overlay',
        '; other comment',
        'cni_plugin=ovn_cni',
        '  continued',
        '[other]',
        'x=1',
      ].join('\n'),
    );
    expect(s.default).toEqual({ mtu: '1500', ovn_mode: 'overlay', cni_plugin: 'ovn_cni\ncontinued' });
    expect(s.other).toEqual({ x: '1' });
  });

  it('rejects lines that are neither sections nor key/value pairs', () => {
    expect(() => parseIni('[default]\njunk line\n', 'f.conf')).toThrow(/f.conf:2/);
    expect(() => parseIni('mtu=1\n', 'f.conf')).toThrow(/before any \[section\]/);
  });
});

describe('layering', () => {
  const conf = join(tmp.dir, 'ovn_k8s.conf');
  beforeAll(() => {
    writeFileSync(
      conf,
      [
        '[default]',
        'mtu = 1500',
        'conntrack_zone = 65000',
        'nb_address = tcp:10.0.0.9:6641',
        'k8s_api_token = from-ini',
        'bogus = 1',
      ].join('\n'),
    );
  });

  it('takes flag > env > INI > OVS external_ids > default, recording the source', () => {
    const cfg = loadConfig({
      configFile: conf,
      flags: { mtu: '9000' },
      env: { OVN_K8S_CONNTRACK_ZONE: '64500', OVN_K8S_API_TOKEN: 'from-env' },
      ovsExternalIds: {
        'ovn-nb': 'tcp:1.1.1.1:6641',
        'k8s-api-server': '10.0.0.1:8080',
        'system-id': 'chassis-1',
      },
    });
    expect(cfg.int('mtu')).toBe(9000);
    expect(cfg.source('mtu')).toMatchObject({ source: 'flag', origin: '--mtu' });
    expect(cfg.int('conntrack_zone')).toBe(64500);
    expect(cfg.source('conntrack_zone')).toMatchObject({ source: 'env', origin: 'OVN_K8S_CONNTRACK_ZONE' });
    expect(cfg.string('nb_address')).toBe('tcp:10.0.0.9:6641');
    expect(cfg.source('nb_address')?.source).toBe('ini');
    expect(cfg.string('k8s_api_token')).toBe('from-env');
    expect(cfg.string('k8s_api_server')).toBe('10.0.0.1:8080');
    expect(cfg.source('k8s_api_server')).toMatchObject({
      source: 'ovs-external-ids',
      origin: 'Open_vSwitch external_ids:k8s-api-server',
    });
    expect(cfg.string('cni_conf_path')).toBe('/etc/cni/net.d');
    expect(cfg.source('cni_conf_path')?.source).toBe('default');
    expect(cfg.string('cluster_subnets')).toBeUndefined();
    expect(cfg.warnings.join()).toContain('unknown key "bogus"');
  });

  it('keeps the original defaults when nothing is configured', () => {
    const cfg = loadConfig({ configFile: join(tmp.dir, 'missing.conf'), env: {} });
    expect(cfg.int('mtu')).toBe(1400);
    expect(cfg.int('conntrack_zone')).toBe(64000);
    expect(cfg.string('unix_socket')).toBe('/var/run/openvswitch/ovnnb_db.sock');
    expect(cfg.string('k8s_ca_certificate')).toBe('/etc/openvswitch/k8s-ca.crt');
    expect(cfg.configFile).toBeUndefined();
  });

  it('fails on an explicit missing file and on a non-integer', () => {
    expect(() =>
      loadConfig({ configFile: join(tmp.dir, 'nope.conf'), configFileExplicit: true, env: {} }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ configFile: conf, env: {}, flags: { mtu: 'big' } })).toThrow(
      /--mtu: mtu must be an integer/,
    );
  });

  it('masks secrets when printed', () => {
    const cfg = loadConfig({ configFile: conf, env: {} });
    const token = describeConfig(cfg).find((r) => r.key === 'k8s_api_token')!;
    expect(token.value).toBe('<redacted, 8 characters>');
    expect(formatConfigTable(cfg)).not.toContain('from-ini');
    expect(formatConfigTable(cfg)).toMatch(/nb_address\s+tcp:10\.0\.0\.9:6641\s+ini/);
  });
});

describe('Open_vSwitch external_ids from a real ovsdb-server', () => {
  let ovs: OvsdbServer;
  beforeAll(async () => {
    ovs = await startOvsdbServer({ dir: tmp.dir, name: 'ovs', schema: VSWITCH_SCHEMA });
    const db = `--db=${ovs.unix}`;
    await run('ovs-vsctl', [db, '--no-wait', 'init']);
    await run('ovs-vsctl', [
      db,
      '--no-wait',
      'set',
      'Open_vSwitch',
      '.',
      'external_ids:ovn-nb="tcp:192.0.2.10:6641"',
      'external_ids:k8s-api-server="https://192.0.2.1:6443"',
      'external_ids:k8s-api-token=s3cr3t-token',
      'external_ids:system-id=node-a',
    ]);
  });
  afterAll(async () => {
    await ovs?.stop();
  });

  it('reads them through our OVSDB client', async () => {
    const ids = await readOvsExternalIds(ovs.unix);
    expect(ids).toMatchObject({
      'ovn-nb': 'tcp:192.0.2.10:6641',
      'k8s-api-token': 's3cr3t-token',
      'system-id': 'node-a',
    });
  });

  it('uses them as the lowest layer, under flags', async () => {
    const cfg = await resolveConfig({
      ovsDb: ovs.unix,
      env: {},
      configFile: join(tmp.dir, 'none.conf'),
      flags: { system_id: 'override' },
    });
    expect(cfg.string('nb_address')).toBe('tcp:192.0.2.10:6641');
    expect(cfg.source('nb_address')?.source).toBe('ovs-external-ids');
    expect(cfg.string('system_id')).toBe('override');
  });

  it('fails clearly when an explicit database is unreachable', async () => {
    await expect(resolveConfig({ ovsDb: `unix:${tmp.dir}/nothing.sock`, env: {} })).rejects.toThrow(
      /cannot read Open_vSwitch external_ids/,
    );
  });

  it('`ovn-k8s-util config` prints value, source and origin, secrets masked', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      out.push(String(c));
      return true;
    });
    try {
      const program = new Command().exitOverride();
      register(program);
      await program.parseAsync([
        'node',
        'x',
        'config',
        '--ovs-db',
        ovs.unix,
        '--config-file',
        join(tmp.dir, 'ovn_k8s.conf'),
        '--json',
        '--mtu',
        '1450',
      ]);
    } finally {
      spy.mockRestore();
    }
    const doc = JSON.parse(out.join('')) as {
      values: { key: string; value: string; source: string; origin: string }[];
    };
    const by = new Map(doc.values.map((v) => [v.key, v]));
    expect(by.get('mtu')).toMatchObject({ value: '1450', source: 'flag' });
    expect(by.get('conntrack_zone')).toMatchObject({ value: '65000', source: 'ini' });
    expect(by.get('system_id')).toMatchObject({ value: 'node-a', source: 'ovs-external-ids' });
    expect(by.get('k8s_api_token')?.value).toMatch(/^<redacted/);
    expect(out.join('')).not.toContain('s3cr3t');
    expect(out.join('')).not.toContain('from-ini');
  });
});
