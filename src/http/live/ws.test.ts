import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsTextFrame } from '../../alerts/feed.js';
import { rawSocketOf } from './ws.js';

/** The pre-framed write path against the ws version we ship: the socket is reachable and frames interleave in order. */
describe('pre-framed WebSocket writes', () => {
  let server: WebSocketServer;
  let serverSide: Promise<WebSocket>;
  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    serverSide = new Promise((resolve) => server.once('connection', resolve));
    await new Promise((r) => server.once('listening', r));
  });
  afterAll(async () => {
    for (const c of server.clients) c.terminate();
    await new Promise((r) => server.close(r));
  });

  it('reaches the TCP socket under ws and delivers raw frames and ws.send messages in call order', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const received: string[] = [];
    const all = new Promise<void>((resolve) => client.on('message', (d: Buffer) => received.push(d.toString()) === 4 && resolve()));
    await new Promise((r) => client.once('open', r));
    const ws = await serverSide;
    const raw = rawSocketOf(ws);
    expect(raw).toBeDefined();
    ws.send('one');
    raw?.write(wsTextFrame(Buffer.from('two')));
    raw?.write(wsTextFrame(Buffer.from('x'.repeat(70_000))));
    ws.send('four');
    await all;
    expect(received.map((m) => (m.length > 10 ? `${m.length}` : m))).toEqual(['one', 'two', '70000', 'four']);
    client.close();
  });
});
