import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { normalizeServerUrl, resolveConnection, unescapeCaCertificate } from '../../src/k8s/connection.js';
import { K8sConfigError } from '../../src/k8s/errors.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('k8sconn-');
afterAll(() => tmp.cleanup());

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\nline2\n-----END CERTIFICATE-----\n';
const noSa = join(tmp.dir, 'no-such-sa');

function serviceAccountDir(name: string, token = 'sa-token-123', ns = 'ovn-kubernetes'): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'ca.crt'), PEM);
  writeFileSync(join(dir, 'namespace'), `${ns}\n`);
  return dir;
}

function kubeconfigFile(name: string, server: string, token: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: c1`,
      `  cluster: {server: "${server}"}`,
      'users:',
      `- name: u1`,
      `  user: {token: "${token}"}`,
      'contexts:',
      `- name: ctx1`,
      `  context: {cluster: c1, user: u1, namespace: team-a}`,
      'current-context: ctx1',
      '',
    ].join('\n'),
  );
  return path;
}

async function authHeader(kc: KubeConfig): Promise<string | undefined> {
  const init = await kc.applyToFetchOptions({});
  const headers = init.headers as { get(name: string): string | null } | undefined;
  return headers?.get('authorization') ?? undefined;
}

describe('resolveConnection', () => {
  it('uses explicit server/token flags and a CA file', async () => {
    const caPath = join(tmp.dir, 'ca.pem');
    writeFileSync(caPath, PEM);
    const r = resolveConnection({
      flags: { server: 'https://10.0.0.1:6443', token: 'flag-token', caCert: caPath },
      env: {},
      serviceAccountDir: noSa,
    });
    expect(r.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(r.kubeConfig.getCurrentCluster()?.caFile).toBe(caPath);
    expect(await authHeader(r.kubeConfig)).toBe('Bearer flag-token');
    expect(r.description.server).toMatchObject({ source: 'flag', origin: '--server' });
    expect(r.description.token?.value).not.toContain('flag-token');
    expect(r.description.token?.source).toBe('flag');
  });

  it('reads OVN_K8S_* environment variables (and the K8S_* aliases)', async () => {
    const r = resolveConnection({
      env: { OVN_K8S_API_SERVER: '127.0.0.1:8080', OVN_K8S_API_TOKEN: 'env-token' },
      serviceAccountDir: noSa,
    });
    expect(r.kubeConfig.getCurrentCluster()?.server).toBe('http://127.0.0.1:8080');
    expect(await authHeader(r.kubeConfig)).toBe('Bearer env-token');
    expect(r.description.server).toMatchObject({ source: 'env', origin: 'OVN_K8S_API_SERVER' });

    const alias = resolveConnection({ env: { K8S_APISERVER: 'https://api:6443' }, serviceAccountDir: noSa });
    expect(alias.description.server).toMatchObject({ value: 'https://api:6443', origin: 'K8S_APISERVER' });
  });

  it('uses the in-cluster service account', async () => {
    const dir = serviceAccountDir('sa1');
    const r = resolveConnection({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: dir,
    });
    expect(r.kubeConfig.getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
    expect(r.kubeConfig.getCurrentCluster()?.caFile).toBe(join(dir, 'ca.crt'));
    expect(await authHeader(r.kubeConfig)).toBe('Bearer sa-token-123');
    expect(r.namespace).toBe('ovn-kubernetes');
    expect(r.description.token).toMatchObject({ source: 'service-account' });
  });

  it('falls back to Open_vSwitch external_ids: http:// default and "\\n" unescaping', async () => {
    const escaped = PEM.replace(/\n/g, '\\n');
    const r = resolveConnection({
      env: {},
      serviceAccountDir: noSa,
      ovsExternalIds: {
        'k8s-api-server': '192.168.1.10:8080',
        'k8s-api-token': 'ovs-token',
        'k8s-ca-certificate': escaped,
        'ovn-nb': 'tcp:1.2.3.4:6641',
      },
    });
    const cluster = r.kubeConfig.getCurrentCluster()!;
    expect(cluster.server).toBe('http://192.168.1.10:8080');
    expect(Buffer.from(cluster.caData!, 'base64').toString('utf8')).toBe(PEM);
    expect(await authHeader(r.kubeConfig)).toBe('Bearer ovs-token');
    expect(r.description.server).toMatchObject({
      source: 'ovs-external-ids',
      origin: 'external_ids:k8s-api-server',
    });
    expect(r.description.token?.value).not.toContain('ovs-token');
    expect(r.description.caCert?.source).toBe('ovs-external-ids');
  });

  it('keeps an https:// OVS server as is', () => {
    const r = resolveConnection({
      env: {},
      serviceAccountDir: noSa,
      ovsExternalIds: { 'k8s-api-server': 'https://k8s.example:6443' },
    });
    expect(r.kubeConfig.getCurrentCluster()?.server).toBe('https://k8s.example:6443');
  });

  it('applies precedence flags > env > service account > OVS, per setting', async () => {
    const dir = serviceAccountDir('sa2', 'sa-token');
    const all = {
      env: {
        OVN_K8S_API_SERVER: 'https://env:6443',
        OVN_K8S_API_TOKEN: 'env-token',
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      },
      serviceAccountDir: dir,
      ovsExternalIds: { 'k8s-api-server': 'ovs:8080', 'k8s-api-token': 'ovs-token' },
    };
    const withFlag = resolveConnection({ ...all, flags: { server: 'https://flag:6443' } });
    expect(withFlag.kubeConfig.getCurrentCluster()?.server).toBe('https://flag:6443');
    expect(await authHeader(withFlag.kubeConfig)).toBe('Bearer env-token'); // token: env beats SA and OVS
    expect(withFlag.description.caCert?.source).toBe('service-account'); // CA: only the SA has one

    const envOnly = resolveConnection(all);
    expect(envOnly.description.server.source).toBe('env');

    const saOnly = resolveConnection({
      ...all,
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
    });
    expect(saOnly.description.server.source).toBe('service-account');
    expect(await authHeader(saOnly.kubeConfig)).toBe('Bearer sa-token');

    const ovsOnly = resolveConnection({ ...all, env: {}, serviceAccountDir: noSa });
    expect(ovsOnly.description.server.source).toBe('ovs-external-ids');
    expect(await authHeader(ovsOnly.kubeConfig)).toBe('Bearer ovs-token');
  });

  it('takes a kubeconfig from the flag before KUBECONFIG, with a token flag on top', async () => {
    const a = kubeconfigFile('a.yaml', 'https://a:6443', 'tok-a');
    const b = kubeconfigFile('b.yaml', 'https://b:6443', 'tok-b');
    const fromEnv = resolveConnection({
      env: { KUBECONFIG: `${join(tmp.dir, 'missing')}:${b}` },
      serviceAccountDir: noSa,
    });
    expect(fromEnv.kubeConfig.getCurrentCluster()?.server).toBe('https://b:6443');
    expect(fromEnv.namespace).toBe('team-a');
    expect(fromEnv.description.kubeconfig).toMatchObject({ value: b, source: 'env' });

    const fromFlag = resolveConnection({
      flags: { kubeconfig: a },
      env: { KUBECONFIG: b },
      serviceAccountDir: noSa,
    });
    expect(fromFlag.kubeConfig.getCurrentCluster()?.server).toBe('https://a:6443');
    expect(await authHeader(fromFlag.kubeConfig)).toBe('Bearer tok-a');
    expect(fromFlag.description.token?.value).not.toContain('tok-a');

    const overridden = resolveConnection({
      flags: { kubeconfig: a, token: 'tok-flag' },
      env: {},
      serviceAccountDir: noSa,
    });
    expect(await authHeader(overridden.kubeConfig)).toBe('Bearer tok-flag');

    // A --server flag outranks KUBECONFIG from the environment.
    const serverFlag = resolveConnection({
      flags: { server: 'https://s:1' },
      env: { KUBECONFIG: b },
      serviceAccountDir: noSa,
    });
    expect(serverFlag.kubeConfig.getCurrentCluster()?.server).toBe('https://s:1');
  });

  it('fails with K8sConfigError when nothing is configured or the kubeconfig is missing', () => {
    expect(() => resolveConnection({ env: {}, serviceAccountDir: noSa })).toThrow(K8sConfigError);
    expect(() => resolveConnection({ flags: { kubeconfig: join(tmp.dir, 'nope') }, env: {} })).toThrow(
      /does not exist/,
    );
  });

  it('unescapes and normalizes', () => {
    expect(unescapeCaCertificate('a\\nb\\r\\nc')).toBe('a\nb\nc');
    expect(normalizeServerUrl('host')).toBe('http://host');
    expect(normalizeServerUrl('https://h:1/')).toBe('https://h:1');
  });
});

describe('resolveConnection against the simulator', () => {
  it("loads the simulator's plain-http kubeconfig and reaches it through client-node", async () => {
    const { startK8sSim } = await import('../../src/k8s/sim/index.js');
    const { resourceClient, NAMESPACES } = await import('../../src/k8s/resources.js');
    const sim = await startK8sSim();
    try {
      const path = join(tmp.dir, 'sim.kubeconfig');
      await sim.writeKubeconfig(path, 'kube-system');
      const r = resolveConnection({ flags: { kubeconfig: path }, env: {}, serviceAccountDir: noSa });
      expect(r.description.server).toMatchObject({ value: sim.url, source: 'kubeconfig' });
      expect(r.namespace).toBe('kube-system');
      const page = await resourceClient(r.kubeConfig, NAMESPACES).list({ limit: 100 });
      expect(page.items.map((n) => n.metadata?.name)).toContain('kube-system');

      // The original's scheme-less setting, as read from Open_vSwitch external_ids.
      const fromOvs = resolveConnection({
        env: {},
        serviceAccountDir: noSa,
        ovsExternalIds: { 'k8s-api-server': sim.url.replace('http://', '') },
      });
      const page2 = await resourceClient(fromOvs.kubeConfig, NAMESPACES).list({});
      expect(page2.items.length).toBe(page.items.length);
    } finally {
      await sim.stop();
    }
  });
});
