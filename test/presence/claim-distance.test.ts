/**
 * The distance a claim records is the claimant's last reported position (presence) to the alert: the
 * alert service reads it from the presence store. Without a fresh position it is unknown (null), and the
 * claim still succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

const ALERT = { lat: -33.9249, lon: 18.4241 };
/** Metres north of a point, in degrees of latitude (close enough at these distances). */
const north = (lat: number, m: number): number => lat + m / 111_195;

interface Claimed {
  assignee?: { username: string; distance_m: number | null };
}

describe('presence: distance at claim time', () => {
  let s: Stack;
  const api = (): string => `${s.url}/api/emergency/alerts`;
  const raise = async (): Promise<string> => {
    const r = await post(api(), sampleAlert({ location: { ...ALERT, address: '1 Long St' } }), auth(s.member));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  beforeAll(async () => {
    s = await startStack();
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('a responder with no position claims with distance_m null', async () => {
    const id = await raise();
    const r = await post(`${api()}/${id}/claim`, null, auth(s.responder));
    expect(r.status).toBe(200);
    expect((r.body as Claimed).assignee).toMatchObject({ username: s.responder.username, distance_m: null });
  });

  it('after reporting a position 1.5 km away, the claim records about 1,500 m', async () => {
    const res = await fetch(`${s.url}/api/responders/me`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth(s.admin_) },
      body: JSON.stringify({ available: true, location: { lat: north(ALERT.lat, 1500), lon: ALERT.lon, accuracy_m: 10 } }),
    });
    expect(res.status).toBeLessThan(300);
    const id = await raise();
    const r = await post(`${api()}/${id}/claim`, null, auth(s.admin_));
    expect(r.status).toBe(200);
    const distance = (r.body as Claimed).assignee?.distance_m;
    expect(distance).not.toBeNull();
    expect(Math.abs((distance ?? 0) - 1500)).toBeLessThan(15);
  });
});
