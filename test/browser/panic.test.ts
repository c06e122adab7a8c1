/**
 * The resident's panic page in Debian's Chromium on a phone viewport (390×844), against the real stack:
 * served as an installable web app, geolocation granted (the alert carries the fix, later fixes follow it),
 * refused (the address path), the countdown and its Cancel, a press made offline (sent once when the
 * network returns), and the status as a responder acknowledges and resolves.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, get, post, startStack, type Account, type Stack } from '../helpers/stack.js';
import { ARTIFACTS, horizontalOverflow, launchChromium, WEB_DIST } from './harness.js';

const PHONE = { width: 390, height: 844 };
const COUNTDOWN_S = 3;
const HOME = { latitude: -33.9249, longitude: 18.4241, accuracy: 18 };

interface Alert {
  id: string;
  type: string;
  status: string;
  location: { lat?: number; lon?: number; accuracy_m?: number; address?: string };
  history: { event: string }[];
}

describe('panic page', () => {
  let s: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let residents = 0;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startStack({ dashboardDir: WEB_DIST, env: { PANIC_COUNTDOWN_S: String(COUNTDOWN_S) } }), launchChromium()]);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await s?.stop();
  });

  /** A new member for each test, so "their alerts" is exactly what the test raised. */
  const resident = async (): Promise<Account> => {
    const username = `resident${++residents}`;
    const password = `${username}-Passw0rd-123`;
    const u = await s.server.users.add(username, 'member', password);
    return { username, password, id: u.id, token: await s.server.users.issueToken(username) };
  };

  const phone = async (opts: BrowserContextOptions = {}): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, ...opts });
    contexts.push(ctx);
    return await ctx.newPage();
  };

  const signIn = async (page: Page, who: Account): Promise<void> => {
    await page.goto(`${s.url}/panic`, { timeout: 10_000 });
    await page.getByLabel('Username').fill(who.username, { timeout: 5000 });
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.panic-buttons').waitFor({ timeout: 10_000 });
  };

  const alertsOf = async (who: Account): Promise<Alert[]> => {
    const r = await get(`${s.url}/api/emergency/alerts?limit=50`, auth(who));
    expect(r.status).toBe(200);
    return (r.body as { alerts: Alert[] }).alerts;
  };

  const button = (page: Page, label: string) => page.locator('.panic-button', { hasText: label });
  const sentId = async (page: Page): Promise<string> => {
    const sent = page.locator('.panic-sent');
    await sent.waitFor({ timeout: 10_000 });
    return (await sent.getAttribute('data-alert-id')) ?? '';
  };

  it('is an installable web app on /panic: same CSP as the dashboard, a manifest with icons, a service worker at /sw.js', async () => {
    const page = await get(`${s.url}/panic`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.text).toContain('<link rel="manifest" href="/manifest.webmanifest"');
    expect(page.text).not.toMatch(/https?:\/\//);

    const manifest = await get(`${s.url}/manifest.webmanifest`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    const m = JSON.parse(manifest.text) as { name: string; short_name: string; start_url: string; display: string; theme_color: string; icons: { src: string; sizes: string; type: string }[] };
    expect(m).toMatchObject({ start_url: '/panic', display: 'standalone' });
    expect(m.name).toBeTruthy();
    expect(m.short_name).toBeTruthy();
    expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    for (const size of ['192x192', '512x512']) {
      const icon = m.icons.find((i) => i.sizes === size && i.type === 'image/png');
      expect(icon, size).toBeDefined();
      const png = await fetch(`${s.url}${icon?.src ?? ''}`);
      expect(png.status).toBe(200);
      const bytes = Buffer.from(await png.arrayBuffer());
      // PNG signature, then the IHDR's width and height.
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual(size.split('x').map(Number));
    }

    const sw = await get(`${s.url}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    // One classic script: a worker registered without `type: 'module'` cannot run import/export.
    expect(sw.text).not.toMatch(/^\s*(import|export)\s/m);
  });

  it('geolocation granted: the alert carries the fix; a later fix follows the open alert; the layout fits one thumb', async () => {
    const mia = await resident();
    const page = await phone({ geolocation: HOME, permissions: ['geolocation'] });
    await signIn(page, mia);
    await page.locator('#location-status[data-geo="ok"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#location-status').textContent()).toContain('18 m');

    // One thumb on a phone: no sideways scrolling, every button a large target with a text label.
    expect(await horizontalOverflow(page)).toBe(0);
    const labels = await page.locator('.panic-button .panic-label').allTextContents();
    expect(labels).toEqual(['Panic', 'Medical', 'Fire', 'Crime', 'Other']);
    for (const b of await page.locator('.panic-button').all()) {
      const box = await b.boundingBox();
      expect(box?.height).toBeGreaterThanOrEqual(88);
      expect(box?.width).toBeGreaterThanOrEqual(160);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'panic-phone.png') });
    // A visible focus outline when reached by keyboard.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth');
    expect(outline).toBe('solid 4px');

    await button(page, 'Panic').click();
    const id = await sentId(page);
    await page.locator('#panic-steps li[data-step="sent"]').waitFor({ timeout: 5000 });
    const [raised] = await alertsOf(mia);
    expect(raised?.id).toBe(id);
    expect(raised?.type).toBe('panic');
    expect(raised?.location).toMatchObject({ lat: HOME.latitude, lon: HOME.longitude, accuracy_m: HOME.accuracy });

    // The resident moves: the new fix reaches the alert (PATCH …/location, a `located` history event).
    await page.context().setGeolocation({ latitude: -33.9180, longitude: 18.4305, accuracy: 9 });
    await expect
      .poll(async () => (await alertsOf(mia))[0]?.location, { timeout: 15_000, interval: 250 })
      .toMatchObject({ lat: -33.918, lon: 18.4305, accuracy_m: 9 });
    expect((await alertsOf(mia))[0]?.history.map((h) => h.event)).toContain('located');
  });

  it('geolocation refused: the address field at once, and the alert carries the address', async () => {
    const max = await resident();
    const page = await phone({ permissions: [] });
    await signIn(page, max);
    await page.locator('#location-status[data-geo="denied"]').waitFor({ timeout: 10_000 });
    await page.getByLabel('Address or landmark').fill('14 Bree St, Cape Town');
    await button(page, 'Fire').click();
    await sentId(page);
    const [a] = await alertsOf(max);
    expect(a?.type).toBe('fire');
    // No coordinates are known: the alert carries the address alone (never made-up coordinates).
    expect(a?.location).toEqual({ address: '14 Bree St, Cape Town' });
  });

  it('no fix within 10 s: a press without an address still sends (location unknown) and asks for one; the address and a later fix follow the alert', async () => {
    const eve = await resident();
    // Permission granted, but the device produces no position until the test hands one over.
    const page = await phone({ permissions: ['geolocation'] });
    await page.addInitScript(`(() => {
      let watcher;
      navigator.geolocation.watchPosition = (ok) => { watcher = ok; return 1; };
      navigator.geolocation.clearWatch = () => undefined;
      window.__fix = (lat, lon, accuracy) => watcher && watcher({ coords: { latitude: lat, longitude: lon, accuracy }, timestamp: Date.now() });
    })()`);
    await signIn(page, eve);
    expect(await page.locator('#location-status').getAttribute('data-geo')).toBe('waiting');
    await page.locator('#location-status[data-geo="timeout"]').waitFor({ timeout: 15_000 });
    // Neither a fix nor an address: someone in danger may not be able to type, so the alert goes anyway,
    // saying the location is unknown (never made-up coordinates), and the page asks for the address.
    await button(page, 'Other').click();
    const id = await sentId(page);
    expect((await alertsOf(eve))[0]?.location).toEqual({ address: 'Location unknown: no GPS fix and no address yet' });
    await page.locator('.panic-error').filter({ hasText: 'Sent without a location. Type an address or landmark: it will be added to your alert.' }).waitFor({ timeout: 5000 });
    await expect.poll(() => page.evaluate<string>('document.activeElement && document.activeElement.id'), { timeout: 2000 }).toBe('panic-address');
    // The address typed afterwards follows the open alert, without coordinates.
    await page.getByLabel('Address or landmark').fill('Kirstenbosch main gate');
    await expect
      .poll(async () => (await alertsOf(eve)).find((a) => a.id === id)?.location, { timeout: 15_000, interval: 250 })
      .toEqual({ address: 'Kirstenbosch main gate' });
    expect(await alertsOf(eve)).toHaveLength(1);
    // A fix that arrives later is sent with the address kept; the notice is gone.
    await page.evaluate('window.__fix(-33.9881, 18.4326, 15)');
    await expect
      .poll(async () => (await alertsOf(eve)).find((a) => a.id === id)?.location, { timeout: 15_000, interval: 250 })
      .toEqual({ lat: -33.9881, lon: 18.4326, accuracy_m: 15, address: 'Kirstenbosch main gate' });
    await expect.poll(() => page.locator('.panic-error').count(), { timeout: 5000 }).toBe(0);
  });

  it(`counts down ${COUNTDOWN_S} s with Cancel: a cancelled press sends nothing`, async () => {
    const ann = await resident();
    const page = await phone({ geolocation: HOME, permissions: ['geolocation'] });
    await signIn(page, ann);
    await button(page, 'Medical').click();
    const count = page.locator('#panic-count');
    await count.waitFor({ timeout: 2000 });
    expect(Number(await count.textContent())).toBe(COUNTDOWN_S);
    expect(await page.locator('.panic-countdown').textContent()).toContain('Medical');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.panic-buttons').waitFor({ timeout: 2000 });

    // The next press goes through; the cancelled one never does (its countdown ended long before).
    await button(page, 'Crime').click();
    await sentId(page);
    const alerts = await alertsOf(ann);
    expect(alerts.map((a) => a.type)).toEqual(['crime']);
  });

  it('offline: the app starts from its cache, a press says "Not sent yet", then exactly one alert once the network is back', async () => {
    const ben = await resident();
    const page = await phone({ geolocation: HOME, permissions: ['geolocation'] });
    await signIn(page, ben);
    // The service worker controls the page: its shell cache lets the installed app start without a network.
    await expect.poll(() => page.evaluate<boolean>('navigator.serviceWorker.controller !== null'), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.evaluate<boolean>("caches.match('/panic').then((r) => r !== undefined)"), { timeout: 10_000 }).toBe(true);
    await page.context().setOffline(true);
    await page.reload();
    await page.locator('.panic-buttons').waitFor({ timeout: 10_000 });
    expect(await page.evaluate<boolean>('navigator.onLine')).toBe(false);
    await button(page, 'Other').click();
    const queued = page.locator('#panic-queued');
    await queued.waitFor({ timeout: COUNTDOWN_S * 1000 + 5000 });
    expect(await queued.textContent()).toBe('Not sent yet — will send when you are back online');
    expect(await alertsOf(ben)).toEqual([]);

    await page.context().setOffline(false);
    const id = await sentId(page);
    const alerts = await alertsOf(ben);
    expect(alerts.map((a) => a.id)).toEqual([id]);
    // The outbox is empty: nothing is left to send a second time.
    await expect.poll(() => page.evaluate<number>(`new Promise((resolve) => {
      const req = indexedDB.open('naboom-panic', 1);
      req.onsuccess = () => { const t = req.result.transaction('outbox').objectStore('outbox').count(); t.onsuccess = () => resolve(t.result); };
    })`), { timeout: 5000 }).toBe(0);
    // A reload after sending does not send again.
    await page.reload();
    await page.locator('.panic-sent').waitFor({ timeout: 10_000 });
    expect((await alertsOf(ben)).map((a) => a.id)).toEqual([id]);
  });

  it('shows the status live: sent → acknowledged by the responder → resolved, with times; Cancel only while open', async () => {
    const cat = await resident();
    const page = await phone({ geolocation: HOME, permissions: ['geolocation'] });
    await signIn(page, cat);
    await button(page, 'Medical').click();
    const id = await sentId(page);
    const panel = page.locator('.panic-sent');
    expect(await panel.getByRole('button', { name: 'Cancel alert' }).count()).toBe(1);

    expect((await post(`${s.url}/api/emergency/alerts/${id}/ack`, {}, auth(s.responder))).status).toBe(200);
    const acked = page.locator('#panic-steps li[data-step="acknowledged"]');
    await acked.waitFor({ timeout: 5000 });
    expect(await acked.textContent()).toContain(`Acknowledged by ${s.responder.username}`);
    expect(await acked.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The member may no longer cancel once a responder acknowledged (the lifecycle rule).
    await expect.poll(() => panel.getByRole('button', { name: 'Cancel alert' }).count(), { timeout: 2000 }).toBe(0);

    expect((await post(`${s.url}/api/emergency/alerts/${id}/resolve`, {}, auth(s.responder))).status).toBe(200);
    await page.locator('.panic-sent[data-status="resolved"] #panic-steps li[data-step="resolved"]').waitFor({ timeout: 5000 });
    await panel.getByRole('button', { name: 'Done' }).click();
    await page.locator('.panic-buttons').waitFor({ timeout: 2000 });
  });

  it('Cancel after sending cancels the open alert', async () => {
    const dan = await resident();
    const page = await phone({ geolocation: HOME, permissions: ['geolocation'] });
    await signIn(page, dan);
    await button(page, 'Panic').click();
    const id = await sentId(page);
    await page.getByRole('button', { name: 'Cancel alert' }).click();
    await page.locator('.panic-sent[data-status="cancelled"]').waitFor({ timeout: 5000 });
    expect((await alertsOf(dan)).find((a) => a.id === id)?.status).toBe('cancelled');
  });
});
