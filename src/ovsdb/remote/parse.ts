/**
 * OVSDB remote strings as OVS tools take them: `unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`
 * (an IPv6 literal goes in brackets: `tcp:[::1]:6641`), several joined by commas.
 * Passive remotes (`punix:`, `ptcp:`, `pssl:`) are for servers and are refused here.
 */
import { isIP } from 'node:net';
import { RemoteParseError } from '../errors.js';

/** OVSDB's IANA port, used by OVS when a tcp:/ssl: remote omits the port. */
export const DEFAULT_OVSDB_PORT = 6640;

export type Remote = { kind: 'unix'; path: string } | { kind: 'tcp' | 'ssl'; host: string; port: number };

const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Parses one remote string. Throws RemoteParseError with the reason. */
export function parseRemote(input: string): Remote {
  const s = input.trim();
  const colon = s.indexOf(':');
  if (colon < 0) throw new RemoteParseError(input, 'expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT');
  const scheme = s.slice(0, colon);
  const rest = s.slice(colon + 1);
  switch (scheme) {
    case 'unix':
      if (rest === '') throw new RemoteParseError(input, 'unix: needs a socket path');
      if (rest.includes('\0')) throw new RemoteParseError(input, 'socket path contains a NUL byte');
      return { kind: 'unix', path: rest };
    case 'tcp':
    case 'ssl':
      return { kind: scheme, ...parseHostPort(input, rest) };
    case 'punix':
    case 'ptcp':
    case 'pssl':
      throw new RemoteParseError(
        input,
        `${scheme}: is a passive (listening) remote; a client needs unix:, tcp: or ssl:`,
      );
    default:
      throw new RemoteParseError(input, `unknown scheme "${scheme}" (expected unix, tcp or ssl)`);
  }
}

function parseHostPort(input: string, rest: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new RemoteParseError(input, "IPv6 address is missing its closing ']'");
    host = rest.slice(1, close);
    if (isIP(host) !== 6) throw new RemoteParseError(input, `"${host}" is not an IPv6 address`);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':'))
        throw new RemoteParseError(input, "expected ':PORT' after the IPv6 address");
      portText = after.slice(1);
    }
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) {
      throw new RemoteParseError(input, 'an IPv6 address must be written in brackets, e.g. tcp:[::1]:6641');
    }
    host = parts[0]!;
    portText = parts[1];
    if (host === '') throw new RemoteParseError(input, 'missing host');
    if (isIP(host) !== 4 && !HOSTNAME_RE.test(host)) {
      throw new RemoteParseError(input, `"${host}" is neither an IPv4 address nor a host name`);
    }
  }
  if (portText === undefined) return { host, port: DEFAULT_OVSDB_PORT };
  if (!/^[0-9]{1,5}$/.test(portText)) throw new RemoteParseError(input, `port "${portText}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new RemoteParseError(input, `port ${port} is outside 1-65535`);
  return { host, port };
}

/** Parses a comma-separated list of remotes (at least one). */
export function parseRemotes(input: string): Remote[] {
  const parts = input.split(',').map((p) => p.trim());
  if (parts.length === 1 && parts[0] === '') throw new RemoteParseError(input, 'empty remote list');
  return parts.map((p) => {
    if (p === '') throw new RemoteParseError(input, 'empty entry in the remote list');
    return parseRemote(p);
  });
}

/** The canonical string form of a remote (what OVS would print). */
export function formatRemote(r: Remote): string {
  if (r.kind === 'unix') return `unix:${r.path}`;
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  return `${r.kind}:${host}:${r.port}`;
}
