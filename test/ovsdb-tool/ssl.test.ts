/**
 * `ovn-k8s-util ovsdb-client` over ssl: with --private-key/--certificate/--ca-cert like the C
 * tool, against ovsdb-server serving pssl: with certificates made here by openssl (EC keys: quick to make).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { issue, makeCa } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';

const CLI = existsSync('dist/cli/util/ovsdb-client.js')
  ? ['dist/cli/ovn-k8s-util.js', 'ovsdb-client']
  : ['--import', 'tsx', 'src/cli/ovn-k8s-util.ts', 'ovsdb-client'];

function exec(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type Pki = Awaited<ReturnType<typeof makeCa>>;

let tmp: ReturnType<typeof tempDir>;
let server: OvsdbServer;
let ca: Pki;
let otherCa: Pki;
let client: Pki;

beforeAll(async () => {
  tmp = tempDir('ovs-');
  ca = await makeCa(tmp.dir, 'ca');
  otherCa = await makeCa(tmp.dir, 'other');
  const srvPki = await issue(tmp.dir, ca, 'server');
  client = await issue(tmp.dir, ca, 'client');
  server = await startOvsdbServer({
    dir: tmp.dir,
    name: 'nb',
    tls: { privateKey: srvPki.key, certificate: srvPki.cert, caCert: ca.cert },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  tmp?.cleanup();
});

describe('ssl: remotes', () => {
  const pkiArgs = (caCert: string) => ['-p', client.key, '-c', client.cert, '-C', caCert];

  it('prints what ovsdb-client prints for list-dbs and transact over ssl', async () => {
    const txn = JSON.stringify(['OVN_Northbound', { op: 'select', table: 'NB_Global', where: [] }]);
    for (const args of [
      ['list-dbs', server.tcp],
      ['transact', server.tcp, txn],
      ['list-tables', server.tcp, '--format=json'],
    ]) {
      const [a, b] = await Promise.all([
        exec('ovsdb-client', [...pkiArgs(ca.cert), ...args]),
        exec(process.execPath, [...CLI, ...args, ...pkiArgs(ca.cert)]),
      ]);
      expect(a.code).toBe(0);
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
    }
  }, 30_000);

  it('refuses a server whose certificate another CA signed, with one line on stderr', async () => {
    const r = await exec(process.execPath, [...CLI, 'list-dbs', server.tcp, ...pkiArgs(otherCa.cert)]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot connect to ssl:127\.0\.0\.1:\d+/);
  }, 30_000);
});
