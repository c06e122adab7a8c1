/** The session store on the app role: 24 h, rolling, id regenerated at login, destroyable. */
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { createSessionStore, registerSessions, SESSION_COOKIE } from '../../src/sessions/sessions.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

function sid(setCookie: string | string[] | undefined): string | undefined {
  const c = Array.isArray(setCookie) ? setCookie.join(';') : (setCookie ?? '');
  const m = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(c);
  return m?.[1];
}
const idOf = (cookie: string): string => decodeURIComponent(cookie).split('.')[0] ?? '';

describe('sessions', () => {
  let t: TestRedis;
  let clients: RoleClients;
  let app: FastifyInstance;
  let admin: Redis;
  beforeAll(async () => {
    t = await startTestRedis();
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    app = Fastify();
    await registerSessions(app, { config: t.config, store: createSessionStore({ config: t.config, keys: t.keys, clients }) });
    app.get('/visit', async (req) => {
      req.session.role = 'visitor';
      return { ok: true };
    });
    app.post('/login', async (req) => {
      await req.session.regenerate();
      req.session.userId = 'u1';
      req.session.username = 'alice';
      return { ok: true };
    });
    app.get('/me', async (req, reply) => (req.session.userId ? { user: req.session.username } : reply.code(401).send({ error: 'no' })));
    app.post('/logout', async (req) => {
      await req.session.destroy();
      return { ok: true };
    });
    await app.ready();
    admin = await connectAdmin(t.config);
    await admin.select(3);
  });
  afterAll(async () => {
    await app.close();
    await clients.close();
    admin.disconnect();
    await t.stop();
  });

  it('stores sessions under naboom:sessions:sid:* for 24 h, regenerates the id at login, rolls, and destroys', async () => {
    const visit = await app.inject({ method: 'GET', url: '/visit' });
    const before = sid(visit.headers['set-cookie']);
    expect(before).toBeDefined();
    expect(String(visit.headers['set-cookie'])).toMatch(/HttpOnly/);
    expect(String(visit.headers['set-cookie'])).toMatch(/SameSite=Strict/i);
    expect(await admin.exists(`naboom:sessions:sid:${idOf(before ?? '')}`)).toBe(1);

    const login = await app.inject({ method: 'POST', url: '/login', cookies: { [SESSION_COOKIE]: before ?? '' } });
    const after = sid(login.headers['set-cookie']) ?? '';
    expect(idOf(after)).not.toBe(idOf(before ?? ''));
    expect(await admin.exists(`naboom:sessions:sid:${idOf(before ?? '')}`)).toBe(0);
    const key = `naboom:sessions:sid:${idOf(after)}`;
    expect(JSON.parse((await admin.get(key)) ?? '{}')).toMatchObject({ userId: 'u1', username: 'alice' });
    const ttl = await admin.ttl(key);
    expect(ttl).toBeGreaterThan(86_390);
    expect(ttl).toBeLessThanOrEqual(86_400);

    // Rolling: every request refreshes the expiry.
    await admin.expire(key, 100);
    const me = await app.inject({ method: 'GET', url: '/me', cookies: { [SESSION_COOKIE]: after } });
    expect(me.json()).toEqual({ user: 'alice' });
    expect(await admin.ttl(key)).toBeGreaterThan(86_390);
    expect(sid(me.headers['set-cookie'])).toBeDefined();

    // A forged cookie is not a session.
    const forged = await app.inject({ method: 'GET', url: '/me', cookies: { [SESSION_COOKIE]: `${idOf(after)}.forgedsignature` } });
    expect(forged.statusCode).toBe(401);

    await app.inject({ method: 'POST', url: '/logout', cookies: { [SESSION_COOKIE]: after } });
    expect(await admin.exists(key)).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/me', cookies: { [SESSION_COOKIE]: after } })).statusCode).toBe(401);
  });

  it('the store works under the app role only (NOPERM elsewhere) and causes no ACL LOG entry', async () => {
    const c = clients.get('app', 'command', 3);
    await expect(c.get('panic:feed')).rejects.toThrow(/^NOPERM/);
    await admin.call('ACL', 'LOG', 'RESET');
    await app.inject({ method: 'POST', url: '/login' });
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
