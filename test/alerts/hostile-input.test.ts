/**
 * Hostile input and data integrity over HTTP (real server, real Redis with the generated ACL): text that is
 * not well-formed UTF-16, bodies that only passed by type coercion, stream ids Redis rejects, a reused
 * Idempotency-Key with another body, and an undecodable stored alert in the escalation sweep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertStore, idempotencyHash } from '../../src/alerts/store.js';
import { DATABASES } from '../../src/redis/databases.js';
import { auth, get, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

interface Created {
  alert_id: string;
  replayed: boolean;
  alert: { id: string; escalations: number; history: { event: string }[] };
}
interface ErrBody {
  error: { code: string; message: string; details?: unknown };
}

describe('hostile input', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    // No background sweep during the test: the escalation test drives the sweep itself.
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000', RATE_LIMIT_LOGINS: '1000' }, escalationIntervalMs: 3_600_000 });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    await s.stop();
  });

  /** Every key of the realtime DB with its type and length: what a refused request must leave untouched. */
  const realtimeSnapshot = async (): Promise<string> => {
    await s.admin.select(DATABASES.realtime);
    const keys = (await s.admin.keys('*')).sort();
    const rows = await Promise.all(keys.map(async (k) => `${k}:${await s.admin.type(k)}:${await s.admin.memory('USAGE', k)}`));
    await s.admin.select(0);
    return rows.join('\n');
  };

  const expectRefused = async (r: { status: number; body: unknown }, path: RegExp, what: string): Promise<void> => {
    expect(r.status, what).toBe(400);
    const e = (r.body as ErrBody).error;
    expect(e.code, what).toBe('NABOOM_VALIDATION');
    expect(e.message, what).toMatch(path);
  };

  it('refuses a lone surrogate in every text field with 400 naming the field, storing nothing', async () => {
    const before = await realtimeSnapshot();
    const wellFormed = /must be well-formed UTF-16/;
    await expectRefused(await post(api, sampleAlert({ description: '\ud800' }), auth(s.member)), /^body\/description must be well-formed UTF-16/, 'description');
    await expectRefused(await post(api, sampleAlert({ description: 'ok \udfff then' }), auth(s.member)), wellFormed, 'low surrogate');
    await expectRefused(
      await post(api, sampleAlert({ location: { lat: 1, lon: 2, address: 'Main St \ud83d' } }), auth(s.member)),
      /^body\/location\/address must be well-formed UTF-16/,
      'address',
    );
    await expectRefused(await post(api, { ...sampleAlert(), '\ud800': 1 }, auth(s.member)), /property name/, 'property name');
    // A well-formed astral character (a surrogate pair) is fine.
    const ok = await post(api, sampleAlert({ description: 'fire 🔥 on 2nd floor' }), auth(s.member));
    expect(ok.status).toBe(201);
    const id = (ok.body as Created).alert_id;
    const afterOk = await realtimeSnapshot();
    await expectRefused(await post(`${api}/${id}/ack`, { note: 'on my way \ud800' }, auth(s.responder)), /^body\/note must be well-formed UTF-16/, 'note');
    await expectRefused(await post(`${s.url}/api/auth/login`, { username: s.member.username, password: `${s.member.password}\ud800` }), /^body\/password must be well-formed UTF-16/, 'password');
    await expectRefused(await post(`${s.url}/api/auth/login`, { username: 'mia\udc00', password: 'x' }), /^body\/username must be well-formed UTF-16/, 'username');
    expect(before).not.toBe(afterOk);
    expect(await realtimeSnapshot()).toBe(afterOk);
    // The alert that was stored stays actionable.
    expect((await post(`${api}/${id}/ack`, { note: 'on my way 🚒' }, auth(s.responder))).status).toBe(200);
  });

  it('validates bodies without type coercion: an emergency without a real location is refused', async () => {
    const before = await realtimeSnapshot();
    const samples: [Record<string, unknown>, RegExp][] = [
      [sampleAlert({ location: { lat: null, lon: null } }), /^body\/location\/lat must be number/],
      [sampleAlert({ location: { lat: 1, lon: null } }), /^body\/location\/lon must be number/],
      [sampleAlert({ location: { lat: '0x10', lon: 2 } }), /^body\/location\/lat must be number/],
      [sampleAlert({ location: { lat: '12', lon: '13' } }), /^body\/location\/lat must be number/],
      [sampleAlert({ location: { lat: true, lon: 2 } }), /^body\/location\/lat must be number/],
      [sampleAlert({ location: { lat: [1], lon: 2 } }), /^body\/location\/lat must be number/],
      [sampleAlert({ location: { lat: 1, lon: 2, accuracy_m: '25' } }), /^body\/location\/accuracy_m must be number/],
      [sampleAlert({ location: null }), /^body\/location must be object/],
      [sampleAlert({ location: [] }), /^body\/location must be object/],
      [sampleAlert({ description: true }), /^body\/description must be string/],
      [sampleAlert({ description: 12345 }), /^body\/description must be string/],
      [sampleAlert({ description: ['fire'] }), /^body\/description must be string/],
      [sampleAlert({ description: null }), /^body\/description must be string/],
      [sampleAlert({ type: ['fire'] }), /^body\/type must be string/],
      [sampleAlert({ severity: ['high'] }), /^body\/severity must be string/],
    ];
    for (const [body, message] of samples) await expectRefused(await post(api, body, auth(s.member)), message, JSON.stringify(body));
    expect(await realtimeSnapshot()).toBe(before);
    const note = await post(`${api}/1-0/ack`, { note: 42 }, auth(s.responder));
    await expectRefused(note, /^body\/note must be string/, 'note as a number');
    // Query strings are text by nature and still coerce.
    const page = await get(`${api}?limit=2`, auth(s.responder));
    expect(page.status).toBe(200);
    expect((page.body as { alerts: unknown[] }).alerts.length).toBeLessThanOrEqual(2);
  });

  it('stream ids Redis would reject are refused at validation; the ends of the id space are empty pages', async () => {
    const max = '18446744073709551615-18446744073709551615';
    await expectRefused(await get(`${api}?since=99999999999999999999-0`, auth(s.responder)), /^querystring\/since must match format "stream-id"/, 'since too large');
    await expectRefused(await get(`${api}?before=18446744073709551616-0`, auth(s.responder)), /^querystring\/before must match format/, 'before too large');
    await expectRefused(await get(`${api}/99999999999999999999-0`, auth(s.responder)), /^params\/id must match format/, ':id too large');
    await expectRefused(await get(`${api}/0-18446744073709551616/cap`, auth(s.responder)), /^params\/id must match format/, ':id/cap too large');
    await expectRefused(await post(`${api}/99999999999999999999-0/ack`, null, auth(s.responder)), /^params\/id must match format/, 'ack too large');
    for (const q of ['before=0-0', 'before=000-00', `since=${max}`, `since=${max}&severity=high`]) {
      for (const who of [s.responder, s.member]) {
        const r = await get(`${api}?${q}`, auth(who));
        expect(r.status, q).toBe(200);
        expect(r.body, q).toEqual({ alerts: [], next: null });
      }
    }
    expect((await get(`${api}/${max}`, auth(s.responder))).status).toBe(404);
    expect((await get(`${api}?since=18446744073709551615-18446744073709551614`, auth(s.responder))).body).toEqual({ alerts: [], next: null });
  });

  it('Idempotency-Key reused with a different body: 422 NABOOM_IDEMPOTENCY_MISMATCH, nothing stored; the same body replays', async () => {
    const key = `reuse-${Date.now()}`;
    const headers = { ...auth(s.member), 'idempotency-key': key };
    const first = await post(api, sampleAlert({ severity: 'critical', description: 'Break-in at the back door' }), headers);
    expect(first.status).toBe(201);
    const firstId = (first.body as Created).alert_id;
    const before = await realtimeSnapshot();
    const differing = [
      sampleAlert({ severity: 'critical', description: 'Fire in the kitchen' }),
      sampleAlert({ severity: 'low', description: 'Break-in at the back door' }),
      sampleAlert({ type: 'fire', severity: 'critical', description: 'Break-in at the back door' }),
      sampleAlert({ severity: 'critical', description: 'Break-in at the back door', location: { lat: 1, lon: 2 } }),
      sampleAlert({ severity: 'critical' }),
    ];
    for (const body of differing) {
      const r = await post(api, body, headers);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect((r.body as ErrBody).error.code).toBe('NABOOM_IDEMPOTENCY_MISMATCH');
      expect((r.body as ErrBody).error.message).toMatch(/already used for a different alert/);
    }
    expect(await realtimeSnapshot()).toBe(before);
    const again = await post(api, sampleAlert({ severity: 'critical', description: 'Break-in at the back door' }), headers);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ alert_id: firstId, replayed: true });
    // The default severity is the effective one: omitting it matches an explicit 'high'.
    const k2 = { ...auth(s.member), 'idempotency-key': `${key}-default` };
    expect((await post(api, { type: 'medical', location: { lat: 1, lon: 2 } }, k2)).status).toBe(201);
    expect((await post(api, { type: 'medical', severity: 'high', location: { lat: 1, lon: 2 } }, k2)).status).toBe(200);
  });

  it('an idempotency record written before fingerprints (just the id) matches any body', async () => {
    const key = `legacy-${Date.now()}`;
    const headers = { ...auth(s.member), 'idempotency-key': key };
    const first = await post(api, sampleAlert(), headers);
    const id = (first.body as Created).alert_id;
    const idemKey = s.redis.keys.alerts.idempotency(s.member.id, idempotencyHash(key));
    await s.admin.select(DATABASES.realtime);
    expect(await s.admin.get(idemKey)).toMatch(new RegExp(`^${id} [0-9a-f]+$`));
    await s.admin.set(idemKey, id, 'EX', 600);
    await s.admin.select(0);
    const replay = await post(api, sampleAlert({ description: 'something else' }), headers);
    expect(replay.status).toBe(200);
    expect((replay.body as Created).alert_id).toBe(id);
  });

  it('an undecodable stored alert neither stops nor half-does the escalation sweep, and cannot be half-changed', async () => {
    const good = ((await post(api, sampleAlert({ severity: 'critical', description: 'still waiting' }), auth(s.member))).body as Created).alert_id;
    const keys = s.redis.keys.alerts;
    const corruptBefore = '1-1';
    const corruptAfter = '1-2';
    await s.admin.select(DATABASES.realtime);
    // What the old code stored for `description: "\ud800"`, and a document that is not JSON at all.
    await s.admin.hset(keys.state(corruptBefore), 'doc', '{"id":"1-1","severity":"high","description":"\\ud800","history":[]}', 'status', 'open', 'reporter', s.member.id);
    await s.admin.hset(keys.state(corruptAfter), 'doc', 'not json', 'status', 'open', 'reporter', s.member.id);
    // Due order: a corrupt one, the good one, another corrupt one.
    await s.admin.zadd(keys.escalations, 1, corruptBefore, 2, good, 3, corruptAfter);
    const feedBefore = await s.admin.xlen(keys.feed);
    await s.admin.select(0);

    const escalated = await s.server.alerts.escalateDue(Date.now());
    expect(escalated).toBe(1);
    await s.admin.select(DATABASES.realtime);
    expect(await s.admin.xlen(keys.feed)).toBe(feedBefore + 1);
    expect(await s.admin.zscore(keys.escalations, corruptBefore)).toBeNull();
    expect(await s.admin.zscore(keys.escalations, corruptAfter)).toBeNull();
    expect(Number(await s.admin.zscore(keys.escalations, good))).toBeGreaterThan(Date.now());
    await s.admin.select(0);
    const doc = (await get(`${api}/${good}`, auth(s.responder))).body as Created['alert'];
    expect(doc.escalations).toBe(1);
    expect(doc.history.map((h) => h.event)).toEqual(['raised', 'escalated']);
    // The escalated alert has its notification job.
    await s.admin.select(DATABASES.queue);
    const jobKeys = (await s.admin.keys('naboom:queue:notifications:*')).filter((k) => /:log\.[A-Za-z0-9._-]+$/.test(k));
    const payloads = await Promise.all(jobKeys.map((k) => s.admin.hget(k, 'data')));
    expect(payloads.filter((p) => p?.includes('alert.escalated') && p.includes(good))).toHaveLength(1);
    await s.admin.select(0);
    expect(s.logs.join('')).toMatch(/cannot be decoded: taken out of the escalation schedule/);

    // A lifecycle change of the undecodable alert is refused without touching it.
    await s.admin.select(DATABASES.realtime);
    const feedLen = await s.admin.xlen(keys.feed);
    await s.admin.select(0);
    const outcome = await new AlertStore(s.server.clients.get('realtime'), s.redis.config, s.redis.keys).transition(corruptBefore, 'ack', { id: s.responder.id, username: s.responder.username });
    expect(outcome).toEqual({ kind: 'corrupt' });
    const ack = await post(`${api}/${corruptAfter}/ack`, null, auth(s.responder));
    expect(ack.status).toBe(500);
    await s.admin.select(DATABASES.realtime);
    expect(await s.admin.xlen(keys.feed)).toBe(feedLen);
    expect(await s.admin.hget(keys.state(corruptBefore), 'status')).toBe('open');
    expect(await s.admin.hget(keys.state(corruptAfter), 'doc')).toBe('not json');
    await s.admin.select(0);
  });
});
