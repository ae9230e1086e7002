/**
 * The layered configuration: flag > environment > INI file > Open_vSwitch external_ids > default.
 * Every effective value remembers the layer and the exact flag/variable/file line/key it came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { parseIni } from './ini.js';
import { CONFIG_KEYS, envNameOf, flagNameOf, keySpec, type ConfigKey, type ConfigKeySpec } from './keys.js';

export const DEFAULT_CONFIG_FILE = '/etc/openvswitch/ovn_k8s.conf';
export const INI_SECTION = 'default';

export type ConfigSource = 'flag' | 'env' | 'ini' | 'ovs-external-ids' | 'default';

export interface ConfigValue {
  value: string;
  source: ConfigSource;
  /** the flag, variable, file and key, or external_ids key */
  origin: string;
}

export interface LoadConfigOptions {
  /** raw flag values by config key (unset keys omitted or undefined) */
  flags?: Partial<Record<ConfigKey, string | number | boolean | string[] | undefined>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** INI file; default DEFAULT_CONFIG_FILE, which may be missing (an explicit file must exist) */
  configFile?: string;
  configFileExplicit?: boolean;
  ovsExternalIds?: Readonly<Record<string, string | undefined>>;
}

export class EffectiveConfig {
  constructor(
    readonly values: ReadonlyMap<ConfigKey, ConfigValue>,
    /** problems that did not stop loading (unknown INI keys) */
    readonly warnings: readonly string[],
    readonly configFile: string | undefined,
  ) {}

  has(key: ConfigKey): boolean {
    return this.values.has(key) && this.values.get(key)!.value !== '';
  }

  /** The value, or undefined when no layer sets it (an empty string counts as unset). */
  string(key: ConfigKey): string | undefined {
    const v = this.values.get(key)?.value;
    return v === undefined || v === '' ? undefined : v;
  }

  int(key: ConfigKey): number | undefined {
    const v = this.string(key);
    return v === undefined ? undefined : Number(v);
  }

  list(key: ConfigKey): string[] {
    const v = this.string(key);
    return v === undefined ? [] : v.split(/[,\s]+/).filter(Boolean);
  }

  bool(key: ConfigKey): boolean {
    return /^(1|true|yes|on)$/i.test(this.string(key) ?? '');
  }

  source(key: ConfigKey): ConfigValue | undefined {
    return this.values.get(key);
  }
}

function normaliseFlag(v: string | number | boolean | string[]): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

function checkValue(spec: ConfigKeySpec, value: string, origin: string): void {
  if (spec.kind === 'int' && value !== '' && !/^-?\d+$/.test(value.trim()))
    throw new ConfigError(`${origin}: ${spec.key} must be an integer, got "${value}"`);
  if (spec.kind === 'bool' && value !== '' && !/^(1|0|true|false|yes|no|on|off)$/i.test(value.trim()))
    throw new ConfigError(`${origin}: ${spec.key} must be true or false, got "${value}"`);
}

export function loadConfig(opts: LoadConfigOptions = {}): EffectiveConfig {
  const env = opts.env ?? process.env;
  const file = opts.configFile ?? DEFAULT_CONFIG_FILE;
  const warnings: string[] = [];

  let ini: Record<string, string> = {};
  let usedFile: string | undefined;
  if (existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    const sections = parseIni(text, file);
    ini = sections[INI_SECTION] ?? {};
    usedFile = file;
    for (const k of Object.keys(ini))
      if (!keySpec(k)) warnings.push(`${file}: unknown key "${k}" in [${INI_SECTION}] ignored`);
    for (const s of Object.keys(sections))
      if (s !== INI_SECTION) warnings.push(`${file}: section [${s}] ignored`);
  } else if (opts.configFileExplicit) {
    throw new ConfigError(`config file ${file} does not exist`);
  }

  const values = new Map<ConfigKey, ConfigValue>();
  for (const spec of CONFIG_KEYS as readonly ConfigKeySpec[]) {
    const key = spec.key as ConfigKey;
    const flag = opts.flags?.[key];
    const envName = envNameOf(spec);
    const envVal = env[envName];
    let chosen: ConfigValue | undefined;
    if (flag !== undefined && flag !== false)
      chosen = { value: normaliseFlag(flag), source: 'flag', origin: flagNameOf(spec) };
    else if (envVal !== undefined && envVal !== '')
      chosen = { value: envVal, source: 'env', origin: envName };
    else if (ini[spec.key] !== undefined)
      chosen = {
        value: ini[spec.key]!.trim(),
        source: 'ini',
        origin: `${file} [${INI_SECTION}] ${spec.key}`,
      };
    else if (spec.ovsExternalId && opts.ovsExternalIds?.[spec.ovsExternalId] !== undefined)
      chosen = {
        value: opts.ovsExternalIds[spec.ovsExternalId]!,
        source: 'ovs-external-ids',
        origin: `Open_vSwitch external_ids:${spec.ovsExternalId}`,
      };
    else if (spec.default !== undefined)
      chosen = { value: spec.default, source: 'default', origin: 'built-in default' };
    if (!chosen) continue;
    checkValue(spec, chosen.value, chosen.origin);
    values.set(key, chosen);
  }
  return new EffectiveConfig(values, warnings, usedFile);
}
