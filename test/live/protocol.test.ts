/**
 * The live protocol on the wire (real server, real Redis): every frame a WebSocket and an SSE client receive
 * through a subscribe, a replay, live events, heartbeats and refusals is a message of the published union, the
 * event frames carry their event name, and the schema is served without login.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_EVENTS } from '../../src/alerts/model.js';
import { serverMessage } from '../../src/http/live/protocol.js';
import { auth, get, post, sampleAlert, SseClient, startStack, WsClient, type Stack } from '../helpers/stack.js';

describe('live protocol on the wire', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    s = await startStack({ env: { LIVE_HEARTBEAT_MS: '200', LIVE_SUBSCRIBES_PER_MIN: '1000' } });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    await s.stop();
  });

  const raise = async (): Promise<string> => {
    const r = await post(api, sampleAlert(), auth(s.member));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  it('serves the committed JSON Schema at GET /api/live/schema without login', async () => {
    const r = await get(`${s.url}/api/live/schema`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/schema\+json/);
    expect(r.text).toBe(readFileSync(new URL('../../docs/live-protocol.schema.json', import.meta.url), 'utf8'));
  });

  it('every WebSocket and SSE frame is a message of the union; event frames name their event', async () => {
    const before = await raise();
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.ws.send('not json');
    ws.subscribe({ severities: ['nope'] });
    ws.subscribe({ since: '0-0' });
    const sse = new SseClient(`${s.url}/api/emergency/stream?since=0-0`, auth(s.responder));
    await sse.open();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    await sse.until((e) => e.some((x) => x.event === 'live'));
    const id = await raise();
    await post(`${api}/${id}/ack`, null, auth(s.responder));
    expect((await post(`${api}/${id}/messages`, { text: 'on my way' }, auth(s.responder))).status).toBe(201);
    await ws.until((f) => f.some((x) => x.type === 'alert.message') && f.some((x) => x.type === 'heartbeat'));
    await sse.until((e) => e.some((x) => x.event === 'alert.message') && e.some((x) => x.event === 'heartbeat'));

    for (const frame of ws.frames) expect(serverMessage.safeParse(frame).error?.issues, JSON.stringify(frame).slice(0, 200)).toBeUndefined();
    for (const e of sse.events) {
      expect(serverMessage.safeParse(e.data).error?.issues, JSON.stringify(e.data).slice(0, 200)).toBeUndefined();
      expect(e.event).toBe(e.data.type);
    }
    const types = new Set(ws.frames.map((f) => f.type));
    for (const t of ['error', 'subscribed', 'replay.start', 'replay.end', 'live', 'alert', 'alert.updated', 'alert.message', 'heartbeat']) expect(types, t).toContain(t);
    for (const frames of [ws.frames, sse.events.map((e) => e.data)]) {
      expect(frames.find((f) => f.type === 'alert' && f.id === before)?.['event']).toBe(ALERT_EVENTS.raised);
      expect(frames.find((f) => f.type === 'alert' && f.id === id)?.['event']).toBe(ALERT_EVENTS.raised);
      expect(frames.find((f) => f.type === 'alert.updated' && f.alert?.id === id)?.['event']).toBe(ALERT_EVENTS.updated);
    }
    ws.close();
    await sse.close();
  });
});
