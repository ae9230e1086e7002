/**
 * How `ovsdb-client` reads its positional arguments: an optional SERVER first (anything that
 * looks like a remote), then for most commands an optional DATABASE, recognised only when it is
 * one of the server's databases and more arguments than the command's minimum remain.
 */
import { ToolUsageError } from './errors.js';

/** The C tool's default server. */
export const DEFAULT_SERVER = 'unix:/var/run/openvswitch/db.sock';

const REMOTE_PREFIX_RE = /^(unix|tcp|ssl|punix|ptcp|pssl):/;

/** Splits off the SERVER argument (or the default) from the rest. */
export function takeServer(args: readonly string[]): { server: string; rest: string[] } {
  if (args.length > 0 && REMOTE_PREFIX_RE.test(args[0]!)) return { server: args[0]!, rest: args.slice(1) };
  return { server: DEFAULT_SERVER, rest: [...args] };
}

/**
 * Picks the database: the first argument when it names one of `dbs` and more than `minArgs`
 * arguments are left; otherwise Open_vSwitch when the server has it; otherwise the server's only
 * database whose name does not start with "_".
 */
export function takeDatabase(
  args: readonly string[],
  dbs: readonly string[],
  minArgs: number,
): { db: string; rest: string[] } {
  if (args.length > minArgs && dbs.includes(args[0]!)) return { db: args[0]!, rest: args.slice(1) };
  if (dbs.includes('Open_vSwitch')) return { db: 'Open_vSwitch', rest: [...args] };
  const candidates = dbs.filter((d) => !d.startsWith('_'));
  if (candidates.length !== 1) {
    const hint = args.length > minArgs ? `no database named ${JSON.stringify(args[0])}; ` : '';
    throw new ToolUsageError(
      `${hint}could not find a default database (the server has ${dbs.join(', ') || 'none'}), please specify a database name`,
    );
  }
  return { db: candidates[0]!, rest: [...args] };
}

/** Rejects arguments left over after a command took what it understands. */
export function noMoreArgs(rest: readonly string[], dbs?: readonly string[]): void {
  if (rest.length === 0) return;
  const unknownDb = dbs
    ? `: the server has no database named ${JSON.stringify(rest[0])} (it has ${dbs.join(', ')})`
    : '';
  throw new ToolUsageError(`unexpected argument ${JSON.stringify(rest[0])}${unknownDb}`);
}
