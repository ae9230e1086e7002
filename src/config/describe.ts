/** Printing the effective configuration: value, layer and origin per key, secrets masked. */
import type { EffectiveConfig, ConfigSource } from './load.js';
import { CONFIG_KEYS, keySpec, type ConfigKey, type ConfigKeySpec } from './keys.js';

export interface DescribedValue {
  key: string;
  value: string;
  source: ConfigSource | 'unset';
  origin: string;
}

/** Keeps the length only, like `maskSecret` of the connection layer. */
export function maskValue(value: string): string {
  return value === '' ? '' : `<redacted, ${value.length} characters>`;
}

/** Long PEM blobs are shortened rather than hidden (they are not secret, only unreadable). */
function displayValue(spec: ConfigKeySpec, value: string): string {
  if (spec.secret) return maskValue(value);
  if (value.includes('BEGIN CERTIFICATE')) return `<PEM, ${value.length} characters>`;
  return value;
}

export function describeConfig(cfg: EffectiveConfig): DescribedValue[] {
  return (CONFIG_KEYS as readonly ConfigKeySpec[]).map((spec) => {
    const v = cfg.source(spec.key as ConfigKey);
    if (!v) return { key: spec.key, value: '', source: 'unset', origin: '' };
    return { key: spec.key, value: displayValue(spec, v.value), source: v.source, origin: v.origin };
  });
}

/** A fixed-width table: KEY VALUE SOURCE (ORIGIN). */
export function formatConfigTable(cfg: EffectiveConfig): string {
  const rows = describeConfig(cfg);
  const kw = Math.max(...rows.map((r) => r.key.length));
  const vw = Math.min(48, Math.max(...rows.map((r) => r.value.length)));
  const lines = rows.map((r) => {
    const value = r.value === '' ? '-' : r.value;
    const src = r.source === 'unset' ? 'unset' : `${r.source} (${r.origin})`;
    return `${r.key.padEnd(kw)}  ${value.padEnd(vw)}  ${src}`;
  });
  const notes = cfg.warnings.map((w) => `warning: ${w}`);
  return [...lines, ...notes].join('\n') + '\n';
}

export function isSecretKey(key: string): boolean {
  return keySpec(key)?.secret === true;
}
