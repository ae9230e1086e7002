import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { OvsdbConnectError, RemoteParseError } from '../../src/ovsdb/errors.js';
import { connectRemote } from '../../src/ovsdb/remote/connect.js';
import { formatRemote, parseRemote, parseRemotes } from '../../src/ovsdb/remote/parse.js';
import { freePort } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

describe('parseRemote', () => {
  it('parses unix, tcp and ssl remotes', () => {
    expect(parseRemote('unix:/var/run/ovn/ovnnb_db.sock')).toEqual({
      kind: 'unix',
      path: '/var/run/ovn/ovnnb_db.sock',
    });
    expect(parseRemote('tcp:127.0.0.1:6641')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6641 });
    expect(parseRemote('ssl:10.0.0.1:6643')).toEqual({ kind: 'ssl', host: '10.0.0.1', port: 6643 });
    expect(parseRemote('tcp:ovn-nb.example.com:6641')).toEqual({
      kind: 'tcp',
      host: 'ovn-nb.example.com',
      port: 6641,
    });
    expect(parseRemote(' tcp:127.0.0.1:6641 ')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6641 });
  });

  it('takes IPv6 literals in brackets', () => {
    expect(parseRemote('tcp:[::1]:6641')).toEqual({ kind: 'tcp', host: '::1', port: 6641 });
    expect(parseRemote('ssl:[fd00:10:244::5]:6643')).toEqual({
      kind: 'ssl',
      host: 'fd00:10:244::5',
      port: 6643,
    });
    expect(formatRemote(parseRemote('tcp:[::1]:6641'))).toBe('tcp:[::1]:6641');
  });

  it('defaults the port to 6640 like OVS', () => {
    expect(parseRemote('tcp:127.0.0.1')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6640 });
    expect(parseRemote('ssl:[::1]')).toEqual({ kind: 'ssl', host: '::1', port: 6640 });
  });

  it('parses comma-separated lists', () => {
    expect(parseRemotes('tcp:127.0.0.1:6641,tcp:[::1]:6642, unix:/tmp/x.sock')).toEqual([
      { kind: 'tcp', host: '127.0.0.1', port: 6641 },
      { kind: 'tcp', host: '::1', port: 6642 },
      { kind: 'unix', path: '/tmp/x.sock' },
    ]);
  });

  for (const [input, reason] of [
    ['', /expected unix:PATH/],
    ['127.0.0.1:6641', /unknown scheme "127.0.0.1"/],
    ['http:127.0.0.1:80', /unknown scheme "http"/],
    ['unix:', /needs a socket path/],
    ['tcp:', /missing host/],
    ['tcp:::1:6641', /IPv6 address must be written in brackets/],
    ['tcp:[::1:6641', /missing its closing/],
    ['tcp:[1.2.3.4]:6641', /not an IPv6 address/],
    ['tcp:[::1]6641', /expected ':PORT'/],
    ['tcp:127.0.0.1:port', /port "port" is not a number/],
    ['tcp:127.0.0.1:70000', /outside 1-65535/],
    ['tcp:127.0.0.1:0', /outside 1-65535/],
    ['tcp:bad_host!:1', /neither an IPv4 address nor a host name/],
    ['ptcp:6641', /passive/],
    ['punix:/tmp/x', /passive/],
  ] as const) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      expect(() => parseRemote(input)).toThrow(RemoteParseError);
      expect(() => parseRemote(input)).toThrow(reason);
    });
  }

  it('refuses empty lists and empty entries', () => {
    expect(() => parseRemotes('')).toThrow(/empty remote list/);
    expect(() => parseRemotes('tcp:127.0.0.1:1,,tcp:127.0.0.1:2')).toThrow(/empty entry/);
  });
});

describe('connectRemote', () => {
  it('connects over unix and tcp', async () => {
    const { dir, cleanup } = tempDir('h1r-');
    const servers: Server[] = [];
    try {
      const got: string[] = [];
      const listen = (arg: string | number) =>
        new Promise<void>((resolve) => {
          const srv = createServer((s) => s.once('data', (d) => got.push(d.toString())));
          if (typeof arg === 'number') srv.listen(arg, '127.0.0.1', () => resolve());
          else srv.listen(arg, () => resolve());
          servers.push(srv);
        });
      const port = await freePort();
      await listen(`${dir}/s.sock`);
      await listen(port);
      const a = await connectRemote(`unix:${dir}/s.sock`);
      const b = await connectRemote({ kind: 'tcp', host: '127.0.0.1', port });
      a.write('via-unix');
      b.write('via-tcp');
      await new Promise<void>((r) => {
        const t = setInterval(() => got.length === 2 && (clearInterval(t), r()), 5);
      });
      expect(got.sort()).toEqual(['via-tcp', 'via-unix']);
      a.destroy();
      b.destroy();
    } finally {
      servers.forEach((s) => s.close());
      cleanup();
    }
  });

  it('fails with OvsdbConnectError naming the remote when nobody listens', async () => {
    const port = await freePort();
    const err = await connectRemote(`tcp:127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbConnectError);
    expect((err as Error).message).toMatch(
      new RegExp(`cannot connect to tcp:127.0.0.1:${port}: .*ECONNREFUSED`),
    );
    const err2 = await connectRemote('unix:/nonexistent/x.sock').catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(OvsdbConnectError);
    expect((err2 as Error).message).toMatch(/ENOENT/);
  });

  it('refuses a unix socket path longer than sockaddr_un holds', async () => {
    await expect(connectRemote(`unix:/tmp/${'x'.repeat(120)}.sock`)).rejects.toThrow(/longer than 107 bytes/);
  });

  it('an ssl remote without TLS files is refused clearly', async () => {
    await expect(connectRemote('ssl:127.0.0.1:1')).rejects.toThrow(/needs TLS options/);
  });

  it('unreadable or invalid TLS files are refused clearly', async () => {
    const { dir, cleanup } = tempDir('h1t-');
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${dir}/k`, 'not a pem');
      const files = { privateKey: `${dir}/k`, certificate: `${dir}/k`, caCert: `${dir}/k` };
      await expect(connectRemote('ssl:127.0.0.1:1', { tls: files })).rejects.toThrow(
        /bad TLS key or certificate files/,
      );
      await expect(
        connectRemote('ssl:127.0.0.1:1', { tls: { ...files, caCert: `${dir}/missing.pem` } }),
      ).rejects.toThrow(/cannot read TLS files/);
    } finally {
      cleanup();
    }
  });
});
