/**
 * Web Push end to end: a real server and worker on our own Redis, and a local push service
 * (web-push-testing) that checks the VAPID signature and decrypts every payload. Prints the time from
 * POST /api/emergency/alerts to the payload decrypted at the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEnv } from '../../src/config/generate.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { auth, get, post, sampleAlert, startStack, type Account, type Stack } from '../helpers/stack.js';
import { MockPushService, type BrowserSubscription } from './mock-push-service.js';

const vapid = generateEnv(6380).vars;
const PUSH_ENV = {
  VAPID_PUBLIC_KEY: vapid['VAPID_PUBLIC_KEY'] ?? '',
  VAPID_PRIVATE_KEY: vapid['VAPID_PRIVATE_KEY'] ?? '',
  VAPID_SUBJECT: 'mailto:ops@example.org',
  RATE_LIMIT_ALERTS_PER_USER: '1000',
  RATE_LIMIT_ALERTS_PER_IP: '1000',
  JOB_ATTEMPTS: '3',
};

async function del(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'DELETE', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) };
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

describe('Web Push to responders', () => {
  let s: Stack;
  let svc: MockPushService;
  let worker: NotificationWorker;
  const metrics = new Metrics();

  beforeAll(async () => {
    s = await startStack({ env: PUSH_ENV });
    svc = new MockPushService();
    await svc.start();
    worker = new NotificationWorker({ config: s.redis.config, keys: s.redis.keys, logger: createLogger({ level: 'silent' }), metrics }, { summaryPattern: false });
    await worker.start();
    await s.admin.call('ACL', 'LOG', 'RESET');
  });
  afterAll(async () => {
    await worker?.stop(1000);
    await svc?.stop();
    await s?.stop();
  });

  const subscribe = async (who: Account): Promise<BrowserSubscription> => {
    const key = await get(`${s.url}/api/push/vapid-public-key`, auth(who));
    expect(key.status).toBe(200);
    const publicKey = (key.body as { publicKey: string }).publicKey;
    expect(publicKey).toBe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const sub = await svc.subscribe(publicKey);
    // As a browser's PushSubscription.toJSON() has it.
    const r = await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }, auth(who));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return sub;
  };

  const stored = async (username: string): Promise<Record<string, string>> => await s.admin.hgetall(s.redis.keys.push.subscriptions(username));

  it('raise → one push per subscription, decrypted at the push service with the fields and headers expected', async () => {
    const sub = await subscribe(s.responder);
    const again = await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, keys: sub.keys }, auth(s.responder));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ created: false, evicted: 0 });

    const latencies: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const severity = i % 2 === 0 ? 'high' : 'low';
      const before = (await svc.messages(sub.clientHash)).length;
      const t0 = performance.now();
      const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ severity, description: 'the reporter says: gate code 1234' }), auth(s.member));
      expect(r.status).toBe(201);
      const id = (r.body as { alert_id: string }).alert_id;
      ids.push(id);
      const msgs = await waitFor(`push for ${id}`, async () => {
        const m = await svc.messages(sub.clientHash);
        return m.length > before ? m : undefined;
      }, { timeoutMs: 10_000, intervalMs: 2 });
      latencies.push(performance.now() - t0);
      const message = JSON.parse(msgs[msgs.length - 1] ?? '{}') as Record<string, unknown>;
      expect(message).toEqual({ event: 'alert.raised', id, type: 'panic', severity, address: '1 Long St, Cape Town', lat: -33.9249, lon: 18.4241, at: expect.any(String) as string });
      const req = svc.requests.filter((q) => q.hash === sub.clientHash).at(-1);
      expect(req?.headers).toMatchObject({ ttl: '300', urgency: severity === 'high' ? 'high' : 'normal', topic: id, 'content-encoding': 'aes128gcm' });
      expect(req?.headers['authorization']).toMatch(/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=/);
    }
    // Nothing about the reporter, nothing from the description.
    for (const m of await svc.messages(sub.clientHash)) {
      expect(m).not.toContain(s.member.username);
      expect(m).not.toContain(s.member.id);
      expect(m).not.toContain('gate code');
    }
    // Exactly one push per alert (the job ids derive from the alert event and the subscription).
    expect(await svc.messages(sub.clientHash)).toHaveLength(ids.length);
    console.log(`[push] press→decrypted p50 ${percentile(latencies, 50).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (${latencies.length} alerts)`);
    expect((await metrics.registry.getSingleMetricAsString('naboom_push_sent_total'))).toMatch(/naboom_push_sent_total\{result="sent"\} 8/);
  });

  it('a 5xx from the push service is retried with backoff and then delivered once', async () => {
    const sub = await subscribe(s.admin_);
    svc.failNext.set(sub.clientHash, 1);
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ severity: 'critical' }), auth(s.member));
    const id = (r.body as { alert_id: string }).alert_id;
    const msgs = await waitFor('the retried push', async () => {
      const m = await svc.messages(sub.clientHash);
      return m.length > 0 ? m : undefined;
    }, { timeoutMs: 15_000 });
    expect(msgs.map((m) => (JSON.parse(m) as { id: string }).id)).toEqual([id]);
    const tries = svc.requests.filter((q) => q.hash === sub.clientHash);
    expect(tries.map((q) => q.status)).toEqual([503, 201]);
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThan(1000);
    expect(await metrics.registry.getSingleMetricAsString('naboom_push_sent_total')).toMatch(/result="retry"\} 1/);
  });

  it('a subscription the push service reports gone (410) is deleted', async () => {
    const sub = await subscribe(s.responder);
    const before = Object.keys(await stored(s.responder.username)).length;
    await svc.expire(sub.clientHash);
    await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
    await waitFor('the gone subscription to be deleted', async () => Object.keys(await stored(s.responder.username)).length === before - 1, { timeoutMs: 10_000 });
    expect(svc.requests.some((q) => q.hash === sub.clientHash && q.status === 410)).toBe(true);
    expect(Object.values(await stored(s.responder.username)).some((v) => v.includes(sub.endpoint))).toBe(false);
    expect(await metrics.registry.getSingleMetricAsString('naboom_push_sent_total')).toMatch(/result="gone"\} 1/);
  });

  it('members get 403; DELETE removes by endpoint', async () => {
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    expect((await get(`${s.url}/api/push/vapid-public-key`, auth(s.member))).status).toBe(403);
    const m = await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, keys: sub.keys }, auth(s.member));
    expect(m.status).toBe(403);
    expect((m.body as { error: { code: string } }).error.code).toBe('NABOOM_FORBIDDEN');
    expect((await del(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint }, auth(s.member))).status).toBe(403);
    expect((await get(`${s.url}/api/push/vapid-public-key`)).status).toBe(401);

    expect((await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, keys: sub.keys }, auth(s.admin_))).status).toBe(201);
    expect(await del(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint }, auth(s.admin_))).toEqual({ status: 200, body: { removed: true } });
    expect(await del(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint }, auth(s.admin_))).toEqual({ status: 200, body: { removed: false } });
  });

  it('refuses bad subscriptions with 400 NABOOM_VALIDATION', async () => {
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const ok = { endpoint: 'https://push.example.org/wpush/v2/abc', keys: sub.keys };
    const cases: Record<string, unknown> = {
      'ftp endpoint': { ...ok, endpoint: 'ftp://push.example.org/x' },
      'plain http on a public host': { ...ok, endpoint: 'http://push.example.org/x' },
      'plain http on a private address': { ...ok, endpoint: 'http://10.0.0.5:8080/x' },
      'user info': { ...ok, endpoint: 'https://user:pw@push.example.org/x' },
      'oversized endpoint': { ...ok, endpoint: `https://push.example.org/${'a'.repeat(2100)}` },
      'short p256dh': { ...ok, keys: { ...sub.keys, p256dh: sub.keys.p256dh.slice(0, 86) } },
      'compressed point': { ...ok, keys: { ...sub.keys, p256dh: `A${sub.keys.p256dh.slice(1)}` } },
      'oversized p256dh': { ...ok, keys: { ...sub.keys, p256dh: `${sub.keys.p256dh}AAAA` } },
      'auth of 15 bytes': { ...ok, keys: { ...sub.keys, auth: 'AAAAAAAAAAAAAAAAAAAA' } },
      'auth of 17 bytes': { ...ok, keys: { ...sub.keys, auth: `${sub.keys.auth.slice(0, 21)}AAA` } },
      'auth not base64url': { ...ok, keys: { ...sub.keys, auth: `${sub.keys.auth.slice(0, 20)}+/` } },
      'extra field': { ...ok, user: 'x' },
      'extra key field': { ...ok, keys: { ...sub.keys, extra: 'x' } },
      'missing keys': { endpoint: ok.endpoint },
    };
    for (const [name, body] of Object.entries(cases)) {
      const r = await post(`${s.url}/api/push/subscriptions`, body, auth(s.responder));
      expect(r.status, name).toBe(400);
      expect((r.body as { error: { code: string } }).error.code, name).toBe('NABOOM_VALIDATION');
    }
    expect((await post(`${s.url}/api/push/subscriptions`, ok, auth(s.responder))).status).toBe(201);
    for (const endpoint of ['http://localhost:9/x', 'http://[::1]:9/x', 'http://127.0.0.1/x']) {
      expect((await post(`${s.url}/api/push/subscriptions`, { ...ok, endpoint }, auth(s.responder))).status, endpoint).toBe(201);
    }
    for (const endpoint of [ok.endpoint, 'http://localhost:9/x', 'http://[::1]:9/x', 'http://127.0.0.1/x']) {
      await del(`${s.url}/api/push/subscriptions`, { endpoint }, auth(s.responder));
    }
  });

  it('refuses an endpoint on a host that is not a listed push service (PUSH_SERVICE_HOSTS), and stores nothing', async () => {
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const before = await stored(s.responder.username);
    // Listed here: 127.0.0.1, [::1], localhost, push.example.org (test/helpers/redis.ts).
    for (const [endpoint, host] of [
      ['https://internal.example.net/hook', 'internal.example.net'],
      ['https://push.example.org.attacker.example/x', 'push.example.org.attacker.example'],
      ['https://xpush.example.org/x', 'xpush.example.org'],
      ['https://sub.push.example.org/x', 'sub.push.example.org'],
      ['http://127.0.0.2:6379/', '127.0.0.2'],
    ] as const) {
      const r = await post(`${s.url}/api/push/subscriptions`, { endpoint, keys: sub.keys }, auth(s.responder));
      expect(r.status, endpoint).toBe(400);
      const err = (r.body as { error: { code: string; message: string; details: { host: string } } }).error;
      expect(err.code, endpoint).toBe('NABOOM_VALIDATION');
      expect(err.details.host, endpoint).toBe(host);
      expect(err.message, endpoint).toContain('PUSH_SERVICE_HOSTS');
    }
    expect(await stored(s.responder.username)).toEqual(before);
  });

  it('keeps at most PUSH_MAX_SUBSCRIPTIONS_PER_USER per user: a new one evicts the oldest', async () => {
    const who = await s.server.users.add('nomsa', 'responder', 'nomsa-Passw0rd-123');
    const token = await s.server.users.issueToken(who.username);
    const h = { authorization: `Bearer ${token}` };
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    for (let i = 0; i < 10; i++) expect((await post(`${s.url}/api/push/subscriptions`, { endpoint: `https://push.example.org/d${i}`, keys: sub.keys }, h)).body).toEqual({ created: true, evicted: 0 });
    expect((await post(`${s.url}/api/push/subscriptions`, { endpoint: 'https://push.example.org/d10', keys: sub.keys }, h)).body).toEqual({ created: true, evicted: 1 });
    const left = Object.values(await stored(who.username)).map((v) => (JSON.parse(v) as { endpoint: string }).endpoint);
    expect(left).toHaveLength(10);
    expect(left).not.toContain('https://push.example.org/d0');
    expect(left).toContain('https://push.example.org/d10');
  });

  it("a removed user's subscriptions are gone, and a demotion to member drops them", async () => {
    await subscribe(s.responder);
    expect(Object.keys(await stored(s.responder.username)).length).toBeGreaterThan(0);
    await s.server.users.setRole(s.admin_.username, 'member');
    expect(await stored(s.admin_.username)).toEqual({});
    expect(await s.admin.sismember(s.redis.keys.push.subscribers, s.admin_.username)).toBe(0);
    await s.server.users.remove(s.responder.username);
    expect(await s.admin.exists(s.redis.keys.push.subscriptions(s.responder.username))).toBe(0);
    expect(await s.admin.sismember(s.redis.keys.push.subscribers, s.responder.username)).toBe(0);
  });

  it('the ACL LOG stays empty: every push key and command is granted', async () => {
    expect(await s.admin.call('ACL', 'LOG')).toEqual([]);
  });
});
