/** loadConfig plus the I/O of its lowest layer: the local Open_vSwitch external_ids. */
import { existsSync } from 'node:fs';
import { EffectiveConfig, loadConfig, type LoadConfigOptions } from './load.js';
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
  if (!extraWarnings.length) return cfg;
  return new EffectiveConfig(cfg.values, [...cfg.warnings, ...extraWarnings], cfg.configFile);
}
