/**
 * Pooled API clients over TLS with client certificates (the in-cluster and kubeadm case): the
 * kept-alive agent still verifies the server against the kubeconfig's CA and name, presents the
 * user's certificate, and a changed certificate gets a connection of its own. The server is a
 * plain node:https server answering one read, with certificates made by openssl.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApiClient, pooledAuthentication } from '../../src/k8s/api-client.js';
import { issue, makeCa } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let server: Server;
let url: string;
let ca: { key: string; cert: string };
let rogueCa: { key: string; cert: string };
let clientA: { key: string; cert: string };
let clientB: { key: string; cert: string };
let connections = 0;
/** the client certificate's CN of every request */
const seen: string[] = [];

beforeAll(async () => {
  tmp = tempDir('kct-');
  ca = await makeCa(tmp.dir, 'cluster');
  rogueCa = await makeCa(tmp.dir, 'rogue');
  const srv = await issue(tmp.dir, ca, 'apiserver');
  clientA = await issue(tmp.dir, ca, 'alice');
  clientB = await issue(tmp.dir, ca, 'bob');
  server = createServer(
    {
      key: readFileSync(srv.key),
      cert: readFileSync(srv.cert),
      ca: readFileSync(ca.cert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push(String(peer.subject?.CN ?? ''));
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } }),
      );
    },
  );
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  tmp?.cleanup();
});

/** A kubeconfig trusting `caFile`, naming the server as its certificate does, with `user`'s certificate. */
function kubeConfig(caFile: string, user: { key: string; cert: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, caFile, tlsServerName: 'apiserver.example', skipTLSVerify: false }],
    users: [{ name: 'u', certFile: user.cert, keyFile: user.key }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('makeApiClient over TLS', () => {
  it('verifies the server, presents the client certificate, and keeps one connection', async () => {
    const kc = kubeConfig(ca.cert, clientA);
    const api = makeApiClient(kc, CoreV1Api);
    const before = connections;
    seen.length = 0;
    for (let i = 0; i < 5; i++) {
      const pod = await api.readNamespacedPod({ namespace: 'default', name: 'p' });
      expect(pod.metadata?.name).toBe('p');
    }
    expect(seen).toEqual(Array(5).fill('alice'));
    expect(connections - before).toBe(1);
    pooledAuthentication(kc).close();
  });

  it('still refuses a server its CA did not sign', async () => {
    const kc = kubeConfig(rogueCa.cert, clientA);
    const api = makeApiClient(kc, CoreV1Api);
    await expect(api.readNamespacedPod({ namespace: 'default', name: 'p' })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
    pooledAuthentication(kc).close();
  });

  it('a changed client certificate gets its own pooled connection', async () => {
    const kc = kubeConfig(ca.cert, clientA);
    const api = makeApiClient(kc, CoreV1Api);
    seen.length = 0;
    await api.readNamespacedPod({ namespace: 'default', name: 'p' });
    // the credential rotates (a renewed certificate file, an exec plugin's new certificate)
    kc.users[0]!.certFile = clientB.cert;
    kc.users[0]!.keyFile = clientB.key;
    await api.readNamespacedPod({ namespace: 'default', name: 'p' });
    await api.readNamespacedPod({ namespace: 'default', name: 'p' });
    expect(seen).toEqual(['alice', 'bob', 'bob']);
    expect(pooledAuthentication(kc).pools).toBe(2);
    pooledAuthentication(kc).close();
  });
});
