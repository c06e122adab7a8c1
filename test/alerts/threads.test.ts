/** Alert threads end to end: who may post and read, order, bound, hostile text, live delivery on /ws and SSE. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/redis-server.js';
import { createLogger } from '../../src/log/logger.js';
import { RoleClients } from '../../src/redis/connections.js';
import { auth, get, post, sampleAlert, SseClient, startStack, WsClient, type Stack } from '../helpers/stack.js';

interface Message {
  id: string;
  alert_id: string;
  at: string;
  by: { id: string; username: string };
  text: string;
}
interface ErrBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const MAX = 5;

describe('alert threads', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000', THREAD_MAX_MESSAGES: String(MAX), RATE_LIMIT_MESSAGES_PER_USER: '40' } });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    await s.stop();
  });

  const raise = async (who = s.member): Promise<string> => {
    const r = await post(api, sampleAlert(), auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };
  const say = (id: string, text: string, who = s.member) => post(`${api}/${id}/messages`, { text }, auth(who));

  it('the reporter, a responder and an admin post; GET lists the thread in order with who and when', async () => {
    const id = await raise();
    const a = await say(id, 'Smoke near the dam', s.member);
    expect(a.status).toBe(201);
    const m = (a.body as { message: Message }).message;
    expect(m).toMatchObject({ alert_id: id, by: { id: s.member.id, username: 'mia' }, text: 'Smoke near the dam' });
    expect(m.id).toMatch(/^\d+-\d+$/);
    expect(Object.keys(m)).toEqual(['id', 'alert_id', 'at', 'by', 'text']);
    expect((await say(id, 'On my way', s.responder)).status).toBe(201);
    expect((await say(id, 'Fire brigade informed', s.admin_)).status).toBe(201);
    for (const who of [s.member, s.responder, s.admin_]) {
      const r = await get(`${api}/${id}/messages`, auth(who));
      expect(r.status).toBe(200);
      const list = (r.body as { messages: Message[] }).messages;
      expect(list.map((x) => [x.by.username, x.text])).toEqual([
        ['mia', 'Smoke near the dam'],
        ['rita', 'On my way'],
        ['ada', 'Fire brigade informed'],
      ]);
      expect(list[0]).toEqual(m);
    }
    // Kept with the alert: a stream next to its state, with a TTL.
    await s.admin.select(4);
    expect(await s.admin.xlen(`panic:thread:${id}`)).toBe(3);
    expect(await s.admin.ttl(`panic:thread:${id}`)).toBeGreaterThan(86_400);
    await s.admin.select(0);
  });

  it('another member may neither post nor read (403), and writes nothing; an unknown alert is 404', async () => {
    const id = await raise();
    await say(id, 'first');
    const p = await say(id, 'let me in', s.member2);
    expect(p.status).toBe(403);
    expect((p.body as ErrBody).error.code).toBe('NABOOM_FORBIDDEN');
    const r = await get(`${api}/${id}/messages`, auth(s.member2));
    expect(r.status).toBe(403);
    expect(r.text).not.toContain('first');
    const list = (await get(`${api}/${id}/messages`, auth(s.member))).body as { messages: Message[] };
    expect(list.messages.map((x) => x.text)).toEqual(['first']);
    expect((await say('1-1', 'nobody', s.responder)).status).toBe(404);
    expect((await get(`${api}/1-1/messages`, auth(s.responder))).status).toBe(404);
    expect((await post(`${api}/${id}/messages`, { text: 'x' }, {})).status).toBe(401);
  });

  it('text: 1–1,000 characters, well-formed; no other field; control characters kept as JSON escapes', async () => {
    const id = await raise();
    for (const body of [{ text: '' }, { text: 'x'.repeat(1001) }, {}, { text: 'hi', extra: 1 }, { text: 5 }]) {
      const r = await post(`${api}/${id}/messages`, body, auth(s.member));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((r.body as ErrBody).error.code).toBe('NABOOM_VALIDATION');
    }
    // A lone surrogate, as JSON text (JSON.stringify would escape it the same way).
    const lone = await post(`${api}/${id}/messages`, '{"text":"abc\\ud800"}', auth(s.member));
    expect(lone.status).toBe(400);
    expect((await say(id, '😀'.repeat(1000))).status).toBe(201);
    const hostile = 'line\nbreak\u0000nul\u001b[31m <script>alert(1)</script> "quoted"';
    const ok = await say(id, hostile);
    expect(ok.status).toBe(201);
    const list = (await get(`${api}/${id}/messages`, auth(s.responder))).body as { messages: Message[] };
    expect(list.messages.map((x) => x.text)).toEqual(['😀'.repeat(1000), hostile]);
  });

  it('a thread is bounded: past THREAD_MAX_MESSAGES 409 NABOOM_THREAD_FULL, nothing stored', async () => {
    const id = await raise();
    for (let i = 0; i < MAX; i++) expect((await say(id, `m${i}`, s.responder)).status).toBe(201);
    const full = await say(id, 'one more', s.responder);
    expect(full.status).toBe(409);
    expect((full.body as ErrBody).error).toMatchObject({ code: 'NABOOM_THREAD_FULL', details: { count: MAX } });
    const list = (await get(`${api}/${id}/messages`, auth(s.responder))).body as { messages: Message[] };
    expect(list.messages.map((x) => x.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('only the realtime role reaches a thread: app and websocket are refused (NOPERM), realtime may not XLEN elsewhere', async () => {
    const id = await raise();
    await say(id, 'private');
    const clients = new RoleClients(s.redis.config, createLogger({ level: 'silent' }));
    try {
      const key = `panic:thread:${id}`;
      for (const role of ['app', 'websocket'] as const) {
        await expect(clients.get(role).xrange(key, '-', '+'), role).rejects.toThrow(/NOPERM/);
        await expect(clients.get(role).xlen(key), role).rejects.toThrow(/NOPERM/);
      }
      expect(await clients.get('realtime').xlen(key)).toBe(1);
      // The new grant is XLEN on the realtime namespace only.
      await expect(clients.get('realtime').xlen('naboom:queue:notifications:events')).rejects.toThrow(/NOPERM/);
    } finally {
      await clients.close();
    }
  });

  it('a Redis that refuses writes (READONLY) makes posting 503 with a code and Retry-After; nothing is stored', async () => {
    const id = await raise();
    await s.admin.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    try {
      const r = await say(id, 'during the outage', s.responder);
      expect(r.status).toBe(503);
      expect((r.body as ErrBody).error.code).toBe('NABOOM_UNAVAILABLE');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await s.admin.call('REPLICAOF', 'NO', 'ONE');
    }
    const list = (await get(`${api}/${id}/messages`, auth(s.responder))).body as { messages: Message[] };
    expect(list.messages).toEqual([]);
    expect((await say(id, 'after it', s.responder)).status).toBe(201);
  });

  it('posting is rate limited per user (429 with Retry-After)', async () => {
    const id = await raise(s.member2);
    const ids = [id, await raise(s.member2), await raise(s.member2), await raise(s.member2), await raise(s.member2), await raise(s.member2), await raise(s.member2), await raise(s.member2), await raise(s.member2)];
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await say(ids[i % ids.length] ?? id, `n${i}`, s.member2)).status);
    expect(statuses.filter((x) => x === 201).length).toBeLessThanOrEqual(40);
    const limited = await say(id, 'again', s.member2);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
  });

  it('each message goes live as alert.message to a responder and the reporter, not to another member', async () => {
    const responder = new WsClient(s.url, auth(s.responder));
    const reporter = new WsClient(s.url, auth(s.member));
    const other = new WsClient(s.url, auth(s.member2));
    const clients = [responder, reporter, other];
    await Promise.all(clients.map((c) => c.open()));
    for (const c of clients) c.subscribe();
    for (const c of clients) await c.until((f) => f.some((x) => x.type === 'live'));
    const sse = new SseClient(`${s.url}/api/emergency/stream`, auth(s.responder));
    await sse.open();
    await sse.until((e) => e.some((x) => x.event === 'live'));

    const id = await raise();
    const m = ((await say(id, 'Is anyone coming?')).body as { message: Message }).message;
    // A marker the other member does receive: their own alert, raised after the message.
    const marker = await raise(s.member2);
    const isMsg = (x: { type: string; id?: string }) => x.type === 'alert.message' && x.id === m.id;
    await responder.until((f) => f.some(isMsg));
    await reporter.until((f) => f.some(isMsg));
    await other.until((f) => f.some((x) => x.type === 'alert' && x.id === marker));
    // Not this message (the other member may still be getting messages on their own alerts from earlier tests).
    expect(other.frames.filter((x) => x.type === 'alert.message' && x.alert_id === id)).toEqual([]);
    const frame = responder.frames.find(isMsg);
    expect(frame).toEqual({ type: 'alert.message', id: m.id, alert_id: id, message: m });
    await sse.until((e) => e.some((x) => x.event === 'alert.message' && x.id === m.id));
    expect(sse.events.find((x) => x.event === 'alert.message' && x.id === m.id)?.data).toEqual(frame);
    for (const c of clients) c.close();
    await sse.close();
  });

  it('replay: a responder and the reporter reconnecting with their last id get the messages they missed', async () => {
    const id = await raise();
    const responder = new WsClient(s.url, auth(s.responder));
    await responder.open();
    responder.subscribe();
    await responder.until((f) => f.some((x) => x.type === 'live'));
    const marker = await raise();
    await responder.until((f) => f.some((x) => x.id === marker));
    responder.close();
    const m1 = ((await say(id, 'missed one', s.responder)).body as { message: Message }).message;
    const m2 = ((await say(id, 'missed two', s.member)).body as { message: Message }).message;

    for (const who of [s.responder, s.member]) {
      const back = new WsClient(s.url, auth(who));
      await back.open();
      back.subscribe({ since: marker });
      await back.until((f) => f.some((x) => x.type === 'live'));
      const got = back.frames.filter((x) => x.type === 'alert.message').map((x) => x.id);
      expect(got, who.username).toEqual([m1.id, m2.id]);
      back.close();
    }
    // Another member's replay carries none of them.
    const other = new WsClient(s.url, auth(s.member2));
    await other.open();
    other.subscribe({ since: marker });
    await other.until((f) => f.some((x) => x.type === 'live'));
    // Not this message (the other member may still be getting messages on their own alerts from earlier tests).
    expect(other.frames.filter((x) => x.type === 'alert.message' && x.alert_id === id)).toEqual([]);
    other.close();
  });
});
