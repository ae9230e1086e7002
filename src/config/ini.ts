/**
 * The INI dialect of the original's ovn_k8s.conf (Python ConfigParser): `[section]` headers,
 * `key = value` or `key: value`, `#` and `;` comment lines, keys case-insensitive, indented lines
 * continuing the previous value.
 */
import { ConfigError } from './errors.js';

export type IniSections = Record<string, Record<string, string>>;

export function parseIni(text: string, fileName = 'config'): IniSections {
  const out: IniSections = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const where = `${fileName}:${i + 1}`;
    if (/^\s*([#;]|$)/.test(raw)) return;
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      section[lastKey] = `${section[lastKey]}\n${raw.trim()}`;
      return;
    }
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      section = out[name] ??= {};
      lastKey = undefined;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv) throw new ConfigError(`${where}: expected "key = value" or "[section]", got "${line}"`);
    if (!section) throw new ConfigError(`${where}: "${kv[1]}" appears before any [section] header`);
    lastKey = kv[1]!.toLowerCase();
    section[lastKey] = kv[2]!;
  });
  return out;
}
