import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  OvsdbConnectionClosedError,
  OvsdbError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbTimeoutError,
} from '../../src/ovsdb/errors.js';
import { JsonRpcSession } from '../../src/ovsdb/wire/jsonrpc.js';
import { fakePeer } from './fake-peer.js';

const quiet = { probeIntervalMs: 0 };

describe('JsonRpcSession', () => {
  it('sends JSON-RPC 1.0 requests without a jsonrpc member, with unique ids, and matches replies by id', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const a = s.call('list_dbs', []);
    const b = s.call('get_schema', ['X']);
    const ma = await peer.next();
    const mb = await peer.next();
    expect(Object.keys(ma).sort()).toEqual(['id', 'method', 'params']);
    expect(ma).toMatchObject({ method: 'list_dbs', params: [] });
    expect(mb).toMatchObject({ method: 'get_schema', params: ['X'] });
    expect(ma.id).not.toEqual(mb.id);
    // answer out of order
    peer.send(`{"id":${JSON.stringify(mb.id)},"result":{"name":"X"},"error":null}`);
    peer.send(`{"id":${JSON.stringify(ma.id)},"result":["X"],"error":null}`);
    expect(await a).toEqual(['X']);
    expect(await b).toEqual({ name: 'X' });
    s.close();
  });

  it('answers the server echo request with the same id and params', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const echoed = once(s, 'echo');
    peer.send('{"method":"echo","params":["ping",12345678901234567890],"id":"echo"}');
    expect(await peer.next()).toEqual({ result: ['ping', 12345678901234567890n], error: null, id: 'echo' });
    expect((await echoed)[0]).toEqual(['ping', 12345678901234567890n]);
    s.close();
  });

  it('refuses other server requests with "unknown method" and keeps going', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    peer.send('{"method":"bogus","params":[],"id":7}');
    expect(await peer.next()).toEqual({
      result: null,
      error: { error: 'unknown method', details: 'bogus' },
      id: 7,
    });
    expect(s.isOpen).toBe(true);
    s.close();
  });

  it('delivers notifications that precede a reply before the reply resolves', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const order: string[] = [];
    s.on('notification', (method) => order.push(method));
    const p = s.call('transact', ['DB']).then(() => order.push('reply'));
    const m = await peer.next();
    // notification and reply in one chunk, notification first (as ovsdb-server sends them)
    peer.send(`{"method":"update2","params":["m",{}],"id":null}{"id":${m.id},"result":[{}],"error":null}`);
    await p;
    expect(order).toEqual(['update2', 'reply']);
    s.close();
  });

  it('lets the caller of a call see its reply before any message that followed it is delivered', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const order: string[] = [];
    s.on('notification', (method) => order.push(method));
    // several await hops, like a monitor call wrapped by a cache loader
    const consumer = (async () => {
      const dump = await s.call('monitor_cond', ['DB', 'm', {}]).then((r) => r);
      await Promise.resolve();
      order.push(`initial ${JSON.stringify(dump)}`);
    })();
    const m = await peer.next();
    peer.send(
      `{"id":${m.id},"result":{"T":{}},"error":null}{"method":"update2","params":["m",{}],"id":null}` +
        `{"method":"update3","params":["m","x",{}],"id":null}`,
    );
    await consumer;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['initial {"T":{}}', 'update2', 'update3']);
    s.close();
  });

  it('handles every reply received before the peer closed', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const a = s.call('echo', ['a']);
    const b = s.call('echo', ['b']);
    const closed = once(s, 'close');
    const ma = await peer.next();
    const mb = await peer.next();
    peer.send(`{"id":${ma.id},"result":["a"],"error":null}{"id":${mb.id},"result":["b"],"error":null}`);
    peer.end();
    expect(await a).toEqual(['a']);
    expect(await b).toEqual(['b']);
    expect(((await closed) as [Error])[0]).toBeInstanceOf(OvsdbConnectionClosedError);
  });

  it('turns an error reply into OvsdbRpcError with error and details', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const p = s.call('monitor', ['DB', 'x', {}]);
    const m = await peer.next();
    peer.send(`{"id":${m.id},"result":null,"error":{"error":"duplicate monitor ID","details":"x"}}`);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbRpcError);
    expect(err).toMatchObject({ error: 'duplicate monitor ID', details: 'x', method: 'monitor' });
    s.close();
  });

  it('rejects a request that gets no reply with OvsdbTimeoutError and ignores the late reply', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const p = s.call('transact', ['DB'], { timeoutMs: 50 });
    const m = await peer.next();
    await expect(p).rejects.toBeInstanceOf(OvsdbTimeoutError);
    await expect(p).rejects.toThrow(/no reply within 50 ms/);
    peer.send(`{"id":${m.id},"result":[],"error":null}`);
    // the late reply is dropped quietly; the session keeps working
    const q = s.call('echo', ['after']);
    const m2 = await peer.next();
    peer.send(`{"id":${m2.id},"result":["after"],"error":null}`);
    expect(await q).toEqual(['after']);
    expect(s.isOpen).toBe(true);
    s.close();
  });

  it('rejects outstanding calls with OvsdbConnectionClosedError when the peer closes, and later calls too', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const p = s.call('transact', ['DB'], { timeoutMs: 0 });
    await peer.next();
    const closed = once(s, 'close');
    peer.send('{"id":99,"res');
    peer.end();
    await expect(p).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
    const [reason] = (await closed) as [Error];
    expect(reason.message).toMatch(/closed the connection in the middle of a message/);
    await expect(s.call('list_dbs', [])).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
    expect(() => s.notify('cancel', [1])).toThrow(OvsdbConnectionClosedError);
    expect(s.isOpen).toBe(false);
  });

  it('a stream that is already closed closes the session at once', async () => {
    const peer = fakePeer();
    peer.stream.destroy();
    const s = new JsonRpcSession(peer.stream, quiet);
    await expect(s.call('list_dbs', [], { timeoutMs: 0 })).rejects.toBeInstanceOf(OvsdbConnectionClosedError);
    expect(s.isOpen).toBe(false);
  });

  it('closing on purpose reports no error reason', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const p = s.call('lock', ['l'], { timeoutMs: 0 });
    const closed = once(s, 'close');
    s.close();
    await expect(p).rejects.toThrow(/closed by the client/);
    expect((await closed)[0]).toBeUndefined();
  });

  for (const [what, input, pattern] of [
    ['garbage', 'hello', /malformed input .*expected '\{' or '\['/],
    ['invalid JSON inside a frame', '{"id":1,"result":[1,,2]}', /malformed input .*invalid JSON/],
    ['a non-object message', '[1,2,3]', /expected a JSON-RPC object/],
    ['a notification without params', '{"method":"update","id":null}', /without a params array/],
    ['a message that is neither', '{"foo":1}', /neither request, notification nor response/],
  ] as const) {
    it(`closes the session with OvsdbProtocolError on ${what}`, async () => {
      const peer = fakePeer();
      const s = new JsonRpcSession(peer.stream, quiet);
      const p = s.call('list_dbs', [], { timeoutMs: 0 });
      await peer.next();
      const closed = once(s, 'close');
      peer.send(input);
      const [reason] = (await closed) as [Error];
      expect(reason).toBeInstanceOf(OvsdbProtocolError);
      expect(reason.message).toMatch(pattern);
      const err = (await p.catch((e: unknown) => e)) as OvsdbConnectionClosedError;
      expect(err).toBeInstanceOf(OvsdbConnectionClosedError);
      expect(err.cause).toBe(reason);
    });
  }

  it('inactivity probe: sends echo when idle and closes with OvsdbTimeoutError when nothing comes back', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, { probeIntervalMs: 60 });
    const closed = once(s, 'close');
    const probe = await peer.next();
    expect(probe).toMatchObject({ method: 'echo', params: [] });
    const [reason] = (await closed) as [Error];
    expect(reason).toBeInstanceOf(OvsdbTimeoutError);
    expect(reason.message).toMatch(/did not answer an echo probe/);
  });

  it('inactivity probe: a peer that answers the echo keeps the session open', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, { probeIntervalMs: 40 });
    for (let i = 0; i < 4; i++) {
      const probe = await peer.next();
      expect(probe.method).toBe('echo');
      peer.send(`{"id":${JSON.stringify(probe.id)},"result":[],"error":null}`);
    }
    expect(s.isOpen).toBe(true);
    s.close();
  });

  it('aborting a call rejects it and runs the onAbort hook with its id', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    const ac = new AbortController();
    let abortedId: number | undefined;
    const sent = s.send('transact', ['DB'], { signal: ac.signal, onAbort: (id) => (abortedId = id) });
    await peer.next();
    ac.abort(new Error('enough'));
    await expect(sent.result).rejects.toThrow(/transact aborted: enough/);
    await expect(sent.result).rejects.toBeInstanceOf(OvsdbError);
    expect(abortedId).toBe(sent.id);
    s.close();
  });

  it('a throwing listener does not break the session', async () => {
    const peer = fakePeer();
    const s = new JsonRpcSession(peer.stream, quiet);
    s.on('notification', () => {
      throw new Error('listener bug');
    });
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const p = s.call('list_dbs', []);
      const m = await peer.next();
      peer.send(`{"method":"update","params":["m",{}],"id":null}{"id":${m.id},"result":[],"error":null}`);
      expect(await p).toEqual([]);
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(errors).toHaveLength(1);
    expect(s.isOpen).toBe(true);
    s.close();
  });
});
