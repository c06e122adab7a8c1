/**
 * Origins and security headers (issue 10, defect 11). A session-cookie request that changes state or
 * upgrades to a WebSocket must come from this server's own origin (scheme from X-Forwarded-Proto via the
 * trusted proxy) or ALLOWED_ORIGINS; bearer-token clients are unaffected. COOKIE_SECURE brings HSTS, and
 * every /api answer is `Cache-Control: no-store`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, get, post, sampleAlert, startStack, WsClient, type Stack } from '../helpers/stack.js';

const ALLOWED = 'https://ops.example.org';
const FOREIGN = 'https://evil.example';

describe('Origin check for cookie sessions, HSTS, no-store', () => {
  let s: Stack;
  let own: string;
  /** What the TLS-terminating proxy adds to every request. */
  const viaProxy = { 'x-forwarded-proto': 'https' };
  let cookie: string;

  beforeAll(async () => {
    s = await startStack({ env: { TRUST_PROXY: '1', COOKIE_SECURE: 'true', ALLOWED_ORIGINS: ALLOWED, RATE_LIMIT_ALERTS_PER_USER: '1000' } });
    own = s.url.replace(/^http:/, 'https:');
    const res = await fetch(`${s.url}/api/auth/login`, {
      method: 'POST',
      headers: { ...viaProxy, 'content-type': 'application/json', origin: own },
      body: JSON.stringify({ username: s.member.username, password: s.member.password }),
    });
    expect(res.status).toBe(200);
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^naboom_sid=/);
  });
  afterAll(async () => {
    await s.stop();
  });

  const raiseWith = (headers: Record<string, string>) => post(`${s.url}/api/emergency/alerts`, sampleAlert(), { ...viaProxy, ...headers });
  const myAlertCount = async (): Promise<number> => ((await get(`${s.url}/api/emergency/alerts`, auth(s.member))).body as { alerts: unknown[] }).alerts.length;

  it('refuses a cookie POST from a foreign origin, from `Origin: null`, or marked cross-site, with 403 NABOOM_FORBIDDEN_ORIGIN and nothing stored', async () => {
    const before = await myAlertCount();
    const cases: Record<string, string>[] = [{ origin: FOREIGN }, { origin: 'null' }, { origin: own.replace('https:', 'http:') }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of cases) {
      const r = await raiseWith({ cookie, ...headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect((r.body as { error: { code: string } }).error.code).toBe('NABOOM_FORBIDDEN_ORIGIN');
    }
    const logout = await post(`${s.url}/api/auth/logout`, null, { ...viaProxy, cookie, origin: FOREIGN });
    expect(logout.status).toBe(403);
    expect(await myAlertCount()).toBe(before);
    expect((await get(`${s.url}/api/auth/me`, { cookie })).status).toBe(200);
  });

  it('accepts a cookie POST from its own origin, from ALLOWED_ORIGINS, same-origin without Origin, or from a non-browser client (no Origin)', async () => {
    const cases: Record<string, string>[] = [{ origin: own }, { origin: ALLOWED }, { 'sec-fetch-site': 'same-origin' }, {}];
    for (const headers of cases) {
      expect((await raiseWith({ cookie, ...headers })).status, JSON.stringify(headers)).toBe(201);
    }
  });

  it('leaves bearer-token clients alone, whatever Origin they send', async () => {
    expect((await raiseWith({ ...auth(s.member), origin: FOREIGN })).status).toBe(201);
  });

  it('refuses a login posted from a foreign page (login CSRF), accepts one from its own', async () => {
    const login = (origin: string) =>
      post(`${s.url}/api/auth/login`, { username: s.member2.username, password: s.member2.password }, { ...viaProxy, origin });
    const refused = await login(FOREIGN);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect((await login(own)).status).toBe(200);
  });

  it('refuses a WebSocket upgrade with the cookie from a foreign origin; accepts its own origin', async () => {
    const foreign = new WsClient(s.url, { ...viaProxy, cookie, origin: FOREIGN });
    await expect(foreign.open()).rejects.toThrow('HTTP 403');
    foreign.ws.terminate();
    const mine = new WsClient(s.url, { ...viaProxy, cookie, origin: own });
    await mine.open();
    mine.subscribe();
    await mine.until((f) => f.some((x) => x.type === 'live'));
    mine.close();
  });

  it('sends HSTS with COOKIE_SECURE and Cache-Control: no-store on every /api answer (errors included)', async () => {
    const me = await get(`${s.url}/api/auth/me`, { cookie });
    const denied = await get(`${s.url}/api/emergency/alerts`);
    const list = await get(`${s.url}/api/emergency/alerts`, auth(s.member));
    for (const r of [me, denied, list]) {
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('strict-transport-security')).toBe('max-age=31536000');
    }
    expect(denied.status).toBe(401);
    expect((await get(`${s.url}/health/live`)).headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});
