/**
 * Who may hold a live feed, and for how long: the per-user connection cap, the per-user subscribe rate,
 * credentials re-checked while connected (logout, removal, token revocation, role change), sessions bound to
 * the account id, and a logout that forgets only its own user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { runCli } from '../helpers/cli.js';
import { auth, get, post, SseClient, startStack, WsClient, type Account, type Stack } from '../helpers/stack.js';

describe('live feed access', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { LIVE_MAX_CONNECTIONS_PER_USER: '2', LIVE_SUBSCRIBES_PER_MIN: '3', LIVE_AUTH_RECHECK_MS: '200' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  const login = async (username: string, password: string): Promise<string> => {
    const r = await post(`${s.url}/api/auth/login`, { username, password });
    expect(r.status).toBe(200);
    return (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  };
  let n = 0;
  const account = async (role: 'member' | 'responder' = 'member'): Promise<Account> => {
    const username = `eve${++n}`;
    const password = `${username}-Passw0rd-123`;
    const u = await s.server.users.add(username, role, password);
    return { username, password, id: u.id, token: await s.server.users.issueToken(username) };
  };
  const liveWs = async (headers: Record<string, string>): Promise<WsClient> => {
    const ws = new WsClient(s.url, headers);
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    return ws;
  };
  const liveSse = async (headers: Record<string, string>): Promise<SseClient> => {
    const sse = new SseClient(`${s.url}/api/emergency/stream`, headers);
    await sse.open();
    expect(sse.status).toBe(200);
    await sse.until((e) => e.some((x) => x.event === 'live'));
    return sse;
  };
  /** Waits for the server to end a WebSocket with NABOOM_UNAUTHENTICATED and 4401. */
  const closedUnauthenticated = async (ws: WsClient): Promise<void> => {
    await ws.until(() => ws.closed !== undefined, 5000).catch(() => undefined);
    expect(ws.closed?.code).toBe(4401);
    expect(ws.frames.at(-1)).toMatchObject({ type: 'error', code: 'NABOOM_UNAUTHENTICATED' });
  };

  it('caps live connections per user (WS + SSE together): 4429 on WS, 429 with Retry-After on SSE', async () => {
    const a = await account();
    const other = await account();
    const one = await liveWs(auth(a));
    const two = await liveSse(auth(a));
    const three = new WsClient(s.url, auth(a));
    await three.open();
    await three.until(() => three.closed !== undefined);
    expect(three.closed?.code).toBe(4429);
    expect(three.frames[0]).toMatchObject({ type: 'error', code: 'NABOOM_RATE_LIMITED' });
    const res = await fetch(`${s.url}/api/emergency/stream`, { headers: auth(a) });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NABOOM_RATE_LIMITED');
    // Another user is not affected, and a freed slot can be used again.
    (await liveWs(auth(other))).close();
    one.close();
    await one.until(() => one.closed !== undefined);
    const again = await waitFor(
      'the freed connection slot to be reusable',
      async () => {
        const c = new WsClient(s.url, auth(a));
        await c.open();
        c.subscribe();
        await c.until((f) => f.some((x) => x.type === 'live') || c.closed !== undefined);
        return c.closed ? undefined : c;
      },
      { timeoutMs: 5000, intervalMs: 0 },
    );
    again.close();
    await two.close();
  });

  it('rate-limits subscribes per user with an error frame; the socket stays open', async () => {
    const a = await account();
    const ws = new WsClient(s.url, auth(a));
    await ws.open();
    for (let i = 0; i < 4; i++) ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'error'));
    expect(ws.frames.find((x) => x.type === 'error')?.['code']).toBe('NABOOM_RATE_LIMITED');
    await ws.until((f) => f.some((x) => x.type === 'live'));
    expect(ws.closed).toBeUndefined();
    ws.close();
  });

  it('logout closes that session’s WS (4401) and SSE (error event), not other users’ feeds', async () => {
    const a = await account();
    const cookie = await login(a.username, a.password);
    const bystander = await liveWs(auth(s.responder));
    const ws = await liveWs({ cookie });
    const sse = await liveSse({ cookie });
    const out = await post(`${s.url}/api/auth/logout`, null, { cookie });
    expect(out.status).toBe(200);
    await closedUnauthenticated(ws);
    await sse.until((e) => e.some((x) => x.event === 'error' && x.data['code'] === 'NABOOM_UNAUTHENTICATED'));
    expect(bystander.closed).toBeUndefined();
    bystander.close();
    await sse.close();
  });

  it('users remove, token revocation and a role change each close that user’s live feeds', async () => {
    const removed = await account();
    const revoked = await account();
    const promoted = await account();
    const keeps = await account();
    const feeds = await Promise.all([removed, revoked, promoted, keeps].map((a) => liveWs(auth(a))));
    const removedSse = await liveSse(auth(removed));
    await s.server.users.remove(removed.username);
    expect(await s.server.users.revokeTokens(revoked.username)).toBe(1);
    await s.server.users.setRole(promoted.username, 'responder');
    for (const ws of feeds.slice(0, 3)) await closedUnauthenticated(ws);
    await removedSse.until((e) => e.some((x) => x.event === 'error' && x.data['code'] === 'NABOOM_UNAUTHENTICATED'));
    expect(feeds[3]?.closed).toBeUndefined();
    feeds[3]?.close();
    await removedSse.close();
  });

  it('a session dies with its account: remove eve, add eve again, and the old cookie is not the new eve', async () => {
    const username = 'eve-again';
    const password = 'eve-again-Passw0rd-123';
    await s.server.users.add(username, 'member', password);
    // No request with the cookie before the removal: the Authenticator's 5 s cache is not what is tested.
    const cookie = await login(username, password);
    await s.server.users.remove(username);
    await s.server.users.add(username, 'responder', password);
    const me = await get(`${s.url}/api/auth/me`, { cookie });
    expect(me.status).toBe(401);
    // The new account's own login works.
    expect((await get(`${s.url}/api/auth/me`, { cookie: await login(username, password) })).status).toBe(200);
  });

  it('logout clears the cookie', async () => {
    const a = await account();
    const cookie = await login(a.username, a.password);
    const out = await post(`${s.url}/api/auth/logout`, null, { cookie });
    expect(out.headers.get('set-cookie')).toMatch(/naboom_sid=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('an unauthenticated logout does not clear other users’ cached lookups', async () => {
    // A token that stops existing in Redis keeps working from the (5 s) cache…
    const b = await account();
    expect((await get(`${s.url}/api/auth/me`, auth(b))).status).toBe(200);
    await s.server.users.revokeTokens(b.username);
    // …and an anonymous logout must not flush that cache for everyone.
    expect((await post(`${s.url}/api/auth/logout`, null)).status).toBe(200);
    expect((await get(`${s.url}/api/auth/me`, auth(b))).status).toBe(200);
  });

  it('naboom users token NAME --revoke and naboom users role NAME ROLE, through the CLI', async () => {
    const env = { NABOOM_ENV_FILE: s.redis.envFile };
    const a = await account();
    const ws = await liveWs(auth(a));
    const revoke = await runCli(['users', 'token', a.username, '--revoke'], { env });
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(/revoked 1 token of/);
    await closedUnauthenticated(ws);
    const role = await runCli(['users', 'role', a.username, 'responder'], { env });
    expect(role.code, role.stderr).toBe(0);
    expect((await s.server.users.get(a.username))?.role).toBe('responder');
    const bad = await runCli(['users', 'role', a.username, 'root'], { env });
    expect(bad.code).not.toBe(0);
    expect((await s.server.users.get(a.username))?.role).toBe('responder');
  });
});
