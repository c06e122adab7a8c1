/**
 * The dispatch policy end to end (serve + worker + a local push service + a webhook receiver, real Redis):
 * a new alert is pushed first to the nearest available responders within DISPATCH_RADIUS_KM and its webhook
 * says so; the escalation after ESCALATE_AFTER_S goes to everyone; nobody near → everyone at once; presence
 * unreadable (the realtime role's selector taken away) → everyone at once, never a lost notification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEnv } from '../../src/config/generate.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { applyRules } from '../../src/redis/acl/provision.js';
import { desiredRules } from '../../src/redis/acl/rules.js';
import { MockPushService, type BrowserSubscription } from '../push/mock-push-service.js';
import { startReceiver, type Receiver } from '../queue/helpers.js';
import { auth, get, post, sampleAlert, startStack, type Account, type Stack } from '../helpers/stack.js';

const vapid = generateEnv(6380).vars;
const SECRET = 'whsec-dispatch-0123456789abcdef0123456789';
const ESCALATE_S = 4;

const HOME = { lat: -33.9249, lon: 18.4241 };
const north = (lat: number, m: number): number => lat + m / 111_195;

interface Pushed {
  event: string;
  id: string;
}
interface Hooked {
  event: string;
  alert: { id: string };
  dispatch?: { stage: string; reason: string; responders: string[]; radius_km?: number };
}

describe('dispatch policy', () => {
  let s: Stack;
  let svc: MockPushService;
  let rx: Receiver;
  let worker: NotificationWorker;
  const acct: Record<string, Account> = {};
  const subs: Record<string, BrowserSubscription> = {};

  beforeAll(async () => {
    rx = await startReceiver();
    s = await startStack({
      env: {
        VAPID_PUBLIC_KEY: vapid['VAPID_PUBLIC_KEY'] ?? '',
        VAPID_PRIVATE_KEY: vapid['VAPID_PRIVATE_KEY'] ?? '',
        VAPID_SUBJECT: 'https://ops.example.org/contact',
        ESCALATE_AFTER_S: String(ESCALATE_S),
        DISPATCH_RADIUS_KM: '5',
        DISPATCH_NEAREST_N: '2',
        NOTIFY_WEBHOOK_URLS: `${rx.url}/hook`,
        NOTIFY_WEBHOOK_SECRET: SECRET,
      },
      escalationIntervalMs: 100,
    });
    svc = new MockPushService();
    await svc.start();
    worker = new NotificationWorker({ config: s.redis.config, keys: s.redis.keys, logger: createLogger({ level: 'silent' }), metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
    acct['rita'] = s.responder;
    for (const name of ['near1', 'near2', 'near3', 'off4', 'far5']) {
      const password = `${name}-Passw0rd-123`;
      const u = await s.server.users.add(name, 'responder', password);
      acct[name] = { username: name, password, id: u.id, token: await s.server.users.issueToken(name) };
    }
    for (const [name, a] of Object.entries(acct)) {
      const sub = await svc.subscribe(vapid['VAPID_PUBLIC_KEY'] ?? '');
      expect((await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, keys: sub.keys }, auth(a))).status).toBe(201);
      subs[name] = sub;
    }
    // near1 300 m, near2 1 km, near3 2 km (all available; N = 2 picks near1 and near2), off4 100 m but not
    // available, far5 40 km (outside DISPATCH_RADIUS_KM); rita reports no position.
    const at = async (name: string, m: number, available = true): Promise<void> => {
      const res = await fetch(`${s.url}/api/responders/me`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...auth(acct[name] as Account) },
        body: JSON.stringify({ available, location: { lat: north(HOME.lat, m), lon: HOME.lon } }),
      });
      expect(res.status).toBe(200);
    };
    await at('near1', 300);
    await at('near2', 1000);
    await at('near3', 2000);
    await at('off4', 100, false);
    await at('far5', 40_000);
  }, 90_000);
  afterAll(async () => {
    await worker?.stop(1000);
    await svc?.stop();
    await s?.stop();
    await rx?.close();
  });

  const pushesFor = async (name: string, id: string): Promise<string[]> =>
    (await svc.messages(subs[name]?.clientHash ?? '')).map((x) => JSON.parse(x) as Pushed).filter((m) => m.id === id).map((m) => m.event);
  const hooksFor = (id: string): Hooked[] => rx.requests.map((r) => JSON.parse(r.body) as Hooked).filter((h) => h.alert.id === id);
  const raise = async (loc: { lat: number; lon: number }): Promise<string> => {
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ location: { ...loc, address: 'somewhere' } }), auth(s.member));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };
  const historyOf = async (id: string): Promise<{ event: string; note?: string }[]> =>
    ((await get(`${s.url}/api/emergency/alerts/${id}`, auth(s.responder))).body as { history: { event: string; note?: string }[] }).history;
  const everyone = ['near1', 'near2', 'near3', 'off4', 'far5', 'rita'];

  it('a new alert goes first to the N nearest available responders, then to everyone on escalation', async () => {
    const id = await raise(HOME);
    const raisedHook = await waitFor('the alert.raised webhook', () => hooksFor(id).find((h) => h.event === 'alert.raised'), { timeoutMs: 15_000 });
    expect(raisedHook.dispatch).toEqual({ stage: 'nearest', reason: 'nearest', responders: ['near1', 'near2'], radius_km: 5 });

    const history = await historyOf(id);
    expect(history.map((h) => h.event)).toEqual(['raised', 'dispatched']);
    expect(history[1]?.note).toMatch(/2 nearest available responders within 5 km/);
    // The history is the reporter's to read: it names no responder.
    for (const name of everyone) expect(history[1]?.note).not.toContain(name);

    // Everyone is pushed on the escalation; only near1 and near2 had the first push.
    await waitFor('the escalation push to everyone', async () => {
      for (const name of everyone) if (!(await pushesFor(name, id)).includes('alert.escalated')) return false;
      return true;
    }, { timeoutMs: ESCALATE_S * 1000 + 20_000 });
    for (const name of everyone) {
      const events = await pushesFor(name, id);
      const first = ['near1', 'near2'].includes(name);
      expect(events.filter((e) => e === 'alert.raised'), name).toHaveLength(first ? 1 : 0);
      if (first) expect(events[0], name).toBe('alert.raised');
    }
    const escalatedHook = await waitFor('the alert.escalated webhook', () => hooksFor(id).find((h) => h.event === 'alert.escalated'), { timeoutMs: 15_000 });
    expect(escalatedHook.dispatch).toEqual({ stage: 'all', reason: 'escalated', responders: [] });
    expect((await historyOf(id)).map((h) => h.event).slice(0, 3)).toEqual(['raised', 'dispatched', 'escalated']);
  }, 60_000);

  it('nobody available within the radius: everyone at once, and no dispatch step in the history', async () => {
    const id = await raise({ lat: -26.2041, lon: 28.0473 });
    await waitFor('the raise push to everyone', async () => {
      for (const name of everyone) if (!(await pushesFor(name, id)).includes('alert.raised')) return false;
      return true;
    }, { timeoutMs: 20_000 });
    const hook = await waitFor('the alert.raised webhook', () => hooksFor(id).find((h) => h.event === 'alert.raised'), { timeoutMs: 15_000 });
    expect(hook.dispatch).toEqual({ stage: 'all', reason: 'nobody_nearby', responders: [], radius_km: 5 });
    expect((await historyOf(id))[1]?.event).not.toBe('dispatched');
  }, 60_000);

  it('an address-only alert (no coordinates): everyone at once with reason no_location, a history note, no nearest responders', async () => {
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ location: { address: '14 Bree St, Cape Town' } }), auth(s.member));
    expect(r.status).toBe(201);
    const id = (r.body as { alert_id: string }).alert_id;
    const hook = await waitFor('the alert.raised webhook', () => hooksFor(id).find((h) => h.event === 'alert.raised'), { timeoutMs: 15_000 });
    expect(hook.dispatch).toEqual({ stage: 'all', reason: 'no_location', responders: [] });
    // The webhook's alert carries the address and no coordinates.
    expect((hook.alert as { location?: unknown }).location).toEqual({ address: '14 Bree St, Cape Town' });
    await waitFor('the raise push to everyone', async () => {
      for (const name of everyone) if (!(await pushesFor(name, id)).includes('alert.raised')) return false;
      return true;
    }, { timeoutMs: 20_000 });
    // The push carries the address and no coordinates (never 0,0).
    const pushed = (await svc.messages(subs['near1']?.clientHash ?? '')).map((x) => JSON.parse(x) as Record<string, unknown>).find((m) => m['id'] === id);
    expect(pushed).toMatchObject({ event: 'alert.raised', address: '14 Bree St, Cape Town' });
    expect(pushed).not.toHaveProperty('lat');
    expect(pushed).not.toHaveProperty('lon');
    const history = await historyOf(id);
    expect(history[1]).toMatchObject({ event: 'dispatched', note: expect.stringMatching(/no GPS position \(address only\): sent to everyone/) as unknown });
    // Nobody is "nearest" to an alert without a position.
    const near = await get(`${s.url}/api/emergency/alerts/${id}/responders`, auth(s.responder));
    expect(near.status).toBe(200);
    expect(near.body).toEqual({ responders: [] });
    // Claiming it records no distance, even for a responder with a fresh position.
    const claimed = await post(`${s.url}/api/emergency/alerts/${id}/claim`, null, auth(acct['near1'] as Account));
    expect(claimed.status).toBe(200);
    expect((claimed.body as { assignee?: unknown }).assignee).toMatchObject({ username: 'near1', distance_m: null });
  }, 60_000);

  it('presence cannot be read (selector gone): the alert is stored and goes to everyone at once', async () => {
    const realtime = s.redis.config.credentials.realtime.username;
    await s.admin.call('ACL', 'SETUSER', realtime, 'clearselectors');
    let id = '';
    try {
      id = await raise(HOME);
    } finally {
      await applyRules(s.admin, desiredRules(s.redis.config));
      await s.admin.call('ACL', 'LOG', 'RESET');
    }
    const hook = await waitFor('the alert.raised webhook', () => hooksFor(id).find((h) => h.event === 'alert.raised'), { timeoutMs: 15_000 });
    expect(hook.dispatch).toMatchObject({ stage: 'all', reason: 'presence_unavailable', responders: [] });
    await waitFor('the raise push to everyone', async () => {
      for (const name of everyone) if (!(await pushesFor(name, id)).includes('alert.raised')) return false;
      return true;
    }, { timeoutMs: 20_000 });
    const history = await historyOf(id);
    expect(history[1]).toMatchObject({ event: 'dispatched', note: expect.stringMatching(/could not be read: sent to everyone/) as unknown });
  }, 60_000);
});
