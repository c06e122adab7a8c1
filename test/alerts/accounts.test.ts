/** Accounts: `naboom users`, session login/logout/me, bearer tokens, login and alert rate limits (429). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { auth, get, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

describe('accounts and rate limits', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '3', RATE_LIMIT_ALERTS_PER_IP: '1000', RATE_LIMIT_LOGINS: '3' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  const login = async (username: string, password: string) => {
    const res = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return { status: res.status, body: (await res.json()) as { user?: { role: string }; error?: { code: string } }, cookie: res.headers.get('set-cookie') ?? '' };
  };

  it('session login sets an HttpOnly SameSite=Strict cookie; me; logout ends the session', async () => {
    const r = await login(s.responder.username, s.responder.password);
    expect(r.status).toBe(200);
    expect(r.body.user?.role).toBe('responder');
    expect(r.cookie).toMatch(/HttpOnly/);
    expect(r.cookie).toMatch(/SameSite=Strict/);
    const cookie = r.cookie.split(';')[0] ?? '';
    const me = await get(`${s.url}/api/auth/me`, { cookie });
    expect(me.body).toMatchObject({ user: { username: 'rita', role: 'responder' }, via: 'session' });
    const raised = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), { cookie });
    expect(raised.status).toBe(201);
    await post(`${s.url}/api/auth/logout`, null, { cookie });
    expect((await get(`${s.url}/api/auth/me`, { cookie })).status).toBe(401);
    expect((await get(`${s.url}/api/auth/me`, auth(s.member))).body).toMatchObject({ user: { username: 'mia' }, via: 'token' });
  });

  it('a wrong password is 401 NABOOM_BAD_CREDENTIALS; the 4th try in a minute is 429 with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await login('ada', 'wrong-password');
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('NABOOM_BAD_CREDENTIALS');
    }
    const res = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ada', password: s.admin_.password }) });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NABOOM_RATE_LIMITED');
    // Unknown users cost as much as known ones and give the same answer.
    expect((await login('nobody-here', 'whatever')).body.error?.code).toBe('NABOOM_BAD_CREDENTIALS');
  });

  it('limits alerts per user in Redis: 429 with Retry-After, counted in the metrics', async () => {
    const statuses: number[] = [];
    let retryAfter = '';
    for (let i = 0; i < 4; i++) {
      const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member2));
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after') ?? '';
        expect((r.body as { error: { code: string; details: { limits: string[] } } }).error).toMatchObject({ code: 'NABOOM_RATE_LIMITED', details: { limits: ['alerts-per-user'] } });
      }
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    await s.admin.select(0);
    expect((await s.admin.keys('naboom:ratelimit:*')).length).toBeGreaterThan(0);
    expect((await get(`${s.url}/metrics`, { authorization: `Bearer ${s.redis.env['METRICS_TOKEN'] ?? ''}` })).text).toMatch(/naboom_rate_limited_total\{limit="alerts-per-user"\} 1/);
  });

  it('naboom users add | list | token | remove through the CLI; a removed user’s token stops working', async () => {
    const env = { NABOOM_ENV_FILE: s.redis.envFile };
    const add = await runCli(['users', 'add', 'zoe', '--role', 'responder', '--password-stdin'], { env, stdin: 'zoe-long-password\n' });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^added zoe \(responder, id u_[0-9a-f]+\)/);
    const dup = await runCli(['users', 'add', 'zoe', '--role', 'member', '--password-stdin'], { env, stdin: 'another-password\n' });
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/error NABOOM_USER_EXISTS/);
    const badRole = await runCli(['users', 'add', 'yan', '--role', 'root', '--password-stdin'], { env, stdin: 'another-password\n' });
    expect(badRole.stderr).toMatch(/error NABOOM_USAGE: --role must be one of member, responder, admin/);
    const list = await runCli(['users', 'list', '--json'], { env });
    expect((JSON.parse(list.stdout) as { username: string }[]).map((u) => u.username)).toContain('zoe');
    const token = (await runCli(['users', 'token', 'zoe'], { env })).stdout.trim();
    expect(token).toMatch(/^nbm_[A-Za-z0-9_-]{43}$/);
    expect((await get(`${s.url}/api/auth/me`, { authorization: `Bearer ${token}` })).status).toBe(200);
    await s.admin.select(0);
    const stored = await s.admin.hgetall('naboom:auth:user:zoe');
    expect(stored['password']).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(JSON.stringify(await s.admin.keys('naboom:auth:*'))).not.toContain(token);
    expect((await runCli(['users', 'remove', 'zoe'], { env })).code).toBe(0);
    expect((await runCli(['users', 'remove', 'zoe'], { env })).stderr).toMatch(/error NABOOM_USER_NOT_FOUND/);
    // The in-process lookup cache holds a user for at most a few seconds; a fresh token check fails at once.
    const me = await get(`${s.url}/api/auth/me`, { authorization: `Bearer ${token}x` });
    expect(me.status).toBe(401);
    expect(add.stdout + add.stderr).not.toContain('zoe-long-password');
  });
});
