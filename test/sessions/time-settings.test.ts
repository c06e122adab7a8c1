/** SESSION_TTL_S and RATE_LIMIT_WINDOW_S take effect (compressed time for soak runs; the defaults elsewhere). */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { settingsSchema } from '../../src/config/schema.js';
import { installErrorHandling } from '../../src/http/errors.js';
import { limiter, redisRateLimitStore, registerRateLimits } from '../../src/http/rate-limit.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { DATABASES } from '../../src/redis/databases.js';
import { createSessionStore, registerSessions, SESSION_COOKIE } from '../../src/sessions/sessions.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const sidOf = (setCookie: string | string[] | undefined): string => {
  const c = Array.isArray(setCookie) ? setCookie.join(';') : (setCookie ?? '');
  return decodeURIComponent(new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(c)?.[1] ?? '').split('.')[0] ?? '';
};

describe('time settings', () => {
  let t: TestRedis;
  let clients: RoleClients;
  let app: FastifyInstance;
  let admin: Redis;
  beforeAll(async () => {
    t = await startTestRedis({ env: { SESSION_TTL_S: '120', RATE_LIMIT_WINDOW_S: '6' } });
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    app = Fastify();
    installErrorHandling(app);
    await registerSessions(app, { config: t.config, store: createSessionStore({ config: t.config, keys: t.keys, clients }) });
    await registerRateLimits(app, redisRateLimitStore(clients.get('app', 'command', DATABASES.rateLimits), t.keys.rateLimitPrefix), t.config.settings.RATE_LIMIT_WINDOW_S);
    const limits = limiter(app, new Metrics(), [{ name: 'probe', max: 1, key: () => 'one' }]);
    app.post('/login', async (req) => {
      await req.session.regenerate();
      req.session.userId = 'u1';
      return { ok: true };
    });
    app.post('/limited', { preHandler: limits }, async () => ({ ok: true }));
    await app.ready();
    admin = await connectAdmin(t.config);
  });
  afterAll(async () => {
    await app.close();
    await clients.close();
    admin.disconnect();
    await t.stop();
  });

  it('defaults: 24 h sessions and one-minute rate-limit windows', () => {
    const s = settingsSchema.parse({});
    expect(s.SESSION_TTL_S).toBe(86_400);
    expect(s.RATE_LIMIT_WINDOW_S).toBe(60);
    expect(settingsSchema.safeParse({ SESSION_TTL_S: '0' }).success).toBe(false);
    expect(settingsSchema.safeParse({ RATE_LIMIT_WINDOW_S: 'soon' }).success).toBe(false);
  });

  it('SESSION_TTL_S sets the stored session expiry and the cookie expiry', async () => {
    const before = Date.now();
    const login = await app.inject({ method: 'POST', url: '/login' });
    const expires = Date.parse(/Expires=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1] ?? '');
    expect(expires).toBeGreaterThan(before);
    expect(expires).toBeLessThanOrEqual(Date.now() + 121_000);
    const key = `${t.keys.sessionStorePrefix}${sidOf(login.headers['set-cookie'])}`;
    await admin.select(DATABASES.sessions);
    const ttl = await admin.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('RATE_LIMIT_WINDOW_S sets the window: the counter expires after it and the limit opens again', async () => {
    expect((await app.inject({ method: 'POST', url: '/limited' })).statusCode).toBe(200);
    const refused = await app.inject({ method: 'POST', url: '/limited' });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(6);
    await admin.select(DATABASES.rateLimits);
    const pttl = await admin.pttl(`${t.keys.rateLimitPrefix}probe:one`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(6000);
    // The window, not a minute: allowed again once it has passed (polled with a deadline well under 60 s).
    const status = await waitFor(
      'the limit to open again after the window',
      async () => {
        const answered = (await app.inject({ method: 'POST', url: '/limited' })).statusCode;
        return answered === 429 ? undefined : answered;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(status).toBe(200);
  });
});
