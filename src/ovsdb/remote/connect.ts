/**
 * Opens a byte stream to one OVSDB remote: a unix or TCP socket, or TLS over TCP.
 *
 * TLS follows OVS: the server's certificate chain must verify against the configured CA
 * certificate, but the host name / IP is not matched against the certificate by default,
 * because OVS certificates (made by ovs-pki) name the switch, not its address. Set
 * `checkHostname` to also require the certificate to name the host.
 */
import { readFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, checkServerIdentity, type TLSSocket } from 'node:tls';
import { OvsdbConnectError } from '../errors.js';
import { formatRemote, parseRemote, type Remote } from './parse.js';

export interface TlsOptions {
  /** PEM private key file (OVS --private-key) */
  privateKey: string;
  /** PEM certificate file (OVS --certificate) */
  certificate: string;
  /** PEM CA certificate file that must have signed the server's certificate (OVS --ca-cert) */
  caCert: string;
  /** also check that the server certificate names the host (default false, like OVS) */
  checkHostname?: boolean;
}

export interface ConnectOptions {
  /** give up connecting after this many ms (default 10 000) */
  connectTimeoutMs?: number;
  /** required for ssl: remotes */
  tls?: TlsOptions;
}

/** Connects to one remote (a Remote or its string form) and resolves once the stream is ready to use. */
export async function connectRemote(remote: Remote | string, opts: ConnectOptions = {}): Promise<Duplex> {
  const r = typeof remote === 'string' ? parseRemote(remote) : remote;
  const name = formatRemote(r);
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  if (r.kind === 'unix') {
    // sockaddr_un holds 108 bytes including the terminating NUL
    if (Buffer.byteLength(r.path) > 107) {
      throw new OvsdbConnectError(name, 'unix socket path is longer than 107 bytes');
    }
    return waitReady(netConnect({ path: r.path }), 'connect', name, timeoutMs);
  }
  if (r.kind === 'tcp') {
    const sock = netConnect({ host: r.host, port: r.port });
    sock.setNoDelay(true);
    return waitReady(sock, 'connect', name, timeoutMs);
  }
  if (!opts.tls)
    throw new OvsdbConnectError(
      name,
      'an ssl: remote needs TLS options (private key, certificate, CA certificate)',
    );
  const tls = opts.tls;
  let key: Buffer, cert: Buffer, ca: Buffer;
  try {
    [key, cert, ca] = await Promise.all([
      readFile(tls.privateKey),
      readFile(tls.certificate),
      readFile(tls.caCert),
    ]);
  } catch (err) {
    throw new OvsdbConnectError(name, `cannot read TLS files: ${(err as Error).message}`, { cause: err });
  }
  let sock: TLSSocket;
  try {
    sock = tlsConnect({
      host: r.host,
      port: r.port,
      key,
      cert,
      ca,
      rejectUnauthorized: true,
      // SNI must be a host name, never an IP literal
      ...(isIpLiteral(r.host) ? {} : { servername: r.host }),
      checkServerIdentity: tls.checkHostname ? checkServerIdentity : () => undefined,
    });
  } catch (err) {
    // unparsable PEM is reported synchronously by tls.connect
    throw new OvsdbConnectError(name, `bad TLS key or certificate files: ${(err as Error).message}`, {
      cause: err,
    });
  }
  sock.setNoDelay(true);
  return waitReady(sock, 'secureConnect', name, timeoutMs, tls.caCert);
}

const isIpLiteral = (h: string): boolean => /^[0-9.]+$/.test(h) || h.includes(':');

function waitReady<S extends Socket | TLSSocket>(
  sock: S,
  readyEvent: 'connect' | 'secureConnect',
  name: string,
  timeoutMs: number,
  caFile?: string,
): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            cleanup();
            sock.destroy();
            reject(new OvsdbConnectError(name, `no connection within ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
    const onError = (err: Error & { code?: string }) => {
      cleanup();
      sock.destroy();
      const hint =
        caFile && /certificate|self.signed|verify|CERT/i.test(`${err.code ?? ''} ${err.message}`)
          ? ` (the server certificate did not verify against CA ${caFile})`
          : '';
      reject(new OvsdbConnectError(name, `${err.message}${hint}`, { cause: err }));
    };
    const onClose = () => onError(new Error('connection closed during the handshake'));
    const onReady = () => {
      cleanup();
      resolve(sock);
    };
    function cleanup() {
      if (timer) clearTimeout(timer);
      sock.off('error', onError);
      sock.off('close', onClose);
      sock.off(readyEvent, onReady);
    }
    sock.once('error', onError);
    sock.once('close', onClose);
    sock.once(readyEvent, onReady);
  });
}
