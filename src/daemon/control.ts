/**
 * A control socket in the style of ovs-appctl: a unix stream socket speaking JSON lines.
 * Request:  {"command":"loglevel","args":["debug"]}
 * Response: {"ok":true,"result":...} or {"ok":false,"error":"..."}
 * The daemon registers one handler per command; `help` lists them.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { ControlError } from './errors.js';

export type ControlHandler = (args: string[]) => unknown;

export interface ControlRequest {
  command: string;
  args?: string[];
}

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };

interface Registered {
  handler: ControlHandler;
  usage: string;
}

const MAX_LINE = 64 * 1024;

export class ControlServer {
  private readonly commands = new Map<string, Registered>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(readonly path: string) {
    this.register('help', () => this.list(), 'list the commands');
  }

  /** Registers `command`; a later registration replaces an earlier one. */
  register(command: string, handler: ControlHandler, usage = command): this {
    this.commands.set(command, { handler, usage });
    return this;
  }

  list(): Record<string, string> {
    return Object.fromEntries([...this.commands].map(([name, r]) => [name, r.usage]));
  }

  /** Handles one request (also usable without a socket). */
  async dispatch(req: ControlRequest): Promise<ControlResponse> {
    const r = this.commands.get(req.command);
    if (!r) return { ok: false, error: `unknown command "${req.command}"; try "help"` };
    try {
      return { ok: true, result: (await r.handler(req.args ?? [])) ?? null };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Listens on the socket path (a stale socket file left by a dead daemon is removed). */
  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    if (existsSync(this.path)) {
      if (await socketAnswers(this.path))
        throw new ControlError(`control socket ${this.path} is in use by a running daemon`);
      unlinkSync(this.path);
    }
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // like ovs-appctl sockets: only the owner (root) may control the daemon
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      /* already removed */
    }
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = '';
    let chain = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE && !buf.includes('\n')) {
        sock.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        // answer in order even when a handler is slow
        chain = chain.then(async () => {
          const res = await this.handleLine(line);
          if (!sock.destroyed) sock.write(`${JSON.stringify(res)}\n`);
        });
      }
    });
  }

  private async handleLine(line: string): Promise<ControlResponse> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    if (!req || typeof req !== 'object' || typeof (req as ControlRequest).command !== 'string')
      return { ok: false, error: 'request needs a "command" string' };
    const args = (req as ControlRequest).args;
    if (args !== undefined && (!Array.isArray(args) || !args.every((a) => typeof a === 'string')))
      return { ok: false, error: '"args" must be a list of strings' };
    return this.dispatch(req as ControlRequest);
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Sends one request to the control socket at `path`; resolves with the result or throws ControlError. */
export function sendControl(
  path: string,
  command: string,
  args: string[] = [],
  timeoutMs = 10_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${JSON.stringify({ command, args })}\n`));
    sock.on('error', (err: NodeJS.ErrnoException) =>
      fail(
        new ControlError(
          `cannot reach control socket ${path}: ${err.code ?? err.message}; is the daemon running?`,
        ),
      ),
    );
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      let res: ControlResponse;
      try {
        res = JSON.parse(buf.slice(0, nl)) as ControlResponse;
      } catch {
        reject(new ControlError(`malformed answer from ${path}`));
        return;
      }
      if (res.ok) resolve(res.result);
      else reject(new ControlError(res.error));
    });
    sock.on('end', () => {
      if (!buf.includes('\n')) fail(new ControlError(`${path} closed the connection without answering`));
    });
  });
}
