/**
 * The presence API end to end (real server, real Redis, generated ACL): reporting a position, the responder
 * list for the map, the nearest responders to an alert in order of distance, the 403 for members (positions
 * are personal data), bounds on radius and limit, 404 for an unknown alert, and deletion of a position — by
 * its responder (`DELETE /api/responders/me`), or when the account is removed or demoted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { runCli } from '../helpers/cli.js';
import { auth, get, post, sampleAlert, startStack, type Account, type Stack } from '../helpers/stack.js';

async function put(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; retryAfter?: string | null }> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, ...(res.status === 503 ? { retryAfter: res.headers.get('retry-after') } : {}) };
}

async function del(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const res = await fetch(url, { method: 'DELETE', headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, retryAfter: res.headers.get('retry-after') };
}

const codeOf = (b: unknown): string | undefined => (b as { error?: { code?: string } }).error?.code;

/** Metres north of a point, in degrees of latitude (close enough at these distances). */
const north = (lat: number, m: number): number => lat + m / 111_195;

const ALERT = { lat: -33.9249, lon: 18.4241 };

interface Nearby {
  username: string;
  distance_m: number;
  last_seen: string;
  available: boolean;
}

describe('presence: API', () => {
  let s: Stack;
  const extra: Record<string, Account> = {};
  let alertId = '';

  beforeAll(async () => {
    s = await startStack();
    for (const name of ['near1', 'near2', 'far3', 'gone4']) {
      const password = `${name}-Passw0rd-123`;
      const u = await s.server.users.add(name, 'responder', password);
      extra[name] = { username: name, password, id: u.id, token: await s.server.users.issueToken(name) };
    }
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ location: { ...ALERT, address: '1 Long St' } }), auth(s.member));
    expect(r.status).toBe(201);
    alertId = (r.body as { alert_id: string }).alert_id;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  const me = `/api/responders/me`;
  const acct = (n: string): Account => extra[n] as Account;
  /** Who is on the map (an admin asks), sorted. */
  const names = async (): Promise<string[]> => ((await get(`${s.url}/api/responders`, auth(s.admin_))).body as { responders: Nearby[] }).responders.map((x) => x.username).sort();

  it('PUT /api/responders/me: 401 without credentials, 403 for members (with a code), 400 for bad bodies', async () => {
    expect((await put(`${s.url}${me}`, { available: true })).status).toBe(401);
    const m = await put(`${s.url}${me}`, { available: true, location: { lat: 1, lon: 1 } }, auth(s.member));
    expect(m.status).toBe(403);
    expect(codeOf(m.body)).toBe('NABOOM_FORBIDDEN');
    const bad: unknown[] = [
      {},
      { available: 'true' },
      { available: true, extra: 1 },
      { available: true, location: { lat: 91, lon: 0 } },
      { available: true, location: { lat: 0, lon: 181 } },
      { available: true, location: { lat: 0 } },
      { available: true, location: { lat: 0, lon: 0, accuracy_m: -1 } },
      { available: true, location: { lat: 0, lon: 0, speed: 3 } },
    ];
    for (const body of bad) {
      const r = await put(`${s.url}${me}`, body, auth(s.responder));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(codeOf(r.body), JSON.stringify(body)).toBe('NABOOM_VALIDATION');
    }
    // Nothing was stored by a refused request.
    expect(((await get(`${s.url}/api/responders`, auth(s.responder))).body as { responders: unknown[] }).responders).toEqual([]);
  });

  it('a report without a position stores nothing; with one, the responder appears on the map list with exactly its fields', async () => {
    const none = await put(`${s.url}${me}`, { available: true }, auth(s.responder));
    expect(none).toEqual({ status: 200, body: { available: true, presence: null } });

    const before = Date.now();
    const r = await put(`${s.url}${me}`, { available: true, location: { lat: north(ALERT.lat, 2000), lon: ALERT.lon, accuracy_m: 15 } }, auth(s.responder));
    expect(r.status).toBe(200);
    const stored = (r.body as { presence: Record<string, unknown> }).presence;
    expect(Object.keys(stored).sort()).toEqual(['accuracy_m', 'available', 'last_seen', 'lat', 'lon', 'username']);
    expect(stored).toMatchObject({ username: 'rita', available: true, accuracy_m: 15 });
    expect(Date.parse(String(stored['last_seen']))).toBeGreaterThanOrEqual(before - 1000);

    const list = await get(`${s.url}/api/responders`, auth(s.admin_));
    expect(list.status).toBe(200);
    const entries = (list.body as { responders: Record<string, unknown>[] }).responders;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toEqual(stored);
    expect(Number(entries[0]?.['lat'])).toBeCloseTo(north(ALERT.lat, 2000), 5);

    // Availability alone keeps the position and its time and the accuracy.
    const off = await put(`${s.url}${me}`, { available: false }, auth(s.responder));
    expect((off.body as { presence: Record<string, unknown> }).presence).toEqual({ ...stored, available: false });
    await put(`${s.url}${me}`, { available: true }, auth(s.responder));
  });

  it('GET /api/responders and the nearest list are 403 for members, even for their own alert', async () => {
    const list = await get(`${s.url}/api/responders`, auth(s.member));
    expect(list.status).toBe(403);
    expect(codeOf(list.body)).toBe('NABOOM_FORBIDDEN');
    const near = await get(`${s.url}/api/emergency/alerts/${alertId}/responders`, auth(s.member));
    expect(near.status).toBe(403);
    expect(codeOf(near.body)).toBe('NABOOM_FORBIDDEN');
    expect((await get(`${s.url}/api/responders`)).status).toBe(401);
  });

  it('nearest responders: ordered by distance, with availability, radius and limit applied', async () => {
    const at = (name: Account, m: number, available = true) =>
      put(`${s.url}${me}`, { available, location: { lat: north(ALERT.lat, m), lon: ALERT.lon } }, auth(name));
    expect((await at(acct('far3'), 6000)).status).toBe(200);
    expect((await at(acct('near2'), 900)).status).toBe(200);
    expect((await at(acct('near1'), 150)).status).toBe(200);
    expect((await at(s.admin_, 500, false)).status).toBe(200);

    const r = await get(`${s.url}/api/emergency/alerts/${alertId}/responders`, auth(s.responder));
    expect(r.status).toBe(200);
    const list = (r.body as { responders: Nearby[] }).responders;
    // Default radius DISPATCH_RADIUS_KM (10 km): everyone, nearest first; the unavailable admin reported as such.
    expect(list.map((x) => x.username)).toEqual(['near1', 'ada', 'near2', 'rita', 'far3']);
    expect(list.map((x) => x.available)).toEqual([true, false, true, true, true]);
    for (const [i, x] of list.entries()) {
      expect(Object.keys(x).sort()).toEqual(['available', 'distance_m', 'last_seen', 'username']);
      if (i > 0) expect(x.distance_m).toBeGreaterThanOrEqual(list[i - 1]?.distance_m ?? 0);
    }
    expect(list[0]?.distance_m).toBeGreaterThan(140);
    expect(list[0]?.distance_m).toBeLessThan(160);

    const small = await get(`${s.url}/api/emergency/alerts/${alertId}/responders?radius_km=1`, auth(s.admin_));
    expect((small.body as { responders: Nearby[] }).responders.map((x) => x.username)).toEqual(['near1', 'ada', 'near2']);
    const two = await get(`${s.url}/api/emergency/alerts/${alertId}/responders?limit=2&radius_km=50`, auth(s.admin_));
    expect((two.body as { responders: Nearby[] }).responders.map((x) => x.username)).toEqual(['near1', 'ada']);
  });

  it('bounds: radius_km and limit outside their range are 400 with a code; an unknown alert is 404', async () => {
    for (const q of ['radius_km=0', 'radius_km=201', 'radius_km=abc', 'limit=0', 'limit=101', 'limit=1.5', 'other=1']) {
      const r = await get(`${s.url}/api/emergency/alerts/${alertId}/responders?${q}`, auth(s.responder));
      expect(r.status, q).toBe(400);
      expect(codeOf(r.body), q).toBe('NABOOM_VALIDATION');
    }
    const missing = await get(`${s.url}/api/emergency/alerts/1-0/responders`, auth(s.responder));
    expect(missing.status).toBe(404);
    expect(codeOf(missing.body)).toBe('NABOOM_NOT_FOUND');
  });

  it('DELETE /api/responders/me: forgets only your own position at once (off the map and the nearest list); 401 and 403 for others', async () => {
    const nearest = async (): Promise<string[]> => ((await get(`${s.url}/api/emergency/alerts/${alertId}/responders`, auth(s.admin_))).body as { responders: Nearby[] }).responders.map((x) => x.username);
    expect((await put(`${s.url}${me}`, { available: true, location: { lat: north(ALERT.lat, 20), lon: ALERT.lon } }, auth(s.responder))).status).toBe(200);
    expect((await put(`${s.url}${me}`, { available: true, location: { lat: north(ALERT.lat, 30), lon: ALERT.lon } }, auth(acct('near2')))).status).toBe(200);
    expect(await names()).toEqual(expect.arrayContaining([s.responder.username, 'near2']));

    // Neither an anonymous caller nor a member deletes anything.
    expect((await del(`${s.url}${me}`)).status).toBe(401);
    const m = await del(`${s.url}${me}`, auth(s.member));
    expect(m.status).toBe(403);
    expect(codeOf(m.body)).toBe('NABOOM_FORBIDDEN');
    expect(await names()).toEqual(expect.arrayContaining([s.responder.username, 'near2']));

    const r = await del(`${s.url}${me}`, auth(s.responder));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ removed: true });
    expect(await names()).not.toContain(s.responder.username);
    expect(await nearest()).not.toContain(s.responder.username);
    // Only the caller's own: another responder's position stays.
    expect(await names()).toContain('near2');
    expect(await nearest()).toContain('near2');
    // Again: nothing left to forget.
    expect((await del(`${s.url}${me}`, auth(s.responder))).body).toEqual({ removed: false });
    // A new report stores a new position.
    const back = await put(`${s.url}${me}`, { available: true, location: { lat: north(ALERT.lat, 20), lon: ALERT.lon } }, auth(s.responder));
    expect((back.body as { presence: unknown }).presence).not.toBeNull();
    expect(await names()).toContain(s.responder.username);
  });

  it('removing an account or demoting it to member deletes its position at once', { timeout: 60_000 }, async () => {
    await put(`${s.url}${me}`, { available: true, location: { lat: north(ALERT.lat, 50), lon: ALERT.lon } }, auth(acct('gone4')));
    expect(await names()).toContain('gone4');
    const removed = await runCli(['users', 'remove', 'gone4'], { env: s.redis.env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/removed gone4 \(and their responder position\)/);
    expect(await names()).not.toContain('gone4');

    expect(await names()).toContain('far3');
    const demoted = await runCli(['users', 'role', 'far3', 'member'], { env: s.redis.env });
    expect(demoted.code, demoted.stderr).toBe(0);
    expect(await names()).not.toContain('far3');
    // A member cannot put it back.
    expect((await put(`${s.url}${me}`, { available: true, location: { lat: 0, lon: 0 } }, auth(acct('far3')))).status).toBe(403);
    expect(await names()).not.toContain('far3');
  });

  it('Redis unreachable: the presence routes answer 503 NABOOM_UNAVAILABLE with Retry-After, never 500, and recover', { timeout: 60_000 }, async () => {
    const pid = s.redis.server.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const r1 = await put(`${s.url}${me}`, { available: true, location: { lat: ALERT.lat, lon: ALERT.lon } }, auth(s.responder));
      const r2 = await get(`${s.url}/api/responders`, auth(s.responder));
      const r3 = await get(`${s.url}/api/emergency/alerts/${alertId}/responders`, auth(s.responder));
      const r4 = await del(`${s.url}${me}`, auth(s.responder));
      expect([r1.status, r2.status, r3.status, r4.status]).toEqual([503, 503, 503, 503]);
      for (const b of [r1.body, r2.body, r3.body, r4.body]) expect(codeOf(b)).toBe('NABOOM_UNAVAILABLE');
      expect(Number(r4.retryAfter)).toBeGreaterThan(0);
      expect(Number(r1.retryAfter)).toBeGreaterThan(0);
      expect(Number(r2.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(r3.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('the presence routes to answer again', async () => (await get(`${s.url}/api/responders`, auth(s.responder))).status === 200, { timeoutMs: 20_000, intervalMs: 100 });
  });
});
