/**
 * client-node API objects (CoreV1Api, CustomObjectsApi, ...) whose connections are kept alive.
 *
 * Why not `kc.makeApiClient`: in client-node 1.4 the KubeConfig, as the request authenticator,
 * builds a new http(s).Agent for every request, so every call opens a new TCP connection (and,
 * against a real API server, a new TLS handshake) and closes it after one answer. A controller
 * that annotates 100,000 pods spent a tenth of its CPU connecting and tearing down sockets.
 *
 * The fix stays inside client-node's own extension points: the configuration is built with
 * `createConfiguration` like makeApiClient does, and its authenticator delegates to the
 * KubeConfig (token, client certificates, exec plugins all unchanged), then swaps the one-shot
 * agent for a pooled keep-alive agent with the same TLS options. A credential that changes (a
 * rotated client certificate) gets a pool of its own. Proxy agents are left as client-node makes them.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  ServerConfiguration,
  createConfiguration,
  type Configuration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';

/** How many connections one pool opens to the API server at most; requests beyond wait their turn. */
export const MAX_SOCKETS_PER_POOL = 64;

/** The agent options that decide which server identity and client credentials a connection carries. */
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function fingerprint(secure: boolean, options: Record<string, unknown>): string {
  // plain values (no certificates: plain HTTP, or a token over TLS with the system CAs) make the
  // key as they are; certificate material is hashed rather than kept as a long key
  let plain = secure ? 'https' : 'http';
  let material: Array<string | Buffer> | undefined;
  for (const k of TLS_KEYS) {
    const v = options[k];
    if (v === undefined || v === null) continue;
    if (Buffer.isBuffer(v) || (typeof v === 'string' && v.length > 64)) (material ??= []).push(k, v);
    else plain += `\0${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
  }
  if (!material) return plain;
  const h = createHash('sha256').update(plain);
  for (const m of material) h.update('\0').update(m);
  return `${plain}\0${h.digest('base64')}`;
}

/** The KubeConfig's authentication with pooled keep-alive agents instead of one agent per request. */
export class PooledAuthentication implements SecurityAuthentication {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly kc: KubeConfig) {}

  getName(): string {
    return 'ovn-k8s-pooled-kubeconfig';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    // only plain agents are pooled; a proxy agent keeps client-node's own handling
    const secure = fresh?.constructor === https.Agent;
    if (!fresh || (!secure && fresh.constructor !== http.Agent)) return;
    const options = (fresh as unknown as { options?: Record<string, unknown> }).options ?? {};
    const key = fingerprint(secure, options);
    let pooled = this.agents.get(key);
    if (!pooled) {
      const keepAlive = {
        ...options,
        keepAlive: true,
        maxSockets: MAX_SOCKETS_PER_POOL,
        scheduling: 'lifo' as const,
      };
      pooled = secure ? new https.Agent(keepAlive) : new http.Agent(keepAlive);
      this.agents.set(key, pooled);
    }
    fresh.destroy();
    context.setAgent(pooled);
  }

  /** Closes idle pooled connections (in-flight requests finish first). */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /** Number of pools (one per distinct server identity and credential). */
  get pools(): number {
    return this.agents.size;
  }
}

const authByConfig = new WeakMap<KubeConfig, PooledAuthentication>();

/** The pooled authenticator of `kc` (one per KubeConfig, so all its API objects share connections). */
export function pooledAuthentication(kc: KubeConfig): PooledAuthentication {
  let auth = authByConfig.get(kc);
  if (!auth) {
    auth = new PooledAuthentication(kc);
    authByConfig.set(kc, auth);
  }
  return auth;
}

/** Like `kc.makeApiClient(apiClass)`, with the connections of all API objects of `kc` kept alive and shared. */
export function makeApiClient<T>(kc: KubeConfig, apiClass: new (config: Configuration) => T): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster in the kubeconfig');
  return new apiClass(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: pooledAuthentication(kc) },
    }),
  );
}
