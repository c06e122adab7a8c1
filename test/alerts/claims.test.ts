/** Claiming alerts end to end: one holder decided atomically, claim acknowledges, unclaim rules, live updates. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../src/alerts/service.js';
import { AlertStore } from '../../src/alerts/store.js';
import { freePort } from '../../src/local/redis-server.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { RoleClients } from '../../src/redis/connections.js';
import { auth, get, post, sampleAlert, startStack, WsClient, type Account, type Stack } from '../helpers/stack.js';

interface Doc {
  id: string;
  status: string;
  assignee?: { id: string; username: string; at: string; distance_m: number | null };
  history: { event: string; by?: { username: string } }[];
}
interface ErrBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe('claims', () => {
  let s: Stack;
  let api: string;
  let rex: Account;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000' } });
    api = `${s.url}/api/emergency/alerts`;
    const u = await s.server.users.add('rex', 'responder', 'rex-Passw0rd-123');
    rex = { username: 'rex', password: 'rex-Passw0rd-123', id: u.id, token: await s.server.users.issueToken('rex') };
  });
  afterAll(async () => {
    await s.stop();
  });

  const raise = async (who = s.member): Promise<string> => {
    const r = await post(api, sampleAlert(), auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  it('two responders claim at once: exactly one 200, the other 409 NABOOM_ALERT_CLAIMED naming the winner', async () => {
    const id = await raise();
    const [a, b] = await Promise.all([post(`${api}/${id}/claim`, null, auth(s.responder)), post(`${api}/${id}/claim`, null, auth(rex))]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const loser = a.status === 200 ? b : a;
    const doc = winner.body as Doc;
    const err = (loser.body as ErrBody).error;
    expect(err.code).toBe('NABOOM_ALERT_CLAIMED');
    expect(err.details?.['assignee']).toBe(doc.assignee?.username);
    expect(err.message).toContain(doc.assignee?.username ?? '?');
    // Only one claimed event in the stored history.
    const stored = (await get(`${api}/${id}`, auth(s.admin_))).body as Doc;
    expect(stored.history.filter((h) => h.event === 'claimed')).toHaveLength(1);
    expect(stored.assignee?.username).toBe(doc.assignee?.username);
  });

  it('claiming an open alert acknowledges it and takes it out of the escalation schedule', async () => {
    const id = await raise();
    await s.admin.select(4);
    expect(await s.admin.zscore('panic:escalations', id)).not.toBeNull();
    const r = await post(`${api}/${id}/claim`, null, auth(s.responder));
    expect(r.status).toBe(200);
    const doc = r.body as Doc;
    expect(doc.status).toBe('acknowledged');
    expect(doc.assignee).toMatchObject({ id: s.responder.id, username: 'rita', distance_m: null });
    expect(Date.parse(doc.assignee?.at ?? '')).toBeGreaterThan(0);
    expect(doc.history.map((h) => h.event)).toEqual(['raised', 'claimed', 'acknowledged']);
    expect(doc.history[1]?.by?.username).toBe('rita');
    expect(await s.admin.zscore('panic:escalations', id)).toBeNull();
    expect(await s.admin.hget(`panic:alert:${id}`, 'status')).toBe('acknowledged');
    await s.admin.select(0);
    // A second ack is refused as before: the claim acknowledged it.
    expect((await post(`${api}/${id}/ack`, null, auth(s.responder))).status).toBe(409);
  });

  it('claiming an acknowledged alert keeps its status and history of the ack', async () => {
    const id = await raise();
    expect((await post(`${api}/${id}/ack`, null, auth(rex))).status).toBe(200);
    const r = await post(`${api}/${id}/claim`, null, auth(s.responder));
    expect(r.status).toBe(200);
    expect((r.body as Doc).history.map((h) => h.event)).toEqual(['raised', 'acknowledged', 'claimed']);
  });

  it('claiming again as the holder is 200 and changes nothing', async () => {
    const id = await raise();
    const first = (await post(`${api}/${id}/claim`, null, auth(s.responder))).body as Doc;
    const again = await post(`${api}/${id}/claim`, null, auth(s.responder));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first);
  });

  it('members may not claim (403), resolved or cancelled alerts cannot be claimed (409), unknown ids 404', async () => {
    const id = await raise();
    const m = await post(`${api}/${id}/claim`, null, auth(s.member));
    expect(m.status).toBe(403);
    expect((m.body as ErrBody).error.code).toBe('NABOOM_FORBIDDEN');
    expect((await post(`${api}/${id}/cancel`, null, auth(s.member))).status).toBe(200);
    const c = await post(`${api}/${id}/claim`, null, auth(s.responder));
    expect(c.status).toBe(409);
    expect((c.body as ErrBody).error).toMatchObject({ code: 'NABOOM_INVALID_TRANSITION', details: { status: 'cancelled' } });
    const resolved = await raise();
    await post(`${api}/${resolved}/ack`, null, auth(s.responder));
    await post(`${api}/${resolved}/resolve`, null, auth(s.responder));
    expect((await post(`${api}/${resolved}/claim`, null, auth(s.responder))).status).toBe(409);
    expect((await post(`${api}/1-1/claim`, null, auth(s.responder))).status).toBe(404);
  });

  it('unclaim: the holder or an admin (200); another responder or a member 403; nobody holding it 409', async () => {
    const id = await raise();
    expect((await post(`${api}/${id}/unclaim`, null, auth(s.responder))).status).toBe(409);
    await post(`${api}/${id}/claim`, null, auth(s.responder));
    const other = await post(`${api}/${id}/unclaim`, null, auth(rex));
    expect(other.status).toBe(403);
    expect((other.body as ErrBody).error.code).toBe('NABOOM_FORBIDDEN');
    expect((await post(`${api}/${id}/unclaim`, null, auth(s.member))).status).toBe(403);
    const own = await post(`${api}/${id}/unclaim`, null, auth(s.responder));
    expect(own.status).toBe(200);
    const doc = own.body as Doc;
    expect(doc.assignee).toBeUndefined();
    expect(doc.status).toBe('acknowledged');
    expect(doc.history.at(-1)).toMatchObject({ event: 'unclaimed', by: { username: 'rita' } });
    // Free again: another responder takes it, and an admin can take it away.
    expect((await post(`${api}/${id}/claim`, null, auth(rex))).status).toBe(200);
    const byAdmin = await post(`${api}/${id}/unclaim`, null, auth(s.admin_));
    expect(byAdmin.status).toBe(200);
    expect((byAdmin.body as Doc).history.at(-1)).toMatchObject({ event: 'unclaimed', by: { username: 'ada' } });
  });

  it('a Redis that refuses writes (READONLY) makes claim and unclaim 503 with a code and Retry-After, never 500', async () => {
    const id = await raise();
    const held = await raise();
    expect((await post(`${api}/${held}/claim`, null, auth(s.responder))).status).toBe(200);
    await s.admin.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    try {
      for (const r of [await post(`${api}/${id}/claim`, null, auth(s.responder)), await post(`${api}/${held}/unclaim`, null, auth(s.responder))]) {
        expect(r.status).toBe(503);
        expect((r.body as ErrBody).error.code).toBe('NABOOM_UNAVAILABLE');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    } finally {
      await s.admin.call('REPLICAOF', 'NO', 'ONE');
    }
    // Nothing was half-applied, and it works again.
    expect(((await get(`${api}/${id}`, auth(s.responder))).body as Doc).assignee).toBeUndefined();
    expect((await post(`${api}/${id}/claim`, null, auth(s.responder))).status).toBe(200);
  });

  it('distance_m: from the position presence reports, at claim time; unknown (null) when presence fails', async () => {
    const clients = new RoleClients(s.redis.config, createLogger({ level: 'silent' }));
    try {
      const store = new AlertStore(clients.get('realtime'), s.redis.config, s.redis.keys);
      const base = { store, notifications: { enqueueEvent: () => Promise.resolve() }, metrics: new Metrics(), logger: createLogger({ level: 'silent' }) };
      const asked: string[] = [];
      // 0.01° of latitude north of the alert: about 1,112 m.
      const near = new AlertService({ ...base, positions: { positionOf: (u) => (asked.push(u), Promise.resolve({ lat: -33.9149, lon: 18.4241, last_seen: new Date().toISOString() })) } });
      const broken = new AlertService({ ...base, positions: { positionOf: () => Promise.reject(new Error('presence down')) } });
      const rita = { id: s.responder.id, username: 'rita', role: 'responder' as const };
      const one = await raise();
      const claimed = await near.claim(rita, one);
      expect(asked).toEqual(['rita']);
      expect(claimed.assignee?.distance_m).toBeGreaterThan(1100);
      expect(claimed.assignee?.distance_m).toBeLessThan(1125);
      const two = await raise();
      expect((await broken.claim(rita, two)).assignee).toMatchObject({ username: 'rita', distance_m: null });
    } finally {
      await clients.close();
    }
  });

  it('each claim and unclaim is an alert.updated frame on the live feed, to responders and to the reporter', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    const reporter = new WsClient(s.url, auth(s.member));
    await Promise.all([ws.open(), reporter.open()]);
    ws.subscribe();
    reporter.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    await reporter.until((f) => f.some((x) => x.type === 'live'));
    const id = await raise();
    await post(`${api}/${id}/claim`, null, auth(s.responder));
    await post(`${api}/${id}/unclaim`, null, auth(s.responder));
    const seen = (c: WsClient) => c.frames.filter((x) => x.type === 'alert.updated' && x.alert?.id === id).map((x) => (x.alert as unknown as Doc).assignee?.username ?? null);
    await ws.until(() => seen(ws).length === 2);
    await reporter.until(() => seen(reporter).length === 2);
    expect(seen(ws)).toEqual(['rita', null]);
    expect(seen(reporter)).toEqual(['rita', null]);
    ws.close();
    reporter.close();
  });
});
