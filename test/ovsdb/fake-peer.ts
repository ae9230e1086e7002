/** An in-memory peer for JSON-RPC tests: what the client writes is framed and parsed; the test writes raw text back. */
import { Duplex, PassThrough } from 'node:stream';
import { JsonFramer } from '../../src/ovsdb/wire/framer.js';
import { parseJson } from '../../src/ovsdb/wire/json.js';

export interface FakePeer {
  /** the client's end */
  stream: Duplex;
  /** messages the client sent, in order */
  received: Record<string, unknown>[];
  /** resolves with the next message the client sends (or one already queued and not yet taken) */
  next(): Promise<Record<string, unknown>>;
  /** writes raw text to the client */
  send(text: string | Uint8Array): void;
  /** ends the stream toward the client (like the server closing) */
  end(): void;
}

export function fakePeer(): FakePeer {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const stream = Duplex.from({ readable: toClient, writable: fromClient });
  const received: Record<string, unknown>[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  const framer = new JsonFramer();
  fromClient.on('data', (chunk: Buffer) =>
    framer.push(chunk, (text, long) => {
      received.push(parseJson(text, long) as Record<string, unknown>);
      waiters.splice(0).forEach((w) => w());
    }),
  );
  return {
    stream,
    received,
    async next() {
      while (taken >= received.length) await new Promise<void>((r) => waiters.push(r));
      return received[taken++]!;
    },
    send(text) {
      toClient.write(text);
    },
    end() {
      toClient.end();
    },
  };
}
