/** commander glue: one `--<key>` option per configuration key, and the reverse mapping. */
import type { Command } from 'commander';
import {
  CONFIG_KEYS,
  envNameOf,
  flagNameOf,
  flagPropertyOf,
  type ConfigKey,
  type ConfigKeySpec,
} from './keys.js';

/**
 * Adds `--config-file F` and the flags of `keys` (default: all) to `cmd`. Keys a command already
 * defines itself (e.g. --nb-address with its own help) can be left out through `keys`.
 */
export function addConfigFlags(cmd: Command, keys?: readonly ConfigKey[]): Command {
  cmd.option('--config-file <file>', 'INI configuration file (default /etc/openvswitch/ovn_k8s.conf)');
  for (const spec of CONFIG_KEYS as readonly ConfigKeySpec[]) {
    if (keys && !keys.includes(spec.key as ConfigKey)) continue;
    cmd.option(`${flagNameOf(spec)} <value>`, `${spec.description} [env ${envNameOf(spec)}]`);
  }
  return cmd;
}

/** Picks the config keys out of commander's parsed options (`opts()`). */
export function configFlagsFrom(opts: Record<string, unknown>): Partial<Record<ConfigKey, string>> {
  const out: Partial<Record<ConfigKey, string>> = {};
  for (const spec of CONFIG_KEYS as readonly ConfigKeySpec[]) {
    const v = opts[flagPropertyOf(spec)];
    if (typeof v === 'string' || typeof v === 'number') out[spec.key as ConfigKey] = String(v);
    else if (Array.isArray(v)) out[spec.key as ConfigKey] = v.join(',');
  }
  return out;
}
