/** Related alerts: linked both ways inside the ingest script, by distance and time, only to open/acknowledged ones. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../src/redis/databases.js';
import { auth, get, post, startStack, WsClient, type Account, type Stack } from '../helpers/stack.js';

interface Doc {
  id: string;
  status: string;
  related?: string[];
  updated_at: string;
}

/** ~111 m of latitude. */
const M100 = 0.001;

describe('related alerts', () => {
  let s: Stack;
  let api: string;
  let place = 0;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000', RELATED_RADIUS_M: '300' } });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    await s.stop();
  });

  /** A fresh spot for each test, far from the others (one degree of longitude apart). */
  const spot = (): { lat: number; lon: number } => ({ lat: -30, lon: 20 + place++ });
  const raise = async (at: { lat: number; lon: number }, who: Account = s.member): Promise<Doc> => {
    const r = await post(api, { type: 'fire', location: at }, auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert: Doc }).alert;
  };
  const doc = async (id: string, who: Account = s.responder): Promise<Doc> => (await get(`${api}/${id}`, auth(who))).body as Doc;

  it('an alert raised ~200 m from an open one is linked both ways; the link goes live in the new alert\'s frame, with no extra frame for the older one', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const p = spot();
    const first = await raise(p);
    expect(first.related).toBeUndefined();
    const second = await raise({ lat: p.lat + 2 * M100, lon: p.lon }, s.member2);
    expect(second.related).toEqual([first.id]);
    expect((await doc(second.id)).related).toEqual([first.id]);
    const older = await doc(first.id);
    expect(older.related).toEqual([second.id]);
    expect(older.status).toBe('open');
    // An unrelated alert far away marks the end of what linking could have sent.
    const marker = await raise(spot());
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === marker.id));
    const raised = ws.frames.find((x) => x.type === 'alert' && x.id === second.id);
    expect((raised?.alert as unknown as Doc | undefined)?.related).toEqual([first.id]);
    // A burst at one spot must not multiply every board's frames: the older alert's link is stored, not sent.
    expect(ws.frames.filter((x) => x.type === 'alert.updated' && x.alert?.id === first.id)).toEqual([]);
    // A third one nearby links to both; nothing is merged or dropped.
    const third = await raise({ lat: p.lat + M100, lon: p.lon });
    expect(new Set(third.related)).toEqual(new Set([first.id, second.id]));
    expect((await doc(first.id)).related).toEqual([second.id, third.id]);
    expect((await doc(second.id)).related).toEqual([first.id, third.id]);
    ws.close();
  });

  it('links to an acknowledged alert, not to a resolved or cancelled one', async () => {
    const p = spot();
    const acked = await raise(p);
    expect((await post(`${api}/${acked.id}/ack`, null, auth(s.responder))).status).toBe(200);
    const resolved = await raise(p);
    await post(`${api}/${resolved.id}/ack`, null, auth(s.responder));
    expect((await post(`${api}/${resolved.id}/resolve`, null, auth(s.responder))).status).toBe(200);
    const cancelled = await raise(p);
    expect((await post(`${api}/${cancelled.id}/cancel`, null, auth(s.member))).status).toBe(200);
    // `resolved` and `cancelled` were raised while `acked` was acknowledged: they link to it (and it to them).
    const before = (await doc(resolved.id)).related;
    const fresh = await raise(p);
    expect(fresh.related).toContain(acked.id);
    expect(fresh.related).not.toContain(resolved.id);
    expect(fresh.related).not.toContain(cancelled.id);
    expect((await doc(resolved.id)).related).toEqual(before);
    expect((await doc(cancelled.id)).related ?? []).not.toContain(fresh.id);
  });

  it('no link outside RELATED_RADIUS_M (about 330 m away) or outside RELATED_WINDOW_S', async () => {
    const p = spot();
    const a = await raise(p);
    const far = await raise({ lat: p.lat + 3.3 * M100, lon: p.lon });
    expect(far.related).toBeUndefined();
    expect((await doc(a.id)).related).toBeUndefined();
    // Make `a` look raised 601 s ago (the ingest script reads its time from the recent-alerts zset).
    await s.admin.select(4);
    const members = await s.admin.zrange('panic:recent', '0', '-1');
    const member = members.find((m) => m.startsWith(`${a.id} `));
    expect(member).toBeDefined();
    await s.admin.zadd('panic:recent', Date.now() - 601_000, member ?? '');
    await s.admin.select(0);
    const late = await raise(p);
    expect(late.related).toBeUndefined();
    expect((await doc(a.id)).related).toBeUndefined();
  });

  it("members: a neighbour's alert shows only as an id in `related`; opening it is 404", async () => {
    const p = spot();
    const mine = await raise(p, s.member);
    const theirs = await raise(p, s.member2);
    expect(theirs.related).toEqual([mine.id]);
    const r = await get(`${api}/${mine.id}`, auth(s.member2));
    expect(r.status).toBe(404);
    expect(r.text).not.toContain('"reporter"');
    expect((await get(`${api}/${mine.id}/messages`, auth(s.member2))).status).toBe(403);
    const list = (await get(api, auth(s.member2))).body as { alerts: Doc[] };
    expect(list.alerts.some((x) => x.id === mine.id)).toBe(false);
  });

  it('a crowd at one spot: a new alert links to the 3 newest nearby at most', async () => {
    const p = spot();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await raise(p)).id);
    const last = await doc(ids[5] ?? '');
    expect(last.related).toEqual(ids.slice(2, 5).reverse());
    // The first one was linked by each of the next 3 and then no more.
    expect((await doc(ids[0] ?? '')).related).toEqual(ids.slice(1, 4));
  });

  it('RELATED_RADIUS_M=0 links nothing, and keeps no recent-alerts index for it', async () => {
    const off = await startStack({ env: { RELATED_RADIUS_M: '0' } });
    try {
      const url = `${off.url}/api/emergency/alerts`;
      const a = await post(url, { type: 'fire', location: { lat: 1, lon: 1 } }, auth(off.member));
      const b = await post(url, { type: 'fire', location: { lat: 1, lon: 1 } }, auth(off.member));
      expect((b.body as { alert: Doc }).alert.related).toBeUndefined();
      expect(((await get(`${url}/${(a.body as { alert: Doc }).alert.id}`, auth(off.responder))).body as Doc).related).toBeUndefined();
      // Two writes per alert saved while linking is off; switched on later, it starts from an empty window.
      await off.admin.select(DATABASES.realtime);
      expect(await off.admin.dbsize()).toBeGreaterThan(0);
      expect(await off.admin.exists('panic:recent')).toBe(0);
    } finally {
      await off.stop();
    }
  });
});
