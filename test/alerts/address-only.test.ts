/**
 * Alerts that carry an address and no coordinates (the resident had no GPS fix), against the real stack: the
 * raise is accepted and stored without lat/lon (never 0,0), half a position or an empty location is refused,
 * CAP has an area without a circle, related-alert linking leaves it out both ways, and a location update may
 * add coordinates later (keeping the address).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, get, post, startStack, type Stack } from '../helpers/stack.js';

interface Doc {
  id: string;
  status: string;
  location: Record<string, unknown>;
  related?: string[];
  history: { event: string; location?: Record<string, unknown> }[];
}

const ADDRESS = 'Kirstenbosch main gate, Rhodes Dr';
const M100 = 0.001;

describe('address-only alerts', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000', RELATED_RADIUS_M: '300' } });
    api = `${s.url}/api/emergency/alerts`;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  const raise = async (location: unknown): Promise<{ status: number; body: { alert?: Doc; alert_id?: string; error?: { code: string } } }> =>
    (await post(api, { type: 'medical', location }, auth(s.member))) as { status: number; body: { alert?: Doc; alert_id?: string; error?: { code: string } } };
  const doc = async (id: string): Promise<Doc> => (await get(`${api}/${id}`, auth(s.responder))).body as Doc;
  const patch = async (id: string, body: unknown): Promise<{ status: number; body: { alert?: Doc; error?: { code: string } } }> => {
    const res = await fetch(`${api}/${id}/location`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...auth(s.member) }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { alert?: Doc; error?: { code: string } } };
  };

  it('is raised with 201 and stored, returned and listed with the address and no coordinates', async () => {
    const r = await raise({ address: ADDRESS });
    expect(r.status).toBe(201);
    expect(r.body.alert?.location).toEqual({ address: ADDRESS });
    const id = r.body.alert_id ?? '';
    const stored = await doc(id);
    expect(stored.location).toEqual({ address: ADDRESS });
    expect(stored.location).not.toHaveProperty('lat');
    expect(stored.location).not.toHaveProperty('lon');
    expect(stored.location).not.toHaveProperty('accuracy_m');
    const list = (await get(`${api}?limit=50`, auth(s.responder))).body as { alerts: Doc[] };
    expect(list.alerts.find((a) => a.id === id)?.location).toEqual({ address: ADDRESS });
  });

  it('refuses half a position, an empty location, an accuracy without a position and an empty address (400 NABOOM_VALIDATION)', async () => {
    const bad: unknown[] = [
      { lat: -33.9 },
      { lon: 18.4 },
      { lat: -33.9, address: ADDRESS },
      { lon: 18.4, address: ADDRESS },
      {},
      { address: ADDRESS, accuracy_m: 50 },
      { address: '' },
      { address: 'a'.repeat(501) },
      { address: ADDRESS, floor: 3 },
      { lat: 0, lon: 0, address: ADDRESS, floor: 3 },
    ];
    for (const location of bad) {
      const r = await raise(location);
      expect(r.status, JSON.stringify(location)).toBe(400);
      expect(r.body.error?.code, JSON.stringify(location)).toBe('NABOOM_VALIDATION');
    }
    // Nothing of the refused ones was stored.
    const mine = (await get(`${api}?limit=100`, auth(s.member))).body as { alerts: Doc[] };
    for (const a of mine.alerts) expect(a.location).not.toEqual({});
  });

  it('CAP: an area with the address as areaDesc and no circle', async () => {
    const id = (await raise({ address: 'Main Rd & 5th Ave <corner>' })).body.alert_id ?? '';
    const r = await get(`${api}/${id}/cap`, auth(s.responder));
    expect(r.status).toBe(200);
    const xml = r.text;
    expect(xml).toContain('<areaDesc>Main Rd &amp; 5th Ave &lt;corner&gt;</areaDesc>');
    expect(xml).not.toContain('<circle>');
    expect(xml).toMatch(/<area>\s*<areaDesc>[^<]*<\/areaDesc>\s*<\/area>/);
  });

  it('related alerts: an address-only alert is neither linked nor a link target', async () => {
    const spot = { lat: -31.5, lon: 22.5 };
    const first = (await raise(spot)).body.alert as Doc;
    const addressOnly = (await raise({ address: '14 Bree St' })).body.alert as Doc;
    expect(addressOnly.related).toBeUndefined();
    expect((await doc(first.id)).related).toBeUndefined();
    // A later alert at the same spot links to the first one only.
    const third = (await raise({ lat: spot.lat + M100, lon: spot.lon })).body.alert as Doc;
    expect(third.related).toEqual([first.id]);
    expect((await doc(addressOnly.id)).related).toBeUndefined();
    // Nothing of it is in the recent-alerts zset the linking reads.
    await s.admin.select(4);
    try {
      const members = await s.admin.zrange('panic:recent', '0', '-1');
      expect(members.some((m) => m.startsWith(`${first.id} `))).toBe(true);
      expect(members.some((m) => m.startsWith(`${addressOnly.id} `))).toBe(false);
    } finally {
      await s.admin.select(0);
    }
  });

  it('a location update adds coordinates to an address-only alert (the address kept when sent along)', async () => {
    const id = (await raise({ address: ADDRESS })).body.alert_id ?? '';
    // Half a position is refused here too, and changes nothing.
    const half = await patch(id, { lat: -33.98, address: ADDRESS });
    expect(half.status).toBe(400);
    expect(half.body.error?.code).toBe('NABOOM_VALIDATION');
    expect((await doc(id)).location).toEqual({ address: ADDRESS });

    const fix = { lat: -33.9881, lon: 18.4326, accuracy_m: 15, address: ADDRESS };
    const r = await patch(id, fix);
    expect(r.status).toBe(200);
    expect(r.body.alert?.location).toEqual(fix);
    const stored = await doc(id);
    expect(stored.location).toEqual(fix);
    expect(stored.history.at(-1)).toMatchObject({ event: 'located', location: fix });
    // CAP now has the circle.
    expect((await get(`${api}/${id}/cap`, auth(s.responder))).text).toContain('<circle>-33.9881,18.4326 0.015</circle>');
  });
});
