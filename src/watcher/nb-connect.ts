/**
 * Opening the NB database for the command-line tools: the address from the flag, else
 * $OVN_NB_DB, else the packaged unix socket; TLS from the three file flags; a bounded wait, and
 * one clear error when the database cannot be reached.
 */
import { MANAGED_TABLES } from '../ovn/reconcile/index.js';
import { OvsdbDatabase, type DatabaseLogger } from '../ovsdb/database.js';
import type { TlsOptions } from '../ovsdb/remote/connect.js';

export const DEFAULT_NB_ADDRESS = 'unix:/var/run/ovn/ovnnb_db.sock';

export class NbUnreachableError extends Error {
  override name = 'NbUnreachableError';
}

export class TlsFlagsError extends Error {
  override name = 'TlsFlagsError';
}

export interface NbFlags {
  nbAddress?: string;
  nbPrivkey?: string;
  nbCert?: string;
  nbCacert?: string;
}

export const nbAddressOf = (flags: NbFlags, env: NodeJS.ProcessEnv = process.env): string =>
  flags.nbAddress ?? env.OVN_NB_DB ?? DEFAULT_NB_ADDRESS;

/** TLS options when the address is ssl:, from all three file flags (an error when some are missing). */
export function tlsOf(flags: NbFlags, address: string): TlsOptions | undefined {
  const given = [flags.nbPrivkey, flags.nbCert, flags.nbCacert].filter((x) => x !== undefined).length;
  if (given === 0) {
    if (address.split(',').some((r) => r.trim().startsWith('ssl:')))
      throw new TlsFlagsError(
        `${address} is an ssl: address: --nb-privkey, --nb-cert and --nb-cacert are required`,
      );
    return undefined;
  }
  if (given !== 3) throw new TlsFlagsError('--nb-privkey, --nb-cert and --nb-cacert go together');
  return { privateKey: flags.nbPrivkey!, certificate: flags.nbCert!, caCert: flags.nbCacert! };
}

export async function openNb(
  flags: NbFlags,
  opts: { timeoutMs?: number; logger?: DatabaseLogger; tls?: TlsOptions } = {},
): Promise<OvsdbDatabase> {
  const address = nbAddressOf(flags);
  const tls = opts.tls ?? tlsOf(flags, address);
  try {
    return await OvsdbDatabase.open({
      remotes: address,
      database: 'OVN_Northbound',
      tables: Object.fromEntries(MANAGED_TABLES.map((t) => [t, {}])),
      ...(tls ? { tls } : {}),
      openTimeoutMs: opts.timeoutMs ?? 10_000,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  } catch (err) {
    throw new NbUnreachableError(
      `cannot reach the OVN northbound database at ${address}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
