import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsTextFrame } from './frames.js';
import { WsSocket, type PreFramed } from './ws-socket.js';

const require = createRequire(import.meta.url);

/** The pre-framed write path against the ws version we ship: the socket is reachable and frames interleave in order. */
describe('pre-framed WebSocket writes', () => {
  let server: WebSocketServer;
  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => server.once('listening', r));
  });

  /**
   * A client connected to the server: the server's side of it with its upgrade request's TCP socket (what ws
   * frames onto), the client's messages as they arrive, and `all`, settled once `expected` have.
   */
  async function connect(expected: number) {
    const side = new Promise<[WebSocket, IncomingMessage['socket']]>((resolve) => server.once('connection', (ws: WebSocket, req: IncomingMessage) => resolve([ws, req.socket])));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const received: string[] = [];
    const all = new Promise<void>((resolve) => client.on('message', (d: Buffer) => received.push(d.toString()) === expected && resolve()));
    await new Promise((r) => client.once('open', r));
    const [ws, tcp] = await side;
    return { client, ws, tcp, received, all };
  }

  /** What reaches the socket's implementation (stream implementers' API: one call is one syscall), a list of chunks per call. */
  function recordWrites(tcp: IncomingMessage['socket']): Buffer[][] {
    const writes: Buffer[][] = [];
    const raw = tcp as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
    for (const m of ['_write', '_writev'] as const) {
      const original = raw[m].bind(raw);
      raw[m] = (...args: unknown[]) => {
        writes.push(m === '_writev' ? (args[0] as { chunk: Buffer }[]).map((c) => c.chunk) : [args[0] as Buffer]);
        original(...args);
      };
    }
    return writes;
  }

  const framed = (text: string): PreFramed => {
    const bytes = Buffer.from(text);
    return { bytes, ws: wsTextFrame(bytes) };
  };
  afterAll(async () => {
    for (const c of server.clients) c.terminate();
    await new Promise((r) => server.close(r));
  });

  it('runs against the copy of ws that @fastify/websocket loads in production, at the pinned version', () => {
    const ours = require.resolve('ws');
    const plugins = createRequire(require.resolve('@fastify/websocket')).resolve('ws');
    expect(plugins).toBe(ours);
    const pinned = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }).dependencies['ws'];
    const installed = (JSON.parse(readFileSync(join(dirname(ours), 'package.json'), 'utf8')) as { name: string; version: string });
    expect(installed.name).toBe('ws');
    expect(pinned).toBe(installed.version);
  });

  it('reaches the TCP socket under ws and delivers raw frames and ws.send messages in call order', async () => {
    const { client, ws, tcp: raw, received, all } = await connect(6);
    ws.send('one');
    raw.write(wsTextFrame(Buffer.from('two')));
    raw.write(wsTextFrame(Buffer.from('x'.repeat(70_000))));
    ws.send('four');
    // The same path through the adapter the live feed uses.
    const socket = new WsSocket(ws, raw);
    expect(socket.direct).toBe(true);
    socket.sendFramed(framed('five'));
    socket.sendText('six');
    await all;
    expect(received.map((m) => (m.length > 10 ? `${m.length}` : m))).toEqual(['one', 'two', '70000', 'four', 'five', 'six']);
    client.close();
  });

  it('between cork and uncork, hands every frame to the TCP socket in one write, in call order', async () => {
    const { client, ws, tcp, received, all } = await connect(8);
    const socket = new WsSocket(ws, tcp);
    const writes = recordWrites(tcp);
    socket.cork();
    socket.sendFramed(framed('a'));
    socket.sendFramed(framed('b'));
    socket.sendText('c');
    socket.sendFramed(framed('d'));
    expect(writes).toEqual([]);
    socket.uncork();
    // One write carrying every frame (ws may split its own message into header and payload chunks).
    expect(writes).toHaveLength(1);
    expect(writes[0]?.length).toBeGreaterThanOrEqual(4);
    // Uncorked, each message is a write of its own (the behaviour a batch replaces).
    socket.sendFramed(framed('e'));
    socket.sendFramed(framed('f'));
    await new Promise<void>((r) => setImmediate(r));
    expect(writes.length).toBeGreaterThanOrEqual(2);
    socket.cork();
    socket.sendFramed(framed('g'));
    socket.sendFramed(framed('h'));
    socket.uncork();
    await all;
    expect(received).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    client.close();
  });

  it('without the TCP socket (an in-process upgrade) sends through ws, and takes frames only while open and below the mark', async () => {
    const { client, ws, tcp, received, all: both } = await connect(2);
    const viaWs = new WsSocket(ws, undefined);
    expect(viaWs.direct).toBe(false);
    const one = framed('one');
    viaWs.sendFramed(one);
    viaWs.sendText('two');
    await both;
    expect(received).toEqual(['one', 'two']);
    const direct = new WsSocket(ws, tcp);
    expect(direct.canTake(1)).toBe(true);
    // Corked, a frame is held and counts against the mark: at or over it, no more frames are taken.
    direct.cork();
    direct.sendFramed(one);
    expect(direct.canTake(5)).toBe(false);
    expect(direct.canTake(6)).toBe(true);
    direct.uncork();
    const closed = new Promise((r) => ws.once('close', r));
    client.close();
    await closed;
    expect(direct.canTake(1 << 20)).toBe(false);
  });

  it('uncorked with the batch it got all of, writes the batch\'s one shared block; otherwise its own frames', async () => {
    const { client, ws, tcp, received, all } = await connect(6);
    const socket = new WsSocket(ws, tcp);
    const chunks = recordWrites(tcp);
    const [a, b, r] = [framed('a'), framed('b'), framed('replayed')];
    const block = Buffer.concat([a.ws, b.ws]);
    const shared = { frames: [a, b], block: () => block };
    // Given exactly the batch's frames: one write, and it is the shared block itself.
    socket.cork();
    socket.sendFramed(a);
    socket.sendFramed(b);
    // Held frames count against the high-water mark before they reach the socket.
    expect(socket.canTake(a.ws.length + b.ws.length)).toBe(false);
    expect(socket.canTake(a.ws.length + b.ws.length + 1)).toBe(true);
    expect(chunks).toEqual([]);
    socket.uncork(shared);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.[0]).toBe(block);
    // The same number of frames but not the batch's (a replayed frame in place of b): its own frames, in order.
    socket.cork();
    socket.sendFramed(a);
    socket.sendFramed(r);
    socket.uncork(shared);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.map((c) => c.toString('latin1'))).toEqual([a.ws.toString('latin1'), r.ws.toString('latin1')]);
    // A message through ws while frames are held leaves after them.
    socket.cork();
    socket.sendFramed(b);
    socket.sendText('text');
    socket.uncork(shared);
    await all;
    expect(received).toEqual(['a', 'b', 'a', 'replayed', 'b', 'text']);
    client.close();
  });
});
