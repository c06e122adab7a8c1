import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { FeedNotice } from '../../alerts/feed.js';
import { ALERT_EVENTS, type AlertDoc, type FeedEvent } from '../../alerts/model.js';
import { encodeEvent, noticeFrame, noticeMessage, sseEvent, wsText, wsTextFrame } from './frames.js';
import { serverMessage, type ServerMessage } from './protocol.js';

/** ws's frame parser (exported by ws at runtime, absent from its type declarations). */
type WsReceiver = EventEmitter & { write(chunk: Buffer): boolean };
const Receiver = (createRequire(import.meta.url)('ws') as { Receiver: unknown }).Receiver as new (opts: { isServer: boolean; maxPayload: number }) => WsReceiver;

/** Parses frames the way a WebSocket client does (ws's own receiver, client side). */
function decode(frame: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new Receiver({ isServer: false, maxPayload: 0 });
    r.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? reject(new Error('binary frame')) : resolve(data.toString('utf8'))));
    r.on('error', reject);
    r.write(frame);
  });
}

describe('pre-framed WebSocket text frames', () => {
  it.each([0, 5, 125, 126, 200, 65_535, 65_536, 70_000])('a %i-byte payload decodes to the same text', async (n) => {
    const text = 'é'.repeat(Math.floor(n / 2)) + 'a'.repeat(n % 2);
    const payload = Buffer.from(text, 'utf8');
    expect(payload.length).toBe(n);
    const frame = wsTextFrame(payload);
    expect(frame[0]).toBe(0x81);
    expect(await decode(frame)).toBe(text);
  });
});

const doc: AlertDoc = {
  id: '1712345678901-0',
  type: 'panic',
  severity: 'high',
  status: 'open',
  location: { lat: -33.9, lon: 18.4 },
  reporter: { id: 'u1', username: 'kim' },
  created_at: '2024-04-05T19:21:18.901Z',
  updated_at: '2024-04-05T19:21:18.901Z',
  escalations: 0,
  history: [{ event: 'raised', at: '2024-04-05T19:21:18.901Z' }],
};

describe('event frames', () => {
  it.each([
    ['alert', ALERT_EVENTS.raised],
    ['alert.updated', ALERT_EVENTS.updated],
  ] as const)('a %s event names its event (%s), keeps every field and is a valid server message', async (type, event) => {
    const e: FeedEvent = { id: type === 'alert' ? doc.id : '1712345678999-3', type, alert: doc };
    const frame = encodeEvent(e);
    const json = JSON.parse(frame.json) as unknown;
    expect(json).toEqual({ type, id: e.id, event, alert: doc });
    expect(serverMessage.parse(json)).toEqual(json);
    // The wire format starts with type and id (clients and the benchmark match on this prefix).
    expect(frame.json.startsWith(`{"type":"${type}","id":"${e.id}"`)).toBe(true);
    expect(await decode(frame.ws)).toBe(frame.json);
    expect(frame.sse.toString('utf8')).toBe(`id: ${e.id}\nevent: ${type}\ndata: ${frame.json}\n\n`);
  });

  it('builds each form once and shares it', () => {
    const frame = encodeEvent({ id: doc.id, type: 'alert', alert: doc });
    expect(frame.ws).toBe(frame.ws);
    expect(frame.sse).toBe(frame.sse);
    expect(frame.bytes).toBe(frame.bytes);
  });
});

describe('control messages', () => {
  it('every feed notice is a server message, on WebSocket and SSE alike', () => {
    expectTypeOf<FeedNotice>().toExtend<ServerMessage>();
    const m = noticeMessage('replay.end', { replayed: 3, last_id: '5-0' });
    expect(serverMessage.parse(m)).toEqual({ type: 'replay.end', replayed: 3, last_id: '5-0' });
    const beat = noticeMessage('heartbeat', { server_time: new Date(0).toISOString(), position: null, interval_ms: 15_000 });
    expect(serverMessage.safeParse(beat).success).toBe(true);
    expect(sseEvent(m)).toBe(`event: replay.end\ndata: ${JSON.stringify(m)}\n\n`);
  });

  it('a heartbeat is encoded once for every socket given the same data, and the same bytes as a per-socket notice', async () => {
    const data = { server_time: new Date(0).toISOString(), position: '5-0', interval_ms: 15_000 };
    const frame = noticeFrame('heartbeat', data);
    expect(noticeFrame('heartbeat', data)).toBe(frame);
    const text = wsText(noticeMessage('heartbeat', data));
    expect(frame.json).toBe(text);
    expect(await decode(frame.ws)).toBe(text);
    expect(frame.sse.toString('utf8')).toBe(sseEvent(noticeMessage('heartbeat', data)));
    // The next beat (another data object, another position) is its own frame.
    const next = noticeFrame('heartbeat', { ...data, position: '6-0' });
    expect(next).not.toBe(frame);
    expect(JSON.parse(next.json)).toMatchObject({ type: 'heartbeat', position: '6-0' });
  });
});
