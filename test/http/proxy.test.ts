/**
 * TRUST_PROXY (issue 10, defect 10). nginx's `$proxy_add_x_forwarded_for` appends the address it saw to
 * whatever X-Forwarded-For the client sent, so only the right-most entries are trustworthy: with one proxy
 * (a hop count of 1, or its address) the client IP is the last entry, and a client-written left-most entry
 * can neither pick someone else's rate-limit budget nor lock them out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../src/redis/databases.js';
import { post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

// The test client connects from 127.0.0.1, playing the proxy.
describe.each([
  ['a hop count', '1'],
  ['the proxy address', '127.0.0.1'],
])('TRUST_PROXY as %s', (_label, trustProxy) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { TRUST_PROXY: trustProxy, RATE_LIMIT_LOGINS_PER_IP: '3' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  const login = async (xff: string, password = 'wrong-password') => {
    const res = await fetch(`${s.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
      body: JSON.stringify({ username: 'mia', password }),
    });
    return res.status;
  };

  it('a client-supplied left-most X-Forwarded-For cannot choose the rate-limit IP', async () => {
    const victim = '192.0.2.99';
    const attacker = '198.51.100.5';
    // The attacker claims to be the victim; the proxy appends the attacker's real address.
    for (let i = 0; i < 3; i++) expect(await login(`${victim}, ${attacker}`)).toBe(401);
    expect(await login(`${victim}, ${attacker}`)).toBe(429);
    expect(await login(`10.9.8.7, ${attacker}`)).toBe(429);
    await s.admin.select(DATABASES.rateLimits);
    const keys = await s.admin.keys('naboom:ratelimit:logins-per-ip:*');
    expect(keys).toEqual([`naboom:ratelimit:logins-per-ip:${attacker}`]);
    // The victim, arriving through the same proxy, is not locked out.
    expect(await login(victim, s.member.password)).toBe(200);
  });
});

describe('TRUST_PROXY unset', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_LOGINS_PER_IP: '100' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('ignores X-Forwarded-For entirely: the client IP is the socket address', async () => {
    const res = await fetch(`${s.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.1' },
      body: JSON.stringify({ username: 'mia', password: 'wrong-password' }),
    });
    expect(res.status).toBe(401);
    await s.admin.select(DATABASES.rateLimits);
    expect(await s.admin.keys('naboom:ratelimit:logins-per-ip:*')).toEqual(['naboom:ratelimit:logins-per-ip:127.0.0.1']);
  });

  it('ignores X-Forwarded-Proto too: a client cannot make a foreign scheme pass the Origin check', async () => {
    const res = await fetch(`${s.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.url },
      body: JSON.stringify({ username: s.member.username, password: s.member.password }),
    });
    expect(res.status).toBe(200);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const raise = (origin: string) => post(`${s.url}/api/emergency/alerts`, sampleAlert(), { cookie, origin, 'x-forwarded-proto': 'https' });
    const https = await raise(s.url.replace(/^http:/, 'https:'));
    expect(https.status).toBe(403);
    expect((https.body as { error: { code: string } }).error.code).toBe('NABOOM_FORBIDDEN_ORIGIN');
    expect((await raise(s.url)).status).toBe(201);
  });
});
