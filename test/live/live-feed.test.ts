/**
 * The live feed in operation: subscriptions that never expire, heartbeats that prove the feed is alive,
 * serialised subscribes, bounded replays and validated positions, and quiet handling of oversized frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAM_ID } from '../../src/alerts/stream-id.js';
import { waitFor } from '../../src/local/wait.js';
import { auth, get, post, sampleAlert, SseClient, startStack, WsClient, type Frame, type Stack } from '../helpers/stack.js';

const HEARTBEAT_MS = 250;

const heartbeats = (frames: readonly Frame[]): Frame[] => frames.filter((f) => f.type === 'heartbeat');

describe('live feed in operation', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    s = await startStack({
      env: { GROUP_EXPIRY_S: '1', LIVE_HEARTBEAT_MS: String(HEARTBEAT_MS), LIVE_SUBSCRIBES_PER_MIN: '1000', RATE_LIMIT_ALERTS_PER_USER: '10000', RATE_LIMIT_ALERTS_PER_IP: '10000' },
    });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    await s.stop();
  });

  const raise = async (over: Record<string, unknown> = {}, who = s.member): Promise<string> => {
    const r = await post(api, sampleAlert(over), auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };
  const liveClients = async (transport: 'ws' | 'sse'): Promise<number> => {
    const m = await s.server.metrics.registry.getSingleMetric('naboom_live_clients')?.get();
    return m?.values.find((v) => v.labels['transport'] === transport)?.value ?? 0;
  };

  it('keeps delivering to subscribers connected well past GROUP_EXPIRY_S (1 s)', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const sse = new SseClient(`${s.url}/api/emergency/stream`, auth(s.responder));
    await sse.open();
    await sse.until((e) => e.some((x) => x.event === 'live'));
    const early = await raise();
    await ws.until((f) => f.some((x) => x.id === early));
    await sse.until((e) => e.some((x) => x.id === early));
    // Let well over a group expiry pass, measured on the server's own heartbeat clock.
    await ws.until((f) => heartbeats(f).length > 0);
    const since = Date.parse(String(heartbeats(ws.frames)[0]?.['server_time']));
    await ws.until((f) => heartbeats(f).some((h) => Date.parse(String(h['server_time'])) - since > 2500), 10_000);
    const late = await raise({ severity: 'critical' });
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === late));
    await sse.until((e) => e.some((x) => x.event === 'alert' && x.id === late));
    ws.close();
    await sse.close();
  });

  it('heartbeats carry the server time, the fanned-out feed position and the interval, on WS and SSE', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    expect(ws.frames.find((f) => f.type === 'live')?.['interval_ms']).toBe(HEARTBEAT_MS);
    const sse = new SseClient(`${s.url}/api/emergency/stream`, auth(s.responder));
    await sse.open();
    await sse.until((e) => e.some((x) => x.event === 'live'));
    const id = await raise({ severity: 'low' });
    const before = Date.now();
    await ws.until((f) => heartbeats(f).some((h) => h['position'] === id));
    await sse.until((e) => e.some((x) => x.event === 'heartbeat' && x.data['position'] === id));
    for (const h of [heartbeats(ws.frames).at(-1), sse.events.filter((e) => e.event === 'heartbeat').at(-1)?.data]) {
      expect(h?.['interval_ms']).toBe(HEARTBEAT_MS);
      const t = Date.parse(String(h?.['server_time']));
      expect(String(h?.['server_time'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(t - before)).toBeLessThan(5000);
    }
    ws.close();
    await sse.close();
  });

  it('a burst of 150 subscribes on one socket leaves exactly one subscription, and none after close', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    for (let i = 0; i < 149; i++) ws.subscribe({ severities: ['low'] });
    ws.subscribe({ severities: ['low', 'medium', 'high', 'critical'] });
    const lastSubscribed = (f: Frame[]): number => f.findIndex((x) => x.type === 'subscribed' && Array.isArray(x['severities']) && x['severities'].length === 4);
    await ws.until((f) => lastSubscribed(f) >= 0 && f.slice(lastSubscribed(f)).some((x) => x.type === 'live'));
    expect(await liveClients('ws')).toBe(1);
    const low = await raise({ severity: 'low' });
    const marker = await raise({ severity: 'critical' });
    await ws.until((f) => f.some((x) => x.id === marker));
    expect(ws.alerts().filter((x) => x.id === low)).toHaveLength(1);
    ws.close();
    await waitFor('no live WebSocket clients', async () => (await liveClients('ws')) === 0, { timeoutMs: 5000, intervalMs: 0 });
  });

  it('validates since: a bad id is an error frame (socket open) or a 400; the largest id replays nothing', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe({ since: '99999999999999999999-0' });
    await ws.until((f) => f.some((x) => x.type === 'error'));
    expect(ws.frames.find((x) => x.type === 'error')?.['code']).toBe('NABOOM_VALIDATION');
    ws.subscribe({ since: MAX_STREAM_ID });
    await ws.until((f) => f.some((x) => x.type === 'live'));
    expect(ws.frames.find((x) => x.type === 'replay.end')?.['replayed']).toBe(0);
    expect(ws.closed).toBeUndefined();
    ws.close();

    for (const q of ['since=99999999999999999999-0', 'since=18446744073709551616-0', 'severities=,,,', 'severities=%20,%20']) {
      const r = await get(`${s.url}/api/emergency/stream?${q}`, auth(s.responder));
      expect(r.status, q).toBe(400);
      expect((r.body as { error: { code: string } }).error.code, q).toBe('NABOOM_VALIDATION');
    }
    const sse = new SseClient(`${s.url}/api/emergency/stream?since=${MAX_STREAM_ID}`, auth(s.responder));
    await sse.open();
    await sse.until((e) => e.some((x) => x.event === 'live'));
    expect(sse.events.find((x) => x.event === 'replay.end')?.data['replayed']).toBe(0);
    await sse.close();
  });

  it('a member replays their own alerts from their reporter index: raised after since, and changed since', async () => {
    const older = await raise({}, s.member2);
    const otherMember = await raise({}, s.member);
    // The client's cursor: it has seen `older` (its own alert) and nothing after it.
    const since = older;
    await post(`${api}/${older}/ack`, null, auth(s.responder));
    const newer = await raise({}, s.member2);
    const foreign = await raise({}, s.member);

    const ws = new WsClient(s.url, auth(s.member2));
    await ws.open();
    ws.subscribe({ since });
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const replayed = ws.alerts();
    expect(replayed.find((x) => x.alert?.id === older)).toMatchObject({ type: 'alert.updated', id: since, alert: { status: 'acknowledged' } });
    expect(replayed.find((x) => x.alert?.id === newer)).toMatchObject({ type: 'alert', id: newer });
    expect(replayed.some((x) => x.alert?.id === foreign || x.alert?.id === otherMember)).toBe(false);
    const end = ws.frames.find((x) => x.type === 'replay.end');
    expect(typeof end?.['last_id']).toBe('string');
    // Live continues after the replay.
    const after = await raise({}, s.member2);
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === after));
    ws.close();
  });

  it('an oversized WebSocket frame closes the socket with 1009 and logs no error', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    const errorsBefore = s.logs.filter((l) => l.includes('"level":50')).length;
    ws.ws.send('x'.repeat(10_000));
    await waitFor('the socket to be closed', () => ws.closed !== undefined, { timeoutMs: 5000, intervalMs: 0 });
    expect(ws.closed?.code).toBe(1009);
    expect(s.logs.filter((l) => l.includes('"level":50')).length).toBe(errorsBefore);
    expect(await s.server.metrics.registry.getSingleMetricAsString('naboom_live_oversized_frames_total')).toMatch(/ 1$/m);
  });
  it('a client that floods frames without reading the answers is cut off, not buffered without bound', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    // Stop reading: the server's error frames pile up in the kernel buffers, then in the socket's own buffer.
    ws.ws.pause();
    const frame = Buffer.from('x');
    for (let i = 0; i < 400_000 && ws.ws.readyState === ws.ws.OPEN; i++) {
      ws.ws.send(frame);
      // Let the server answer (and, with the fix, cut the socket) while the flood goes on.
      if (i % 5000 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    ws.ws.resume();
    await waitFor('the socket to be closed', () => ws.closed !== undefined, { timeoutMs: 20_000, intervalMs: 0 });
    expect(await s.server.metrics.registry.getSingleMetricAsString('naboom_live_refused_total')).toMatch(/reason="not_reading"\} [1-9]/);
    await waitFor('no live WebSocket clients', async () => (await liveClients('ws')) === 0, { timeoutMs: 5000, intervalMs: 0 });
  }, 40_000);
});
