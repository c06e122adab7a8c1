/**
 * Slow and malformed clients (issue 10, defects 9 and 14): a request must arrive whole within
 * REQUEST_RECEIVE_TIMEOUT_MS (a trickled body is cut), while SSE and WebSocket connections — whose request
 * arrived long ago — stay up; requests Node refuses before Fastify sees them (headers too large, not HTTP)
 * are answered in the API's error format.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, post, sampleAlert, SseClient, startStack, WsClient, type Stack } from '../helpers/stack.js';

const RECEIVE_MS = 1000;

interface RawExchange {
  /** Everything the server sent before closing. */
  readonly text: string;
  /** Whether the socket was closed by the server while the client still had bytes to send. */
  readonly cutShort: boolean;
}

/** Sends `head`, then the `trickle` bytes one per `everyMs`, and collects the answer until the server closes. */
async function rawExchange(port: number, head: string, trickle = '', everyMs = 100): Promise<RawExchange> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(head);
  if (trickle.length > 0) {
    timer = setInterval(() => {
      if (sent < trickle.length && !socket.destroyed) socket.write(trickle.charAt(sent++));
    }, everyMs);
  }
  await new Promise<void>((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
  });
  clearInterval(timer);
  return { text, cutShort: sent < trickle.length };
}

const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): { error?: { code: string } } => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error?: { code: string } };

describe('slow and malformed clients', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { REQUEST_RECEIVE_TIMEOUT_MS: String(RECEIVE_MS), RATE_LIMIT_ALERTS_PER_USER: '1000' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('cuts a body trickled slower than the receive timeout with 408, while SSE and WebSocket streams outlive it', async () => {
    const sse = new SseClient(`${s.url}/api/emergency/stream`, auth(s.responder));
    await sse.open();
    await sse.until((e) => e.some((x) => x.event === 'live'));
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));

    // 1 byte every 100 ms of a 200-byte body: 20 s to arrive in full, far beyond the timeout.
    const body = JSON.stringify(sampleAlert()).padEnd(200, ' ');
    const head = `POST /api/emergency/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.member.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const started = Date.now();
    const cut = await rawExchange(s.server.port, head, body, 100);
    expect(cut.cutShort).toBe(true);
    expect(statusOf(cut.text)).toBe(408);
    expect(bodyOf(cut.text).error?.code).toBe('NABOOM_REQUEST_TIMEOUT');
    // The streams opened before the trickle are now older than the receive timeout, and still deliver.
    expect(Date.now() - started).toBeGreaterThanOrEqual(RECEIVE_MS);
    const raised = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
    expect(raised.status).toBe(201);
    const id = (raised.body as { alert_id: string }).alert_id;
    await sse.until((e) => e.some((x) => x.event === 'alert' && x.id === id));
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === id));
    expect(ws.closed).toBeUndefined();
    ws.close();
    await sse.close();
    // A cut request is the client's fault: nothing at error level.
    expect(s.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
  });

  it('answers headers over the limit with 431 NABOOM_HEADERS_TOO_LARGE in the error format', async () => {
    const r = await rawExchange(s.server.port, `GET /api/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(statusOf(r.text)).toBe(431);
    expect(r.text).toMatch(/\r\ncontent-type: application\/json/i);
    expect(bodyOf(r.text)).toEqual({ error: { code: 'NABOOM_HEADERS_TOO_LARGE', message: 'The request headers are too large' } });
  });

  it('answers a request that is not HTTP with 400 NABOOM_BAD_REQUEST in the error format', async () => {
    const r = await rawExchange(s.server.port, 'HELLO THERE\r\n\r\n');
    expect(statusOf(r.text)).toBe(400);
    expect(bodyOf(r.text).error?.code).toBe('NABOOM_BAD_REQUEST');
  });
});
