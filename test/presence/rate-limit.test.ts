/**
 * `PUT /api/responders/me` is rate-limited per user (RATE_LIMIT_PRESENCE_PER_USER, real server and Redis):
 * past the limit a 429 NABOOM_RATE_LIMITED with Retry-After that stores nothing, while another responder's
 * budget is untouched; `DELETE /api/responders/me` counts in the same budget, and a refused one deletes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/config/schema.js';
import { auth, get, startStack, type Stack } from '../helpers/stack.js';

const spot = (i: number): { available: true; location: { lat: number; lon: number } } => ({ available: true, location: { lat: -33.92 + i / 1000, lon: 18.42 } });

interface Listed {
  username: string;
  lat: number;
  lon: number;
}

describe('presence: rate limit', () => {
  let s: Stack;

  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_PRESENCE_PER_USER: '3' } });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  const put = async (token: Record<string, string>, body: unknown): Promise<Response> =>
    await fetch(`${s.url}/api/responders/me`, { method: 'PUT', headers: { 'content-type': 'application/json', ...token }, body: JSON.stringify(body) });
  const del = async (token: Record<string, string>): Promise<Response> => await fetch(`${s.url}/api/responders/me`, { method: 'DELETE', headers: token });

  it('defaults to 120 per window; below 1 is refused', () => {
    expect(settingsSchema.parse({}).RATE_LIMIT_PRESENCE_PER_USER).toBe(120);
    expect(settingsSchema.safeParse({ RATE_LIMIT_PRESENCE_PER_USER: '0' }).success).toBe(false);
  });

  it('past RATE_LIMIT_PRESENCE_PER_USER: 429 NABOOM_RATE_LIMITED with Retry-After, the 3rd position stays; another responder is not affected; DELETE counts in the same budget', async () => {
    for (let i = 1; i <= 3; i++) expect((await put(auth(s.responder), spot(i))).status).toBe(200);
    const over = await put(auth(s.responder), spot(4));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await over.json()) as { error: { code: string; details?: { limits?: string[] } } };
    expect(body.error.code).toBe('NABOOM_RATE_LIMITED');
    expect(body.error.details?.limits).toEqual(['presence-per-user']);

    // The refused report stored nothing: rita is still at the 3rd position.
    const listed = async (): Promise<Listed[]> => ((await get(`${s.url}/api/responders`, auth(s.admin_))).body as { responders: Listed[] }).responders;
    const rita = (await listed()).find((r) => r.username === s.responder.username);
    expect(rita?.lat).toBeCloseTo(spot(3).location.lat, 5);

    // Another responder (an admin reports too) has their own budget.
    expect((await put(auth(s.admin_), spot(9))).status).toBe(200);
    expect((await listed()).find((r) => r.username === s.admin_.username)?.lat).toBeCloseTo(spot(9).location.lat, 5);

    // The same budget covers DELETE: rita's is spent, so her delete is refused and her position stays.
    const refused = await del(auth(s.responder));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('NABOOM_RATE_LIMITED');
    expect((await listed()).find((r) => r.username === s.responder.username)).toBeDefined();
    // The admin has used one of three: two deletes and a PUT later, the limit refuses the PUT.
    expect((await del(auth(s.admin_))).status).toBe(200);
    expect((await listed()).find((r) => r.username === s.admin_.username)).toBeUndefined();
    expect((await del(auth(s.admin_))).status).toBe(200);
    expect((await put(auth(s.admin_), spot(10))).status).toBe(429);
  });
});
