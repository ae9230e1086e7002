/** loadConfig plus the I/O of its lowest layer: the local Open_vSwitch external_ids. */
import { existsSync } from 'node:fs';
import type { ConfigKey } from './keys.js';
import { EffectiveConfig, loadConfig, type ConfigValue, type LoadConfigOptions } from './load.js';
import { DEFAULT_OVS_DB, readOvsExternalIds } from './ovs-external-ids.js';

export interface ResolveConfigOptions extends Omit<LoadConfigOptions, 'ovsExternalIds'> {
  /** OVSDB remote of the local Open_vSwitch database; default unix:/var/run/openvswitch/db.sock */
  ovsDb?: string;
  /** false skips the Open_vSwitch layer (e.g. in a pod without the host's OVS socket) */
  readOvs?: boolean;
}

/**
 * The effective configuration. An explicitly given `ovsDb` that cannot be read is an error; the
 * default socket being absent (no OVS on this host) only adds a warning.
 */
export async function resolveConfig(opts: ResolveConfigOptions = {}): Promise<EffectiveConfig> {
  let ovsExternalIds: Record<string, string> | undefined;
  const extraWarnings: string[] = [];
  if (opts.readOvs !== false) {
    const remote = opts.ovsDb ?? DEFAULT_OVS_DB;
    if (opts.ovsDb || existsSync(remote.slice('unix:'.length))) {
      try {
        ovsExternalIds = await readOvsExternalIds(remote);
      } catch (err) {
        if (opts.ovsDb) throw err;
        extraWarnings.push((err as Error).message);
      }
    } else {
      extraWarnings.push(`no local Open_vSwitch database at ${remote}; external_ids not consulted`);
    }
  }
  const cfg = loadConfig({ ...opts, ...(ovsExternalIds ? { ovsExternalIds } : {}) });
  const values = withRuntimeDefaults(cfg.values, opts.env ?? process.env);
  if (!extraWarnings.length && values === cfg.values) return cfg;
  return new EffectiveConfig(values, [...cfg.warnings, ...extraWarnings], cfg.configFile);
}

/** True inside a Kubernetes pod (the API server's service variables and a service-account token). */
export function runningInCluster(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return (
    Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')
  );
}

/**
 * Defaults that depend on where we run: leader election is `lease` inside a cluster (a Deployment
 * of several replicas must elect) and `none` elsewhere (one watcher per systemd host), unless a
 * layer sets it.
 */
function withRuntimeDefaults(
  values: ReadonlyMap<ConfigKey, ConfigValue>,
  env: Readonly<Record<string, string | undefined>>,
): ReadonlyMap<ConfigKey, ConfigValue> {
  const le = values.get('leader_election');
  if (le && le.source !== 'default') return values;
  if (!runningInCluster(env)) return values;
  const out = new Map(values);
  out.set('leader_election', {
    value: 'lease',
    source: 'default',
    origin: 'in-cluster default (KUBERNETES_SERVICE_HOST and a service-account token)',
  });
  return out;
}
