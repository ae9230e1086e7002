/** ssl: remotes against a real ovsdb-server serving pssl:, with certificates made here by openssl. */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { OvsdbConnectError, OvsdbError } from '../../src/ovsdb/errors.js';
import { connectRemote, type TlsOptions } from '../../src/ovsdb/remote/connect.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { issue, makeCa } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let srv: OvsdbServer;
let good: TlsOptions;
let otherCa: TlsOptions;
let untrustedClient: TlsOptions;

beforeAll(async () => {
  tmp = tempDir('h1s-');
  const ca = await makeCa(tmp.dir, 'main');
  const server = await issue(tmp.dir, ca, 'server');
  const client = await issue(tmp.dir, ca, 'client');
  const rogueCa = await makeCa(tmp.dir, 'rogue');
  const rogueClient = await issue(tmp.dir, rogueCa, 'rogueclient');
  srv = await startOvsdbServer({
    dir: tmp.dir,
    name: 'nb',
    tls: { privateKey: server.key, certificate: server.cert, caCert: ca.cert },
  });
  good = { privateKey: client.key, certificate: client.cert, caCert: ca.cert };
  otherCa = { privateKey: rogueClient.key, certificate: rogueClient.cert, caCert: rogueCa.cert };
  // trusts the server, but presents a certificate the server's CA did not sign
  untrustedClient = { privateKey: rogueClient.key, certificate: rogueClient.cert, caCert: ca.cert };
});

afterAll(async () => {
  await srv?.stop();
  tmp?.cleanup();
});

describe('TLS', () => {
  it('connects with ssl: and the CA that signed the server certificate (chain checked, not the IP)', async () => {
    expect(srv.tcp).toMatch(/^ssl:127\.0\.0\.1:\d+$/);
    const c = await OvsdbClient.connect(srv.tcp, { tls: good, probeIntervalMs: 0 });
    try {
      expect((await c.listDbs()).sort()).toEqual(['OVN_Northbound', '_Server']);
      const r = await c.transact('OVN_Northbound', [
        { op: 'insert', table: 'Logical_Switch', row: { name: 'tls' } },
      ]);
      expect(r).toHaveLength(1);
      const updates = await c.monitorCond('OVN_Northbound', 'm', { Logical_Switch: [{ columns: ['name'] }] });
      expect(Object.values(updates.Logical_Switch ?? {})).toEqual([{ initial: { name: 'tls' } }]);
    } finally {
      c.close();
    }
  });

  it('refuses a server whose certificate was not signed by our CA, with a clear error', async () => {
    const err = await OvsdbClient.connect(srv.tcp, { tls: otherCa, probeIntervalMs: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OvsdbConnectError);
    expect((err as Error).message).toMatch(/cannot connect to ssl:127\.0\.0\.1:\d+: .*certificate/);
    expect((err as Error).message).toMatch(/did not verify against CA .*rogue-ca\.pem/);
  });

  it('a client certificate the server does not trust ends the session with a named error', async () => {
    let err: unknown;
    try {
      const c = await OvsdbClient.connect(srv.tcp, { tls: untrustedClient, probeIntervalMs: 0 });
      // with TLS 1.3 the server's verdict on our certificate arrives after the handshake
      err = await c.listDbs().catch((e: unknown) => e);
      c.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OvsdbError);
    expect((err as Error).message).toMatch(/ssl:127\.0\.0\.1:\d+/);
  });

  it('with checkHostname the certificate must also name the host', async () => {
    const err = await connectRemote(srv.tcp, { tls: { ...good, checkHostname: true } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OvsdbConnectError);
    expect((err as Error).message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|does not match/);
  });

  it('gives up after the connect timeout when the handshake never completes', async () => {
    // a plain TCP listener that never answers the TLS ClientHello
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as { port: number }).port;
      const err = await connectRemote(`ssl:127.0.0.1:${port}`, { tls: good, connectTimeoutMs: 200 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OvsdbConnectError);
      expect((err as Error).message).toMatch(/no connection within 200 ms/);
    } finally {
      silent.close();
    }
  });
});
