/**
 * Dispatch in real Chromium against the real stack: the "Available" switch sends the browser's position
 * (Playwright's geolocation) and "Forget my position" deletes it, responders appear on the dashboard, a claim
 * from one responder's dashboard is seen by a second one (whose own Claim says "<name> has it"), the nearest
 * responders of an alert, the thread between a responder's dashboard and the reporter's panic page live both
 * ways (text stays text), and related alerts grouped in the list. The screenshot test takes the dashboard
 * screenshot of the README (test-artifacts/dashboard-dispatch.png; copied to docs/img/ by hand when the page
 * changes).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, get, post, sampleAlert, startStack, type Account, type Stack } from '../helpers/stack.js';
import { ARTIFACTS, horizontalOverflow, launchChromium, row, signIn, WEB_DIST } from './harness.js';
import { startTileServer, type TileServer } from './tiles.js';

/** The Company's Garden, Cape Town; the responders start a few hundred metres to a few km away. */
const SCENE = { lat: -33.931, lon: 18.418, accuracy_m: 40, address: 'Company’s Garden, Cape Town' };
const RITA_AT = { latitude: -33.9249, longitude: 18.4241, accuracy: 12 };

interface Responder {
  username: string;
  lat: number;
  lon: number;
  available: boolean;
}

/** One attribute of every element a locator matches, in document order. */
async function attrs(l: Locator, name: string): Promise<(string | null)[]> {
  return await Promise.all((await l.all()).map(async (e) => await e.getAttribute(name)));
}

async function put(url: string, body: unknown, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

describe('dispatch in the dashboard and on the panic page', () => {
  let s: Stack;
  let browser: Browser;
  let tiles: TileServer;
  const contexts: BrowserContext[] = [];
  /** A second responder, signed in on a second dashboard. */
  let rae: Account;
  /** Rita's dashboard, with geolocation granted at RITA_AT. */
  let rita: Page;
  let raePage: Page;

  const newPage = async (opts: BrowserContextOptions = {}): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
    contexts.push(ctx);
    return await ctx.newPage();
  };

  const responders = async (): Promise<Responder[]> => {
    const r = await get(`${s.url}/api/responders`, auth(s.admin_));
    expect(r.status).toBe(200);
    return (r.body as { responders: Responder[] }).responders;
  };

  const raise = async (who: Account, over: Record<string, unknown> = {}): Promise<string> => {
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ type: 'fire', location: SCENE, ...over }), auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  const details = (page: Page, id: string) => page.locator(`article.details[data-alert-id="${id}"]`);

  beforeAll(async () => {
    tiles = await startTileServer();
    const env = {
      LIVE_AUTH_RECHECK_MS: '60000',
      RELATED_RADIUS_M: '300',
      MAP_TILES_URL: `${tiles.origin}/{z}/{x}/{y}.png`,
      MAP_TILES_ATTRIBUTION: 'Test tiles',
      MAP_TILES_MAX_ZOOM: '18',
    };
    [s, browser] = await Promise.all([startStack({ dashboardDir: WEB_DIST, env }), launchChromium()]);
    const password = 'rae-Passw0rd-123';
    const u = await s.server.users.add('rae', 'responder', password);
    rae = { username: 'rae', password, id: u.id, token: await s.server.users.issueToken('rae') };
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await s?.stop();
    await tiles?.close();
  });

  it('the Available switch sends the browser position; off sends available:false; members have no switch', async () => {
    rita = await newPage({ geolocation: RITA_AT, permissions: ['geolocation'] });
    await signIn(rita, s.url, s.responder.username, s.responder.password);
    const sw = rita.getByRole('switch', { name: 'Available' });
    expect(await sw.getAttribute('aria-checked')).toBe('false');
    expect((await responders()).find((r) => r.username === 'rita')).toBeUndefined();

    await sw.click();
    await expect.poll(async () => (await responders()).find((r) => r.username === 'rita'), { timeout: 10_000, interval: 200 }).toMatchObject({
      lat: expect.closeTo(RITA_AT.latitude, 5) as unknown as number,
      lon: expect.closeTo(RITA_AT.longitude, 5) as unknown as number,
      available: true,
    });
    await rita.locator('.availability-state', { hasText: 'position sent' }).waitFor({ timeout: 5000 });
    // The page's own map data follows at once (the report triggers a refresh).
    await rita.locator('.responder-count[data-count="1"]').waitFor({ timeout: 5000 });

    // A move of more than 50 m goes out without waiting for the 15 s interval.
    await rita.context().setGeolocation({ latitude: -33.9262, longitude: 18.4241, accuracy: 10 });
    await expect.poll(async () => (await responders()).find((r) => r.username === 'rita')?.lat, { timeout: 10_000, interval: 200 }).toBeCloseTo(-33.9262, 4);

    await sw.click();
    await expect.poll(async () => (await responders()).find((r) => r.username === 'rita')?.available, { timeout: 5000, interval: 200 }).toBe(false);
    // The switch turns off once the page has the server's answer, which may come after the stored value shows.
    await rita.getByRole('switch', { name: 'Available', checked: false }).waitFor({ timeout: 5000 });

    // A reload while the server lists her as available resumes sharing: the switch starts on.
    await sw.click();
    await expect.poll(async () => (await responders()).find((r) => r.username === 'rita')?.available, { timeout: 5000, interval: 200 }).toBe(true);
    await rita.reload();
    await rita.getByRole('switch', { name: 'Available', checked: true }).waitFor({ timeout: 10_000 });

    const member = await newPage();
    await signIn(member, s.url, s.member2.username, s.member2.password);
    expect(await member.getByRole('switch', { name: 'Available' }).count()).toBe(0);
    expect(await member.locator('.responder-count').count()).toBe(0);
  });

  it('a responder who reports a position through the API shows on another dashboard', async () => {
    expect(await put(`${s.url}/api/responders/me`, { available: true, location: { lat: -33.95, lon: 18.45, accuracy_m: 30 } }, auth(rae))).toBe(200);
    raePage = await newPage();
    await signIn(raePage, s.url, rae.username, rae.password);
    // rita (the browser) and rae (the API), both available.
    await raePage.locator('.responder-count[data-count="2"]').waitFor({ timeout: 10_000 });
  });

  it('claim from one dashboard: the second responder sees it claimed, and its Claim says who has it; nearest responders listed', async () => {
    const id = await raise(s.member);
    await Promise.all([row(rita, id).waitFor({ timeout: 5000 }), row(raePage, id).waitFor({ timeout: 5000 })]);

    await row(raePage, id).getByRole('button').click();
    const raeDetails = details(raePage, id);
    await raeDetails.getByText('Nobody has claimed this alert yet.').waitFor({ timeout: 5000 });
    // Nearest first: rita (~0.9 km away) before rae (~3.6 km).
    const nearby = raeDetails.locator('.nearby li');
    await expect.poll(async () => await attrs(nearby, 'data-username'), { timeout: 5000 }).toEqual(['rita', 'rae']);
    expect(await nearby.first().textContent()).toMatch(/rita\s*[\d.]+ (m|km)/);

    await row(rita, id).getByRole('button').click();
    const ritaDetails = details(rita, id);
    await ritaDetails.getByRole('button', { name: 'Claim', exact: true }).click();
    await ritaDetails.getByText(/^rita is on the way \([\d.]+ (m|km) at claim time\)$/).waitFor({ timeout: 5000 });
    await ritaDetails.getByRole('button', { name: 'Unclaim', exact: true }).waitFor({ timeout: 2000 });
    // Claiming an open alert acknowledges it.
    await ritaDetails.locator('#details-status', { hasText: 'Acknowledged' }).waitFor({ timeout: 2000 });

    // The second dashboard, live.
    await row(raePage, id).and(raePage.locator('[data-assignee="rita"]')).waitFor({ timeout: 2000 });
    await raeDetails.getByText(/^rita is on the way/).waitFor({ timeout: 2000 });
    await raeDetails.getByRole('button', { name: 'Claim', exact: true }).click();
    await raeDetails.locator('.claim-error', { hasText: 'rita has it' }).waitFor({ timeout: 5000 });
    const doc = await get(`${s.url}/api/emergency/alerts/${id}`, auth(s.admin_));
    expect((doc.body as { assignee?: { username: string } }).assignee?.username).toBe('rita');

    // Unclaim from the first: the second sees nobody has it.
    await ritaDetails.getByRole('button', { name: 'Unclaim', exact: true }).click();
    await raeDetails.getByText('Nobody has claimed this alert yet.').waitFor({ timeout: 2000 });
    await row(raePage, id).and(raePage.locator('[data-assignee]')).waitFor({ state: 'detached', timeout: 2000 });
  });

  it('the thread between a responder dashboard and the reporter on the panic page, live both ways, text as text', async () => {
    const resident = await (async (): Promise<Account> => {
      const password = 'nomsa-Passw0rd-123';
      const u = await s.server.users.add('nomsa', 'member', password);
      return { username: 'nomsa', password, id: u.id, token: await s.server.users.issueToken('nomsa') };
    })();
    const id = await raise(resident, { type: 'medical', location: { lat: -33.9, lon: 18.5, accuracy_m: 20 } });

    const phone = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await phone.goto(`${s.url}/panic`, { timeout: 10_000 });
    await phone.getByLabel('Username').fill(resident.username, { timeout: 5000 });
    await phone.getByLabel('Password').fill(resident.password);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    const sent = phone.locator(`.panic-sent[data-alert-id="${id}"]`);
    await sent.waitFor({ timeout: 10_000 });
    await sent.getByText('No messages yet.').waitFor({ timeout: 5000 });

    await row(rita, id).getByRole('button').click();
    const d = details(rita, id);
    await d.getByText('No messages yet.').waitFor({ timeout: 5000 });

    // Reporter → responder.
    await sent.getByPlaceholder('Write a message…').fill('Smoke from the kitchen, <b>two</b> people inside');
    await sent.getByRole('button', { name: 'Send' }).click();
    const onDashboard = d.locator('.message', { hasText: 'Smoke from the kitchen' });
    await onDashboard.waitFor({ timeout: 2000 });
    expect(await onDashboard.locator('.message-text').textContent()).toBe('Smoke from the kitchen, <b>two</b> people inside');
    expect(await onDashboard.locator('b').count()).toBe(0);
    expect(await onDashboard.locator('.message-by').textContent()).toBe('nomsa');

    // Responder → reporter, and the claim shows on the panic page.
    await d.getByPlaceholder('Write a message…').fill('On my way, 5 minutes');
    await d.getByRole('button', { name: 'Send' }).click();
    await sent.locator('.message', { hasText: 'On my way, 5 minutes' }).waitFor({ timeout: 2000 });
    await d.getByRole('button', { name: 'Claim', exact: true }).click();
    await phone.locator('#panic-on-the-way', { hasText: /^rita is on the way \([\d.]+ (m|km) at claim time\)$/ }).waitFor({ timeout: 5000 });

    // In order on both sides, each once.
    const order = async (p: Page): Promise<string[]> => await p.locator(`[data-alert-id="${id}"] .message .message-text`).allTextContents();
    const expected = ['Smoke from the kitchen, <b>two</b> people inside', 'On my way, 5 minutes'];
    expect(await order(rita)).toEqual(expected);
    expect(await order(phone)).toEqual(expected);
    // The thread fits the phone: no sideways scrolling.
    expect(await horizontalOverflow(phone)).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await phone.screenshot({ path: join(ARTIFACTS, 'panic-thread.png'), fullPage: true, timeout: 10_000 });

    // Too long: refused in the page with the reason, nothing sent.
    await d.getByPlaceholder('Write a message…').fill('x'.repeat(1001));
    await d.getByRole('button', { name: 'Send' }).click();
    await d.locator('.thread .form-error', { hasText: 'at most 1000 characters' }).waitFor({ timeout: 2000 });
    const thread = await get(`${s.url}/api/emergency/alerts/${id}/messages`, auth(resident));
    expect((thread.body as { messages: unknown[] }).messages).toHaveLength(2);

    // Another member may not read it (the server's 403 is the rule the page relies on).
    expect((await get(`${s.url}/api/emergency/alerts/${id}/messages`, auth(s.member2))).status).toBe(403);
  });

  it('groups related alerts: the oldest open one leads with "+2 nearby reports", the others follow it, nothing hidden', async () => {
    const spot = { lat: -33.96, lon: 18.47, accuracy_m: 30 };
    const first = await raise(s.member, { location: { ...spot, address: '10 Main Rd, Observatory' } });
    const second = await raise(s.member2, { location: { lat: spot.lat + 0.0005, lon: spot.lon, accuracy_m: 30 } });
    const third = await raise(s.member2, { location: { lat: spot.lat, lon: spot.lon + 0.0008, accuracy_m: 30 } });
    await row(rita, third).waitFor({ timeout: 5000 });
    const lead = row(rita, first);
    await lead.locator('.row-nearby', { hasText: '+2 nearby reports' }).waitFor({ timeout: 5000 });
    for (const id of [second, third]) expect(await row(rita, id).getAttribute('data-related-to')).toBe(first);
    const ids = await attrs(rita.locator('ol.alerts > li'), 'data-alert-id');
    // The group leads the list (its newest report is the newest alert): the oldest open one first.
    expect(ids.slice(0, 3)).toEqual([first, third, second]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws the available responders on the map and a claimed alert selected: the dashboard screenshot', async () => {
    const page = await newPage({ viewport: { width: 1440, height: 1000 } });
    await signIn(page, s.url, s.admin_.username, s.admin_.password);
    const id = await raise(s.member, { severity: 'critical', type: 'fire', description: 'Smoke from a kitchen window\nTwo people inside', location: { lat: -33.9275, lon: 18.4205, accuracy_m: 35, address: '31 Wale St, Cape Town' } });
    const claimed = await post(`${s.url}/api/emergency/alerts/${id}/claim`, {}, auth(s.responder));
    expect(claimed.status).toBe(200);
    // rita (the browser, sharing) and rae (the API) on the map, each a labelled dot.
    for (const who of ['rita', 'rae']) await page.locator(`.map path.responder[data-username="${who}"]`).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('.map img.leaflet-tile-loaded').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await row(page, id).getByRole('button').click();
    const d = details(page, id);
    await d.getByText(/^rita is on the way/).waitFor({ timeout: 5000 });
    await d.locator('.nearby li').first().waitFor({ timeout: 5000 });
    await page.mouse.move(0, 0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-dispatch.png'), fullPage: true, timeout: 10_000 });
  });

  it('"Forget my position": offered only while off and listed, removes the position from the server and the map', async () => {
    const page = await newPage({ geolocation: { latitude: -33.93, longitude: 18.42, accuracy: 15 }, permissions: ['geolocation'] });
    await signIn(page, s.url, rae.username, rae.password);
    const forget = page.getByRole('button', { name: 'Forget my position' });
    // rae reported through the API earlier: listed, available, so the switch starts on and nothing is offered.
    const sw = page.getByRole('switch', { name: 'Available', checked: true });
    await sw.waitFor({ timeout: 10_000 });
    expect(await forget.count()).toBe(0);
    await sw.click();
    await page.getByRole('switch', { name: 'Available', checked: false }).waitFor({ timeout: 5000 });
    expect((await responders()).find((r) => r.username === 'rae')?.available).toBe(false);
    // Off but still listed (as unavailable): offered.
    await forget.waitFor({ timeout: 5000 });
    await forget.click();
    await expect.poll(async () => (await responders()).find((r) => r.username === 'rae'), { timeout: 5000, interval: 200 }).toBeUndefined();
    await page.locator('.availability-state', { hasText: 'position removed' }).waitFor({ timeout: 5000 });
    await forget.waitFor({ state: 'detached', timeout: 5000 });
    // On a phone the header keeps the offer within the screen.
    await page.getByRole('switch', { name: 'Available' }).click();
    await page.getByRole('switch', { name: 'Available', checked: true }).waitFor({ timeout: 5000 });
    await expect.poll(async () => (await responders()).find((r) => r.username === 'rae')?.available, { timeout: 5000, interval: 200 }).toBe(true);
    await page.setViewportSize({ width: 360, height: 740 });
    await page.getByRole('switch', { name: 'Available', checked: true }).click();
    await forget.waitFor({ timeout: 5000 });
    expect(await horizontalOverflow(page)).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-forget-position-phone.png'), timeout: 10_000 });
  });
});
