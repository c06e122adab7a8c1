/**
 * PATCH /api/emergency/alerts/:id/location against the real stack: only the reporter moves their alert, only
 * while it is open or acknowledged; each move is a `located` history event (bounded), the alert's new
 * location everywhere it is read, and an `alert.updated` frame on the live feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOCATED_EVENTS } from '../../src/alerts/model.js';
import { auth, get, post, sampleAlert, startStack, WsClient, type Account, type Stack } from '../helpers/stack.js';

interface Alert {
  id: string;
  status: string;
  location: { lat: number; lon: number; accuracy_m?: number; address?: string };
  history: { event: string; by?: { username: string }; location?: { lat: number; lon: number } }[];
}

const SPOT = { lat: -33.9180, lon: 18.4305, accuracy_m: 12 };

describe('alert location updates', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '10000', RATE_LIMIT_ALERTS_PER_IP: '10000', RATE_LIMIT_LOCATIONS_PER_USER: '200' } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const raise = async (who: Account = s.member): Promise<string> => {
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ location: { lat: -33.9, lon: 18.4, accuracy_m: 900 } }), auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  const patch = async (id: string, body: unknown, who: Account = s.member): Promise<{ status: number; body: { alert?: Alert; error?: { code: string; details?: unknown } } }> => {
    const res = await fetch(`${s.url}/api/emergency/alerts/${id}/location`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...auth(who) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { alert?: Alert; error?: { code: string } } };
  };

  const read = async (id: string): Promise<Alert> => {
    const r = await get(`${s.url}/api/emergency/alerts/${id}`, auth(s.responder));
    expect(r.status).toBe(200);
    return ((r.body as { alert?: Alert }).alert ?? r.body) as Alert;
  };

  it('the reporter moves the alert: new location, a located history event, the same alert on every read', async () => {
    const id = await raise();
    const r = await patch(id, SPOT);
    expect(r.status).toBe(200);
    expect(r.body.alert?.location).toEqual(SPOT);
    const stored = await read(id);
    expect(stored.location).toEqual(SPOT);
    const last = stored.history.at(-1);
    expect(last?.event).toBe('located');
    expect(last?.by?.username).toBe(s.member.username);
    expect(last?.location).toEqual(SPOT);
    expect(stored.history[0]?.event).toBe('raised');
  });

  it('is pushed live as alert.updated to a responder and to the reporter', async () => {
    const id = await raise();
    const rita = new WsClient(s.url, auth(s.responder));
    const mia = new WsClient(s.url, auth(s.member));
    try {
      await Promise.all([rita.open(), mia.open()]);
      rita.subscribe();
      mia.subscribe();
      await Promise.all([rita.until((f) => f.some((x) => x.type === 'live')), mia.until((f) => f.some((x) => x.type === 'live'))]);
      expect((await patch(id, { ...SPOT, address: '3 Adderley St' })).status).toBe(200);
      const moved = (f: { type: string; alert?: unknown }[]): boolean =>
        f.some((x) => x.type === 'alert.updated' && (x.alert as Alert | undefined)?.id === id && (x.alert as Alert).location.address === '3 Adderley St');
      await Promise.all([rita.until(moved), mia.until(moved)]);
    } finally {
      rita.close();
      mia.close();
    }
  });

  it('only the reporter: a responder or admin gets 403 NABOOM_NOT_REPORTER, another member 404 as for a missing alert; nothing changes', async () => {
    const id = await raise();
    const responder = await patch(id, SPOT, s.responder);
    expect(responder.status).toBe(403);
    expect(responder.body.error?.code).toBe('NABOOM_NOT_REPORTER');
    const admin = await patch(id, SPOT, s.admin_);
    expect(admin.status).toBe(403);
    expect(admin.body.error?.code).toBe('NABOOM_NOT_REPORTER');
    const other = await patch(id, SPOT, s.member2);
    const missing = await patch('1-0', SPOT, s.member2);
    expect([other.status, other.body.error?.code]).toEqual([404, 'NABOOM_NOT_FOUND']);
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'NABOOM_NOT_FOUND']);
    const stored = await read(id);
    expect(stored.location.accuracy_m).toBe(900);
    expect(stored.history.map((e) => e.event)).toEqual(['raised']);
    const anon = await fetch(`${s.url}/api/emergency/alerts/${id}/location`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SPOT) });
    expect(anon.status).toBe(401);
  });

  it('while acknowledged still moves; after resolve or cancel 409 NABOOM_INVALID_TRANSITION, history kept', async () => {
    const id = await raise();
    expect((await post(`${s.url}/api/emergency/alerts/${id}/ack`, {}, auth(s.responder))).status).toBe(200);
    expect((await patch(id, SPOT)).status).toBe(200);
    expect((await post(`${s.url}/api/emergency/alerts/${id}/resolve`, {}, auth(s.responder))).status).toBe(200);
    const late = await patch(id, { lat: 1, lon: 1 });
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe('NABOOM_INVALID_TRANSITION');
    expect(late.body.error?.details).toMatchObject({ status: 'resolved' });
    const stored = await read(id);
    expect(stored.location).toEqual(SPOT);
    expect(stored.history.map((e) => e.event)).toEqual(['raised', 'acknowledged', 'located', 'resolved']);

    const cancelled = await raise();
    expect((await post(`${s.url}/api/emergency/alerts/${cancelled}/cancel`, {}, auth(s.member))).status).toBe(200);
    expect((await patch(cancelled, SPOT)).status).toBe(409);
  });

  it('is in the OpenAPI document with the location object as its body', async () => {
    const doc = (await get(`${s.url}/api/openapi.json`)).body as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; additionalProperties?: boolean } }> } }>> };
    const op = doc.paths['/api/emergency/alerts/{id}/location']?.['patch'];
    const schema = op?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual(['accuracy_m', 'address', 'lat', 'lon']);
    expect(schema?.additionalProperties).toBe(false);
    expect(doc.paths['/api/panic/settings']?.['get']).toBeDefined();
  });

  it('refuses a bad body with 400 (unknown field, out-of-range latitude, missing longitude)', async () => {
    const id = await raise();
    for (const body of [{ ...SPOT, extra: 1 }, { lat: 91, lon: 0 }, { lat: 1 }, { lat: '1', lon: 2 }]) {
      const r = await patch(id, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.code).toBe('NABOOM_VALIDATION');
    }
    expect((await read(id)).history).toHaveLength(1);
  });

  it(`keeps at most ${MAX_LOCATED_EVENTS} located events (the newest), and every lifecycle event`, async () => {
    const id = await raise();
    expect((await post(`${s.url}/api/emergency/alerts/${id}/ack`, {}, auth(s.responder))).status).toBe(200);
    const n = MAX_LOCATED_EVENTS + 5;
    for (let i = 0; i < n; i++) expect((await patch(id, { lat: -33.9, lon: 18.4 + i / 1000 })).status).toBe(200);
    const stored = await read(id);
    const located = stored.history.filter((e) => e.event === 'located');
    expect(located).toHaveLength(MAX_LOCATED_EVENTS);
    expect(located.at(-1)?.location?.lon).toBeCloseTo(18.4 + (n - 1) / 1000, 9);
    expect(located[0]?.location?.lon).toBeCloseTo(18.4 + 5 / 1000, 9);
    expect(stored.history.slice(0, 2).map((e) => e.event)).toEqual(['raised', 'acknowledged']);
  });

  it('is rate-limited per user: past RATE_LIMIT_LOCATIONS_PER_USER a 429 NABOOM_RATE_LIMITED with Retry-After', async () => {
    const t = await startStack({ env: { RATE_LIMIT_LOCATIONS_PER_USER: '3' } });
    try {
      const r = await post(`${t.url}/api/emergency/alerts`, sampleAlert(), auth(t.member));
      const id = (r.body as { alert_id: string }).alert_id;
      const send = async (): Promise<Response> =>
        await fetch(`${t.url}/api/emergency/alerts/${id}/location`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...auth(t.member) }, body: JSON.stringify(SPOT) });
      for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
      const over = await send();
      expect(over.status).toBe(429);
      expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await over.json()) as { error: { code: string } }).error.code).toBe('NABOOM_RATE_LIMITED');
    } finally {
      await t.stop();
    }
  });
});
