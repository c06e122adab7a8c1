/**
 * The browser end of Web Push in Debian's Chromium: the service worker's `push` handler shows a notification
 * built from the server's push message (delivered with CDP `ServiceWorker.deliverPushMessage`), a later push
 * about the same alert replaces it; the dashboard opens an alert from `/#alert=<id>` (where a click on the
 * notification leads); and the dashboard's "Notify me on this device" switch, for responders only, registers
 * the subscription with the server (pushes then reach the local push service) and removes it when off.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEnv } from '../../src/config/generate.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { pushMessage } from '../../src/push/model.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { auth, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';
import { MockPushService, type BrowserSubscription } from '../push/mock-push-service.js';
import { connection, launchChromium, signIn, WEB_DIST } from './harness.js';

const vapid = generateEnv(6380).vars;
const PUSH_ENV = {
  VAPID_PUBLIC_KEY: vapid['VAPID_PUBLIC_KEY'] ?? '',
  VAPID_PRIVATE_KEY: vapid['VAPID_PRIVATE_KEY'] ?? '',
  VAPID_SUBJECT: 'mailto:ops@example.org',
  LIVE_AUTH_RECHECK_MS: '60000',
  // The press-to-push measurement times the path, not the countdown a person would sit through.
  PANIC_COUNTDOWN_S: '0',
};

interface Shown {
  title: string;
  body: string;
  tag: string;
  data: { id?: string };
}

describe('push in the browser', () => {
  let s: Stack;
  let browser: Browser;
  let svc: MockPushService;
  let worker: NotificationWorker;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [s, browser] = await Promise.all([startStack({ dashboardDir: WEB_DIST, env: PUSH_ENV }), launchChromium()]);
    svc = new MockPushService();
    await svc.start();
    worker = new NotificationWorker({ config: s.redis.config, keys: s.redis.keys, logger: createLogger({ level: 'silent' }), metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await worker?.stop(1000);
    await svc?.stop();
    await s?.stop();
  });

  const newPage = async (opts: BrowserContextOptions = {}): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
    contexts.push(ctx);
    return await ctx.newPage();
  };

  it('the worker reads exactly the fields of the push message schema', () => {
    const src = readFileSync(new URL('../../web/sw/notification.ts', import.meta.url), 'utf8');
    const listed = /PUSH_FIELDS = \[([^\]]*)\]/.exec(src)?.[1]?.match(/'([a-z_]+)'/g)?.map((f) => f.slice(1, -1));
    expect(listed?.sort()).toEqual(Object.keys(pushMessage.shape).sort());
  });

  it('a push shows a notification with type, severity and address, tagged by alert id; a later push of that alert replaces it', async () => {
    const page = await newPage({ permissions: ['notifications'] });
    await page.goto(`${s.url}/panic`);
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    const cdp = await page.context().newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: typeof registrations }) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    const reg = await waitFor('the service worker registration', () => registrations.find((r) => r.scopeURL === `${s.url}/` && !r.isDeleted), { timeoutMs: 10_000 });

    const id = '1712345678901-0';
    const push = async (message: Record<string, unknown>): Promise<void> => {
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: s.url, registrationId: reg.registrationId, data: JSON.stringify(message) });
    };
    const shown = async (): Promise<Shown[]> =>
      await page.evaluate<Shown[]>(`navigator.serviceWorker.ready
        .then((r) => r.getNotifications())
        .then((ns) => ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))`);

    await push({ event: 'alert.raised', id, type: 'fire', severity: 'critical', address: '5 Kloof St', lat: -33.93, lon: 18.41, at: new Date().toISOString() });
    await expect.poll(shown, { timeout: 10_000 }).toEqual([{ title: 'Fire alert (Critical)', body: '5 Kloof St', tag: id, data: { id } }]);

    // An escalation of the same alert replaces the notification (same tag) instead of stacking a second one.
    await push({ event: 'alert.escalated', id, type: 'fire', severity: 'critical', lat: -33.93, lon: 18.41, at: new Date().toISOString() });
    await expect.poll(async () => (await shown()).map((n) => n.title), { timeout: 10_000 }).toEqual(['Still open: Fire alert (Critical)']);
    expect((await shown())[0]?.body).toBe('-33.93000, 18.41000');
  });

  it('the dashboard opens the alert named in /#alert=<id> (where a notification click leads)', async () => {
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ type: 'medical' }), auth(s.member));
    const id = (r.body as { alert_id: string }).alert_id;
    const page = await newPage();
    await signIn(page, s.url, s.responder.username, s.responder.password);
    await page.goto(`${s.url}/#alert=${id}`);
    await page.locator(`article.details[data-alert-id="${id}"]`).waitFor({ timeout: 10_000 });
    // A hash change on an open dashboard selects too (the worker navigates an open tab this way).
    const other = (await post(`${s.url}/api/emergency/alerts`, sampleAlert({ type: 'crime' }), auth(s.member))).body as { alert_id: string };
    await page.evaluate(`location.hash = '#alert=${other.alert_id}'`);
    await page.locator(`article.details[data-alert-id="${other.alert_id}"]`).waitFor({ timeout: 10_000 });
  });

  /**
   * Chromium's own push service is not reachable from a test, so the page's PushManager hands out a
   * subscription of the local push service instead; everything else (the switch, the key, the API, the
   * worker, encryption and VAPID) is real.
   */
  const withLocalPushService = async (page: Page, sub: BrowserSubscription): Promise<void> => {
    await page.addInitScript(`(() => {
      const json = ${JSON.stringify({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys })};
      const fake = { endpoint: json.endpoint, expirationTime: null, toJSON: () => json, unsubscribe: async () => { window.__sub = null; return true; } };
      PushManager.prototype.subscribe = async function (opts) {
        window.__applicationServerKey = Array.from(new Uint8Array(opts.applicationServerKey));
        fake.options = { userVisibleOnly: true, applicationServerKey: new Uint8Array(opts.applicationServerKey).buffer };
        window.__sub = fake;
        return fake;
      };
      PushManager.prototype.getSubscription = async function () { return window.__sub || null; };
    })()`);
  };

  it('"Notify me on this device": on registers this browser (pushes arrive), off removes it; members never see it', async () => {
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const page = await newPage({ permissions: ['notifications'] });
    await withLocalPushService(page, sub);
    await signIn(page, s.url, s.responder.username, s.responder.password);
    const toggle = page.locator('#push-switch');
    await toggle.waitFor({ timeout: 10_000 });
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    await toggle.click();
    await page.locator('#push-switch[aria-checked="true"]').waitFor({ timeout: 10_000 });
    // The key the page subscribed with is the server's VAPID public key (65 bytes, uncompressed P-256).
    const key = await page.evaluate<number[]>('window.__applicationServerKey');
    expect(Buffer.from(key).toString('base64url')).toBe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const stored = Object.values(await s.admin.hgetall(s.redis.keys.push.subscriptions(s.responder.username)));
    expect(stored.some((v) => v.includes(sub.endpoint))).toBe(true);

    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ severity: 'critical' }), auth(s.member));
    const id = (r.body as { alert_id: string }).alert_id;
    const msgs = await waitFor('the push at the local push service', async () => {
      const m = await svc.messages(sub.clientHash);
      return m.some((x) => x.includes(id)) ? m : undefined;
    }, { timeoutMs: 15_000 });
    expect(msgs.filter((x) => x.includes(id))).toHaveLength(1);

    await toggle.click();
    await page.locator('#push-switch[aria-checked="false"]').waitFor({ timeout: 10_000 });
    expect(Object.values(await s.admin.hgetall(s.redis.keys.push.subscriptions(s.responder.username))).some((v) => v.includes(sub.endpoint))).toBe(false);

    // A member's dashboard has no switch (push is for responders and admins).
    const mia = await newPage({ permissions: ['notifications'] });
    await signIn(mia, s.url, s.member.username, s.member.password);
    await connection(mia, 'live').waitFor({ timeout: 10_000 });
    expect(await mia.locator('#push-switch').count()).toBe(0);
  });

  it('a subscription the server refuses (its push service is not in PUSH_SERVICE_HOSTS) is not kept by the browser, and the switch stays off', async () => {
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const page = await newPage({ permissions: ['notifications'] });
    await withLocalPushService(page, { ...sub, endpoint: 'https://push.unlisted.example/send/abc' });
    await signIn(page, s.url, s.responder.username, s.responder.password);
    const toggle = page.locator('#push-switch');
    await toggle.waitFor({ timeout: 10_000 });
    await toggle.click();
    expect(await page.locator('#push-error').textContent({ timeout: 10_000 })).toContain('push.unlisted.example is not a push service this server sends to');
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    // The browser's subscription was dropped (else the next page load would find it and show the switch on).
    expect(await page.evaluate('window.__sub')).toBeNull();
  });

  it('press on the panic page → push payload decrypted at the push service: measured', async () => {
    const sub = await svc.subscribe(PUSH_ENV.VAPID_PUBLIC_KEY);
    const r = await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }, auth(s.admin_));
    expect(r.status).toBe(201);
    const page = await newPage({ viewport: { width: 390, height: 844 }, geolocation: { latitude: -33.9249, longitude: 18.4241, accuracy: 20 }, permissions: ['geolocation'] });
    await page.goto(`${s.url}/panic`);
    await page.getByLabel('Username').fill(s.member2.username);
    await page.getByLabel('Password').fill(s.member2.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#location-status[data-geo="ok"]').waitFor({ timeout: 10_000 });
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = (await svc.messages(sub.clientHash)).length;
      const t0 = performance.now();
      await page.locator('.panic-button', { hasText: 'Panic' }).click();
      const msgs = await waitFor('the push of the press', async () => {
        const m = await svc.messages(sub.clientHash);
        return m.length > before ? m : undefined;
      }, { timeoutMs: 10_000, intervalMs: 2 });
      latencies.push(performance.now() - t0);
      const id = await page.locator('.panic-sent').getAttribute('data-alert-id', { timeout: 5000 });
      expect(JSON.parse(msgs.at(-1) ?? '{}')).toMatchObject({ event: 'alert.raised', id, type: 'panic', lat: -33.9249, lon: 18.4241 });
      await page.getByRole('button', { name: 'Cancel alert' }).click();
      await page.getByRole('button', { name: 'Done' }).click();
      await page.locator('.panic-buttons').waitFor({ timeout: 5000 });
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`[push] panic page press→decrypted median ${sorted[2]?.toFixed(0)} ms, max ${sorted[4]?.toFixed(0)} ms (5 presses, countdown 0)`);
    expect(sorted[4]).toBeLessThan(5000);
    // Five presses, each with its push, cancel and reset in a browser: well over the default 30 s budget when
    // the whole suite runs beside it on two cores (each step keeps its own bound above).
  }, 120_000);

  it('the switch is hidden when the server has push off (404 NABOOM_PUSH_DISABLED)', async () => {
    const off = await startStack({ dashboardDir: WEB_DIST });
    try {
      const page = await newPage({ permissions: ['notifications'] });
      // The switch would appear only after the key answered: wait for the page's own request, then look.
      const answered = page.waitForResponse((res) => res.url().endsWith('/api/push/vapid-public-key'), { timeout: 15_000 });
      await signIn(page, off.url, off.responder.username, off.responder.password);
      expect((await answered).status()).toBe(404);
      expect(await page.locator('#push-switch').count()).toBe(0);
    } finally {
      await off.stop();
    }
  });
});
