/**
 * Login abuse (issue 10, defect 5): the per-username limit follows the name as login uses it, a per-IP
 * limit, and a flood of logins with made-up names gets fast 503s instead of queueing behind scrypt.
 * TRUST_PROXY=1 lets each request name its client IP through X-Forwarded-For, as nginx would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

interface Answer {
  status: number;
  code: string | undefined;
  limits: string[] | undefined;
  retryAfter: string | null;
}

describe('login limits and bounded password work', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      env: { TRUST_PROXY: '1', RATE_LIMIT_LOGINS: '2', RATE_LIMIT_LOGINS_PER_IP: '5', LOGIN_CONCURRENCY: '1', LOGIN_QUEUE: '2' },
    });
  });
  afterAll(async () => {
    await s.stop();
  });

  const login = async (username: string, password: string, ip: string): Promise<Answer> => {
    const res = await fetch(`${s.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ username, password }),
    });
    const body = (await res.json()) as { error?: { code: string; details?: { limits?: string[] } } };
    return { status: res.status, code: body.error?.code, limits: body.error?.details?.limits, retryAfter: res.headers.get('retry-after') };
  };

  it('limits the name as login looks it up: after `rita` is limited, `RITA` and `RiTa` are limited too', async () => {
    const ip = '198.51.100.10';
    expect((await login('rita', 'wrong-password', ip)).status).toBe(401);
    expect((await login('Rita', 'wrong-password', ip)).status).toBe(401);
    for (const name of ['RITA', 'RiTa']) {
      const r = await login(name, s.responder.password, ip);
      expect(r).toMatchObject({ status: 429, code: 'NABOOM_RATE_LIMITED', limits: ['logins'] });
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }
    // Another client of the same user is not locked out by this one.
    expect((await login('rita', s.responder.password, '198.51.100.11')).status).toBe(200);
  });

  it('limits logins per IP whatever the names: the 6th in a minute is 429 "logins-per-ip"; other IPs still log in', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 5; i++) expect((await login(`guess${i}`, 'wrong-password', ip)).status).toBe(401);
    const r = await login('mia', s.member.password, ip);
    expect(r).toMatchObject({ status: 429, code: 'NABOOM_RATE_LIMITED', limits: ['logins-per-ip'] });
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect((await login('mia', s.member.password, '198.51.100.21')).status).toBe(200);
  });

  it('a burst of made-up logins gets 503 NABOOM_UNAVAILABLE with Retry-After at once, not after the queued scrypt work', async () => {
    const order: Answer[] = [];
    const burst = Array.from({ length: 40 }, (_, i) =>
      login(`nobody${i}`, 'made-up-password', `203.0.113.${i + 1}`).then((a) => {
        order.push(a);
        return a;
      }),
    );
    const real = login('max', s.member2.password, '192.0.2.50');
    const answers = await Promise.all(burst);
    const realAnswer = await real;

    const refused = answers.filter((a) => a.status === 503);
    const checked = answers.filter((a) => a.status === 401);
    expect(refused.length + checked.length).toBe(answers.length);
    expect(refused.length).toBeGreaterThan(0);
    expect(checked.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.code).toBe('NABOOM_UNAVAILABLE');
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    // The refusals did not wait for password work: every one was answered before the last checked login.
    const lastChecked = order.map((a) => a.status).lastIndexOf(401);
    expect(order.findLastIndex((a) => a.status === 503)).toBeLessThan(lastChecked);
    // The real login either got through the bounded queue or was told to retry; after the burst it works.
    expect([200, 503]).toContain(realAnswer.status);
    expect((await login('max', s.member2.password, '192.0.2.51')).status).toBe(200);
  });
});
