/**
 * OvsdbClient against tiny in-test servers on unix sockets, for behaviour a real ovsdb-server
 * will not show on demand: old servers without monitor_cond(_since), servers that never answer,
 * malformed notifications.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OvsdbClient, type MonitorNotification } from '../../src/ovsdb/client.js';
import {
  OvsdbConnectionClosedError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbTimeoutError,
} from '../../src/ovsdb/errors.js';
import { JsonFramer } from '../../src/ovsdb/wire/framer.js';
import { parseJson, stringifyJson } from '../../src/ovsdb/wire/json.js';
import { tempDir } from '../helpers/tmp.js';

type Msg = { method?: string; params?: unknown[]; id?: unknown };
/** Returns the reply message to send, a raw string, or undefined to stay silent. */
type Responder = (msg: Msg, sock: Socket) => Record<string, unknown> | string | undefined;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeServer(respond: Responder): Promise<{ remote: string; seen: Msg[] }> {
  const tmp = tempDir('h1f-');
  const path = `${tmp.dir}/fake.sock`;
  const seen: Msg[] = [];
  const sockets: Socket[] = [];
  const srv: Server = createServer((sock) => {
    sockets.push(sock);
    const framer = new JsonFramer();
    sock.on('data', (chunk) =>
      framer.push(chunk, (text, long) => {
        const msg = parseJson(text, long) as Msg;
        seen.push(msg);
        const reply = respond(msg, sock);
        if (reply !== undefined) sock.write(typeof reply === 'string' ? reply : stringifyJson(reply));
      }),
    );
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(path, () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        srv.close(() => r());
      }),
    () => tmp.cleanup(),
  );
  return { remote: `unix:${path}`, seen };
}

async function connect(
  remote: string,
  opts: Parameters<typeof OvsdbClient.connect>[1] = {},
): Promise<OvsdbClient> {
  const c = await OvsdbClient.connect(remote, { probeIntervalMs: 0, ...opts });
  cleanups.push(() => c.close());
  return c;
}

const reply = (id: unknown, result: unknown) => ({ id, result, error: null });
const unknownMethod = (id: unknown) => ({ id, result: null, error: 'unknown method' });

describe('monitorBest fallback', () => {
  it('falls back to monitor_cond when monitor_cond_since is unknown', async () => {
    const srv = await fakeServer((m) =>
      m.method === 'monitor_cond_since'
        ? unknownMethod(m.id)
        : m.method === 'monitor_cond'
          ? reply(m.id, { T: { u1: { initial: { a: 1 } } } })
          : undefined,
    );
    const c = await connect(srv.remote);
    const r = await c.monitorBest('DB', 'm', { T: [{ columns: ['a'], where: [['a', '==', 1]] }] });
    expect(r).toEqual({
      method: 'monitor_cond',
      found: false,
      lastTxnId: '00000000-0000-0000-0000-000000000000',
      updates: { T: { u1: { initial: { a: 1 } } } },
    });
    expect(srv.seen.map((m) => m.method)).toEqual(['monitor_cond_since', 'monitor_cond']);
    expect(srv.seen[0]!.params).toEqual([
      'DB',
      'm',
      { T: [{ columns: ['a'], where: [['a', '==', 1]] }] },
      '00000000-0000-0000-0000-000000000000',
    ]);
  });

  it('falls back to plain monitor (without where clauses) when monitor_cond is unknown too, and routes v1 updates', async () => {
    const srv = await fakeServer((m, sock) => {
      if (m.method === 'monitor') {
        // reply, then an update for this monitor
        setTimeout(
          () =>
            sock.write(
              stringifyJson({
                method: 'update',
                params: [m.params![1], { T: { u1: { new: { a: 2 } } } }],
                id: null,
              }),
            ),
          5,
        );
        return reply(m.id, { T: { u1: { new: { a: 1 } } } });
      }
      return unknownMethod(m.id);
    });
    const c = await connect(srv.remote);
    const seen: MonitorNotification[] = [];
    const r = await c.monitorBest(
      'DB',
      ['id', 7],
      { T: [{ columns: ['a'], where: [['a', '==', 1]] }], U: { columns: [] } },
      undefined,
      {
        handler: (n) => seen.push(n),
      },
    );
    expect(r.method).toBe('monitor');
    expect(r.updates).toEqual({ T: { u1: { new: { a: 1 } } } });
    expect(srv.seen.map((m) => m.method)).toEqual(['monitor_cond_since', 'monitor_cond', 'monitor']);
    expect(srv.seen[2]!.params).toEqual(['DB', ['id', 7], { T: [{ columns: ['a'] }], U: { columns: [] } }]);
    await new Promise<void>((res) => c.once('update', () => res()));
    expect(seen).toEqual([
      { method: 'update', monitorId: ['id', 7], updates: { T: { u1: { new: { a: 2 } } } } },
    ]);
  });

  it('sends all zeros as "no last transaction" and refuses null or non-uuid ids before sending', async () => {
    const srv = await fakeServer((m) => reply(m.id, [false, '00000000-0000-0000-0000-000000000000', {}]));
    const c = await connect(srv.remote);
    await c.monitorCondSince('DB', 'a', {});
    expect(srv.seen[0]!.params![3]).toBe('00000000-0000-0000-0000-000000000000');
    await expect(c.monitorCondSince('DB', 'b', {}, null as unknown as string)).rejects.toThrow(
      /must be a UUID string/,
    );
    await expect(c.monitorCondSince('DB', 'b', {}, 'abc')).rejects.toThrow(/must be a UUID string/);
    expect(srv.seen).toHaveLength(1);
  });

  it('does not fall back on other errors', async () => {
    const srv = await fakeServer((m) => ({
      id: m.id,
      result: null,
      error: { error: 'syntax error', details: 'bad where' },
    }));
    const c = await connect(srv.remote);
    const err = await c.monitorBest('DB', 'm', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbRpcError);
    expect(err).toMatchObject({ error: 'syntax error', details: 'bad where', method: 'monitor_cond_since' });
    expect(srv.seen).toHaveLength(1);
    // the handler registration of the failed attempt is gone, so the id can be used again
    await expect(
      c.monitorBest('DB', 'm', {}, undefined, { handler: () => undefined }),
    ).rejects.toBeInstanceOf(OvsdbRpcError);
    await expect(c.monitorBest('DB', 'm', {}, undefined, { handler: () => undefined })).rejects.not.toThrow(
      /already in use/,
    );
  });
});

describe('timeouts and broken servers', () => {
  it('a request to a server that never answers rejects with OvsdbTimeoutError', async () => {
    const srv = await fakeServer(() => undefined);
    const c = await connect(srv.remote, { requestTimeoutMs: 100 });
    const err = await c.listDbs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbTimeoutError);
    expect((err as Error).message).toMatch(/list_dbs to unix:.*fake\.sock: no reply within 100 ms/);
    await expect(c.transact('DB', [], { timeoutMs: 50 })).rejects.toBeInstanceOf(OvsdbTimeoutError);
    expect(c.isOpen).toBe(true);
  });

  it('monitor requests get the separate, larger dump budget', async () => {
    const srv = await fakeServer((m, sock) => {
      // answer the monitor after 300 ms: longer than the request budget, within the dump budget
      if (m.method === 'monitor_cond') setTimeout(() => sock.write(stringifyJson(reply(m.id, {}))), 300);
      return undefined;
    });
    const c = await connect(srv.remote, { requestTimeoutMs: 100, dumpTimeoutMs: 10_000 });
    await expect(c.monitorCond('DB', 'm', {})).resolves.toEqual({});
    await expect(c.echo()).rejects.toBeInstanceOf(OvsdbTimeoutError);
  });

  it('the client inactivity probe closes a connection to a silent server', async () => {
    const srv = await fakeServer(() => undefined);
    const c = await connect(srv.remote, { probeIntervalMs: 50, requestTimeoutMs: 0 });
    const pending = c.listDbs();
    const reason = await c.closed();
    expect(reason).toBeInstanceOf(OvsdbTimeoutError);
    await expect(pending).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
    expect(srv.seen.map((m) => m.method)).toEqual(['list_dbs', 'echo']);
  });

  it('a malformed monitor notification closes the session with OvsdbProtocolError, not a crash', async () => {
    const srv = await fakeServer((m) =>
      m.method === 'list_dbs' ? '{"method":"update2","params":["m","not-updates"],"id":null}' : undefined,
    );
    const c = await connect(srv.remote);
    const pending = c.listDbs();
    const reason = await c.closed();
    expect(reason).toBeInstanceOf(OvsdbProtocolError);
    expect(reason!.message).toMatch(/update2: unexpected result "not-updates"/);
    await expect(pending).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
  });

  it('a server closing mid-reply rejects the outstanding call by name', async () => {
    const srv = await fakeServer((m, sock) => {
      sock.end(`{"id":${stringifyJson(m.id)},"result":["DB"`);
      return undefined;
    });
    const c = await connect(srv.remote);
    const err = await c.listDbs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbConnectionClosedError);
    expect((err as Error).message).toMatch(/closed the connection in the middle of a message/);
  });
});

describe('notification routing', () => {
  it('delivers each monitor its own notifications, by JSON-equal monitor id', async () => {
    const srv = await fakeServer((m, sock) => {
      if (m.method === 'monitor_cond') return reply(m.id, {});
      if (m.method === 'transact') {
        // like ovsdb-server: the updates our transaction caused come before its reply
        sock.write(
          stringifyJson({
            method: 'update2',
            params: [{ b: 1, a: [2] }, { T: { x: { insert: {} } } }],
            id: null,
          }),
        );
        sock.write(
          stringifyJson({ method: 'update2', params: ['plain', { T: { y: { delete: null } } }], id: null }),
        );
        sock.write(
          stringifyJson({
            method: 'update3',
            params: ['other', 'aaaaaaaa-0000-0000-0000-000000000001', {}],
            id: null,
          }),
        );
        sock.write(stringifyJson({ method: 'locked', params: ['L'], id: null }));
        return reply(m.id, [{}]);
      }
      return undefined;
    });
    const c = await connect(srv.remote);
    const a: MonitorNotification[] = [];
    const b: MonitorNotification[] = [];
    await c.monitorCond('DB', { a: [2], b: 1 }, {}, { handler: (n) => a.push(n) });
    await c.monitorCond('DB', 'plain', {}, { handler: (n) => b.push(n) });
    const order: string[] = [];
    c.on('update3', (id) => order.push(`update3 ${String(id)}`));
    c.on('locked', (l) => order.push(`locked ${l}`));
    await c.transact('DB', [{ op: 'comment', comment: 'x' }]);
    order.push('reply');
    expect(a).toEqual([
      { method: 'update2', monitorId: { b: 1, a: [2] }, updates: { T: { x: { insert: {} } } } },
    ]);
    expect(b).toEqual([{ method: 'update2', monitorId: 'plain', updates: { T: { y: { delete: null } } } }]);
    expect(order).toEqual(['update3 other', 'locked L', 'reply']);
  });
});
