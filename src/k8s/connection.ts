/**
 * Where to reach the Kubernetes API, resolved into a client-node KubeConfig.
 *
 * Sources, highest priority first:
 *   1. explicit flags: `kubeconfig`, or `server` / `token` / `tokenFile` / `caCert` (a CA file path);
 *   2. the environment:
 *        KUBECONFIG                                      a kubeconfig file (first of a ':' list)
 *        OVN_K8S_API_SERVER   (alias K8S_APISERVER)      API server URL
 *        OVN_K8S_API_TOKEN    (alias K8S_TOKEN)          bearer token
 *        OVN_K8S_API_TOKEN_FILE (alias K8S_TOKEN_FILE)   file holding the bearer token
 *        OVN_K8S_CA_CERT      (alias K8S_CACERT)         CA certificate file path
 *   3. the in-cluster service account: KUBERNETES_SERVICE_HOST/PORT plus `token`, `ca.crt` and
 *      `namespace` in /var/run/secrets/kubernetes.io/serviceaccount (injectable);
 *   4. the local Open_vSwitch table's external_ids `k8s-api-server`, `k8s-api-token`,
 *      `k8s-ca-certificate` (the original ovn-kubernetes settings; read by another layer and passed
 *      in as a record).
 *
 * A kubeconfig file (flag, else KUBECONFIG unless a server flag is given) is taken whole, with
 * explicit token/CA flags applied on top. Otherwise the server comes from the first source that
 * names one, and the token and CA each from the first source that has one, in the order above.
 * A server without a scheme means `http://`, as in the original.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { KubeConfig, type Cluster, type User } from '@kubernetes/client-node';
import { K8sConfigError } from './errors.js';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ConnectionFlags {
  kubeconfig?: string;
  /** Context within the kubeconfig (default: its current-context). */
  context?: string;
  server?: string;
  token?: string;
  tokenFile?: string;
  /** Path of a PEM CA certificate file. */
  caCert?: string;
  insecureSkipTlsVerify?: boolean;
}

/** The Open_vSwitch table's external_ids (only the k8s-* keys are used). */
export type OvsExternalIds = Readonly<Record<string, string | undefined>>;

export interface ResolveOptions {
  flags?: ConnectionFlags;
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory of the service-account files; default DEFAULT_SERVICE_ACCOUNT_DIR. */
  serviceAccountDir?: string;
  ovsExternalIds?: OvsExternalIds;
}

export type SettingSource =
  'flag' | 'env' | 'kubeconfig' | 'service-account' | 'ovs-external-ids' | 'default';

/** One resolved setting for display; secrets are already masked. */
export interface DescribedSetting {
  value: string;
  source: SettingSource;
  /** The flag, variable, file or external_ids key it came from. */
  origin: string;
}

export interface ConnectionDescription {
  server: DescribedSetting;
  token?: DescribedSetting;
  caCert?: DescribedSetting;
  kubeconfig?: DescribedSetting;
  context?: string;
  namespace?: DescribedSetting;
}

export interface ResolvedConnection {
  kubeConfig: KubeConfig;
  /** Namespace of the service account or kubeconfig context, if any. */
  namespace: string | undefined;
  description: ConnectionDescription;
}

interface Candidate<T> {
  value: T;
  source: SettingSource;
  origin: string;
}

type TokenValue = { kind: 'inline'; token: string } | { kind: 'file'; path: string };
type CaValue = { kind: 'file'; path: string } | { kind: 'pem'; pem: string };

/** `k8s-ca-certificate` values are stored with literal "\n" sequences standing for newlines. */
export function unescapeCaCertificate(value: string): string {
  return value.replace(/\\r\\n/g, '\n').replace(/\\n/g, '\n');
}

/** A server URL; a bare host[:port] means http:// (the original's rule). */
export function normalizeServerUrl(server: string): string {
  const s = server.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return s.replace(/\/+$/, '');
  return `http://${s}`.replace(/\/+$/, '');
}

/** Masks a secret for display, keeping only its length. */
export function maskSecret(secret: string): string {
  return `<redacted, ${secret.length} characters>`;
}

function envValue(env: ResolveOptions['env'], names: string[]): Candidate<string> | undefined {
  for (const n of names) {
    const v = env?.[n];
    if (v !== undefined && v !== '') return { value: v, source: 'env', origin: n };
  }
  return undefined;
}

function ovsValue(ids: OvsExternalIds | undefined, key: string): Candidate<string> | undefined {
  const v = ids?.[key];
  if (v === undefined || v === '') return undefined;
  return { value: v, source: 'ovs-external-ids', origin: `external_ids:${key}` };
}

interface ServiceAccount {
  server: Candidate<string> | undefined;
  token: Candidate<TokenValue> | undefined;
  ca: Candidate<CaValue> | undefined;
  namespace: Candidate<string> | undefined;
}

function readServiceAccount(dir: string, env: ResolveOptions['env']): ServiceAccount {
  const tokenPath = join(dir, 'token');
  const caPath = join(dir, 'ca.crt');
  const nsPath = join(dir, 'namespace');
  const host = env?.KUBERNETES_SERVICE_HOST;
  const port = env?.KUBERNETES_SERVICE_PORT;
  let server: Candidate<string> | undefined;
  // Only a pod (service env vars AND a mounted token) counts as in-cluster.
  if (host && port && existsSync(tokenPath)) {
    const h = isIPv6(host) ? `[${host}]` : host;
    server = {
      value: `https://${h}:${port}`,
      source: 'service-account',
      origin: 'KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT',
    };
  }
  return {
    server,
    token: existsSync(tokenPath)
      ? { value: { kind: 'file', path: tokenPath }, source: 'service-account', origin: tokenPath }
      : undefined,
    ca: existsSync(caPath)
      ? { value: { kind: 'file', path: caPath }, source: 'service-account', origin: caPath }
      : undefined,
    namespace: existsSync(nsPath)
      ? { value: readFileSync(nsPath, 'utf8').trim(), source: 'service-account', origin: nsPath }
      : undefined,
  };
}

function first<T>(...cands: Array<Candidate<T> | undefined>): Candidate<T> | undefined {
  return cands.find((c) => c !== undefined);
}

function describeToken(c: Candidate<TokenValue>): DescribedSetting {
  const value = c.value.kind === 'inline' ? maskSecret(c.value.token) : `file ${c.value.path}`;
  return { value, source: c.source, origin: c.origin };
}

function describeCa(c: Candidate<CaValue>): DescribedSetting {
  const value = c.value.kind === 'file' ? `file ${c.value.path}` : `inline PEM, ${c.value.pem.length} bytes`;
  return { value, source: c.source, origin: c.origin };
}

function userFor(token: Candidate<TokenValue> | undefined): User {
  if (!token) return { name: 'ovn-k8s' };
  if (token.value.kind === 'inline') return { name: 'ovn-k8s', token: token.value.token.trim() };
  // The tokenFile auth provider re-reads the file, so rotated service-account tokens are picked up.
  return { name: 'ovn-k8s', authProvider: { name: 'tokenFile', config: { tokenFile: token.value.path } } };
}

function caFields(ca: Candidate<CaValue> | undefined): Pick<Cluster, 'caData' | 'caFile'> {
  if (!ca) return {};
  if (ca.value.kind === 'file') return { caFile: ca.value.path };
  return { caData: Buffer.from(ca.value.pem, 'utf8').toString('base64') };
}

/** Resolves the connection. Throws K8sConfigError when no source names an API server. */
export function resolveConnection(opts: ResolveOptions = {}): ResolvedConnection {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const sa = readServiceAccount(opts.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR, env);

  const flagToken: Candidate<TokenValue> | undefined = flags.token
    ? { value: { kind: 'inline', token: flags.token }, source: 'flag', origin: '--token' }
    : flags.tokenFile
      ? { value: { kind: 'file', path: flags.tokenFile }, source: 'flag', origin: '--token-file' }
      : undefined;
  const envTokenInline = envValue(env, ['OVN_K8S_API_TOKEN', 'K8S_TOKEN']);
  const envTokenFile = envValue(env, ['OVN_K8S_API_TOKEN_FILE', 'K8S_TOKEN_FILE']);
  const envToken: Candidate<TokenValue> | undefined = envTokenInline
    ? { ...envTokenInline, value: { kind: 'inline', token: envTokenInline.value } }
    : envTokenFile
      ? { ...envTokenFile, value: { kind: 'file', path: envTokenFile.value } }
      : undefined;
  const ovsTokenRaw = ovsValue(opts.ovsExternalIds, 'k8s-api-token');
  const ovsToken: Candidate<TokenValue> | undefined = ovsTokenRaw && {
    ...ovsTokenRaw,
    value: { kind: 'inline', token: ovsTokenRaw.value },
  };

  const flagCa: Candidate<CaValue> | undefined = flags.caCert
    ? { value: { kind: 'file', path: flags.caCert }, source: 'flag', origin: '--ca-cert' }
    : undefined;
  const envCaRaw = envValue(env, ['OVN_K8S_CA_CERT', 'K8S_CACERT']);
  const envCa: Candidate<CaValue> | undefined = envCaRaw && {
    ...envCaRaw,
    value: { kind: 'file', path: envCaRaw.value },
  };
  const ovsCaRaw = ovsValue(opts.ovsExternalIds, 'k8s-ca-certificate');
  const ovsCa: Candidate<CaValue> | undefined = ovsCaRaw && {
    ...ovsCaRaw,
    value: { kind: 'pem', pem: unescapeCaCertificate(ovsCaRaw.value) },
  };

  // 1./2. A kubeconfig file, unless an explicit --server outranks KUBECONFIG.
  const kubeconfigPath: Candidate<string> | undefined = flags.kubeconfig
    ? { value: flags.kubeconfig, source: 'flag', origin: '--kubeconfig' }
    : !flags.server
      ? envValue(env, ['KUBECONFIG'])
      : undefined;
  if (kubeconfigPath) {
    return fromKubeconfigFile(kubeconfigPath, flags, flagToken, flagCa);
  }

  const flagServer: Candidate<string> | undefined = flags.server
    ? { value: flags.server, source: 'flag', origin: '--server' }
    : undefined;
  const server = first(
    flagServer,
    envValue(env, ['OVN_K8S_API_SERVER', 'K8S_APISERVER']),
    sa.server,
    ovsValue(opts.ovsExternalIds, 'k8s-api-server'),
  );
  if (!server) {
    throw new K8sConfigError(
      'no Kubernetes API server configured: give --kubeconfig or --server, set KUBECONFIG or OVN_K8S_API_SERVER, ' +
        'run in a pod with a service account, or set external_ids:k8s-api-server in the Open_vSwitch table',
    );
  }
  const token = first(flagToken, envToken, sa.token, ovsToken);
  const ca = first(flagCa, envCa, sa.ca, ovsCa);
  const serverUrl = server.source === 'service-account' ? server.value : normalizeServerUrl(server.value);

  const kc = new KubeConfig();
  const cluster: Cluster = {
    name: 'ovn-k8s',
    server: serverUrl,
    // client-node refuses plain http:// unless skipTLSVerify is set (there is no TLS to verify),
    // and the original's scheme-less servers are http://.
    skipTLSVerify: flags.insecureSkipTlsVerify ?? serverUrl.startsWith('http://'),
    ...caFields(ca),
  };
  kc.loadFromOptions({
    clusters: [cluster],
    users: [userFor(token)],
    contexts: [{ name: 'ovn-k8s', cluster: 'ovn-k8s', user: 'ovn-k8s', namespace: sa.namespace?.value }],
    currentContext: 'ovn-k8s',
  });
  const description: ConnectionDescription = {
    server: { value: serverUrl, source: server.source, origin: server.origin },
  };
  if (token) description.token = describeToken(token);
  if (ca) description.caCert = describeCa(ca);
  if (sa.namespace) description.namespace = sa.namespace;
  return { kubeConfig: kc, namespace: sa.namespace?.value, description };
}

function fromKubeconfigFile(
  path: Candidate<string>,
  flags: ConnectionFlags,
  flagToken: Candidate<TokenValue> | undefined,
  flagCa: Candidate<CaValue> | undefined,
): ResolvedConnection {
  // KUBECONFIG may be a ':'-separated list; like kubectl we take the first existing file.
  const file = path.value.split(':').find((p) => p !== '' && existsSync(p));
  if (!file) throw new K8sConfigError(`kubeconfig ${path.value} (from ${path.origin}) does not exist`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new K8sConfigError(`cannot load kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      throw new K8sConfigError(`kubeconfig ${file} has no context ${flags.context}`);
    }
    kc.setCurrentContext(flags.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new K8sConfigError(`kubeconfig ${file} has no current cluster`);
  const user = kc.getCurrentUser() ?? { name: 'ovn-k8s' };
  const context = kc.getContextObject(kc.getCurrentContext());
  const origin = `${file} (${path.origin})`;

  // client-node refuses http:// servers unless skipTLSVerify is set, which kubectl does not require
  // (the simulator's kubeconfig is plain http); there is no TLS to verify on http://.
  const plainHttp = cluster.server.startsWith('http://') && !cluster.skipTLSVerify;
  // Explicit flags override the file's cluster and user, as kubectl's --token/--certificate-authority do.
  if (flagToken || flagCa || flags.insecureSkipTlsVerify !== undefined || plainHttp) {
    const newCluster: Cluster = {
      ...cluster,
      ...(flagCa ? { caData: undefined, caFile: undefined, ...caFields(flagCa) } : {}),
      skipTLSVerify: flags.insecureSkipTlsVerify ?? (plainHttp || cluster.skipTLSVerify),
    };
    const newUser: User = flagToken ? userFor(flagToken) : user;
    kc.loadFromOptions({
      clusters: [newCluster],
      users: [newUser],
      contexts: [
        { name: 'ovn-k8s', cluster: newCluster.name, user: newUser.name, namespace: context?.namespace },
      ],
      currentContext: 'ovn-k8s',
    });
  }

  const description: ConnectionDescription = {
    server: { value: cluster.server, source: 'kubeconfig', origin },
    kubeconfig: { value: file, source: path.source, origin: path.origin },
    context: context?.name,
  };
  if (flagToken) description.token = describeToken(flagToken);
  else if (user.token) description.token = { value: maskSecret(user.token), source: 'kubeconfig', origin };
  else if (user.authProvider || user.exec || user.certData || user.certFile) {
    description.token = {
      value: 'client credentials (auth provider, exec or client certificate)',
      source: 'kubeconfig',
      origin,
    };
  }
  if (flagCa) description.caCert = describeCa(flagCa);
  else if (cluster.caFile)
    description.caCert = { value: `file ${cluster.caFile}`, source: 'kubeconfig', origin };
  else if (cluster.caData)
    description.caCert = { value: 'inline certificate-authority-data', source: 'kubeconfig', origin };
  if (context?.namespace) description.namespace = { value: context.namespace, source: 'kubeconfig', origin };
  return { kubeConfig: kc, namespace: context?.namespace, description };
}
