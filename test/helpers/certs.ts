/** Test certificates made with the openssl command: a CA and certificates it signs. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/runtime/process.js';

/** P-256 keys: accepted by ovsdb-server and Node's TLS, and made in milliseconds (RSA takes far longer). */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { env: { ...process.env, RANDFILE: join(dir, '.rnd') } });
}

/** A CA, and a key + certificate it signed (no IP in the certificate, like ovs-pki makes them). */
export async function makeCa(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}-ca.key`);
  const cert = join(dir, `${name}-ca.pem`);
  await openssl(
    dir,
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
  );
  return { key, cert };
}

export async function issue(
  dir: string,
  ca: { key: string; cert: string },
  name: string,
): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=DNS:${name}.example\n`);
  await openssl(dir, 'req', ...EC_KEY, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  );
  return { key, cert };
}
