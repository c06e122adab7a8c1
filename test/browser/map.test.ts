/**
 * The dashboard's map in real Chromium: with a tile source the test serves itself (node:http on loopback,
 * counting requests), tiles are requested and drawn with the attribution, and the CSP names exactly that
 * origin; without one, the bundled outline of South Africa (country + nine provinces, Natural Earth) is
 * drawn and no request leaves the page's origin. Either way not one CSP violation. The list shows each
 * alert's description's first line, as text.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, dashboardCsp } from '../../src/http/dashboard.js';
import { auth, get, post, sampleAlert, startStack, type Account, type Stack } from '../helpers/stack.js';
import { ARTIFACTS, launchChromium, row, signIn, WEB_DIST } from './harness.js';
import { startTileServer, type TileServer } from './tiles.js';

/**
 * Records every CSP violation the page reports (the DOM event, from a script added before the page's own,
 * and Chromium's console message), and every request the page makes.
 */
async function watch(page: Page): Promise<{ violations: () => Promise<string[]>; requests: string[] }> {
  const consoleViolations: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) consoleViolations.push(m.text());
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.addInitScript(`(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  })()`);
  return {
    violations: async () => [...consoleViolations, ...(await page.evaluate<string[]>('window.__csp ?? []'))],
    requests,
  };
}

const MARKER = (id: string) => `.map path.marker[data-alert-id="${id}"]`;

describe('dashboard map with a tile source', () => {
  let tiles: TileServer;
  let s: Stack;
  let browser: Browser;
  let ctx: BrowserContext;

  beforeAll(async () => {
    tiles = await startTileServer();
    [s, browser] = await Promise.all([
      startStack({
        dashboardDir: WEB_DIST,
        env: {
          MAP_TILES_URL: `${tiles.origin}/{z}/{x}/{y}.png`,
          // Markup in the attribution must show as text, never become elements.
          MAP_TILES_ATTRIBUTION: '© Test Tiles <b>contributors</b>',
          MAP_TILES_MAX_ZOOM: '18',
        },
      }),
      launchChromium(),
    ]);
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await s?.stop();
    await tiles?.close();
  });

  it('names exactly the tile origin in img-src of the CSP, and nothing else is widened', async () => {
    const page = await get(`${s.url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(dashboardCsp(tiles.origin));
    const directives = csp.split('; ');
    expect(directives).toContain(`img-src 'self' data: ${tiles.origin}`);
    expect(directives.filter((d) => d.includes(tiles.origin))).toHaveLength(1);
    expect(directives).toContain("default-src 'self'");
  });

  it('tells signed-in users the tile source at GET /api/map (401 without a login)', async () => {
    expect((await get(`${s.url}/api/map`)).status).toBe(401);
    const r = await get(`${s.url}/api/map`, auth(s.member));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ tiles: { url: `${tiles.origin}/{z}/{x}/{y}.png`, attribution: '© Test Tiles <b>contributors</b>', max_zoom: 18 } });
  });

  it('draws the tiles with the attribution as text, alerts on top, and no CSP violation', async () => {
    const page = await ctx.newPage();
    const w = await watch(page);
    const a = (await post(`${s.url}/api/emergency/alerts`, sampleAlert({ severity: 'critical' }), auth(s.member))).body as { alert_id: string };
    await signIn(page, s.url, s.responder.username, s.responder.password);
    await page.locator('.map[data-basemap="tiles"]').waitFor({ timeout: 5000 });
    await page.locator(MARKER(a.alert_id)).waitFor({ timeout: 5000 });
    await expect.poll(() => page.locator('.map img.leaflet-tile-loaded').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(tiles.requests.filter((u) => /^\/\d+\/\d+\/\d+\.png$/.test(u)).length).toBeGreaterThan(0);
    // Tiles near the alert: zoomed in on Cape Town, not the world.
    expect(tiles.requests.some((u) => /^\/1[0-8]\//.test(u))).toBe(true);
    const attribution = page.locator('.map .leaflet-control-attribution');
    expect(await attribution.textContent()).toContain('© Test Tiles <b>contributors</b>');
    expect(await attribution.locator('b').count()).toBe(0);
    // No offline outline under the tiles.
    expect(await page.locator('.map path.province').count()).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'map-tiles.png'), timeout: 10_000 });
    expect(await w.violations()).toEqual([]);
    await page.close();
  });
});

describe('dashboard map without a tile source', () => {
  let s: Stack;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let w: Awaited<ReturnType<typeof watch>>;

  const raise = async (who: Account, over: Record<string, unknown>): Promise<string> => {
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(over), auth(who));
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  beforeAll(async () => {
    [s, browser] = await Promise.all([startStack({ dashboardDir: WEB_DIST }), launchChromium()]);
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await ctx.newPage();
    w = await watch(page);
  });
  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await s?.stop();
  });

  it('serves the CSP without any other origin and GET /api/map says there are no tiles', async () => {
    expect((await get(`${s.url}/`)).headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    const r = await get(`${s.url}/api/map`, auth(s.responder));
    expect(r.body).toEqual({ tiles: null });
  });

  it('draws the outline of South Africa with its nine provinces and their names, credited to Natural Earth; nothing leaves the origin', async () => {
    // Alerts across the country, so the fitted view shows it whole.
    const ids = [
      await raise(s.member, { severity: 'critical', type: 'fire', location: { lat: -33.9249, lon: 18.4241, accuracy_m: 30000, address: 'Cape Town' }, description: 'smoke near the dam\nsecond line stays in the details' }),
      await raise(s.member, { severity: 'high', type: 'medical', location: { lat: -26.2041, lon: 28.0473, accuracy_m: 2000, address: 'Johannesburg' } }),
      await raise(s.member, { severity: 'medium', type: 'crime', location: { lat: -29.8587, lon: 31.0218, accuracy_m: 8000, address: 'Durban' } }),
      await raise(s.member, { severity: 'low', type: 'other', location: { lat: -28.7282, lon: 24.7499, address: 'Kimberley' } }),
    ];
    await signIn(page, s.url, s.responder.username, s.responder.password);
    await page.locator('.map[data-basemap="outline"]').waitFor({ timeout: 5000 });
    await expect.poll(() => page.locator('.map path.province').count(), { timeout: 5000 }).toBe(9);
    expect(await page.locator('.map path.country').count()).toBe(1);
    const codes = await Promise.all((await page.locator('.map path.province').all()).map((p) => p.getAttribute('data-code')));
    expect(codes.sort()).toEqual(['ZA-EC', 'ZA-FS', 'ZA-GT', 'ZA-MP', 'ZA-NC', 'ZA-NL', 'ZA-NP', 'ZA-NW', 'ZA-WC']);
    expect(await page.locator('.map .leaflet-control-attribution').textContent()).toContain('Natural Earth');
    for (const id of ids) await page.locator(MARKER(id)).waitFor({ timeout: 5000 });

    // A province's name as its tooltip.
    await page.locator('.map path.province[data-code="ZA-NC"]').hover({ force: true });
    await page.locator('.province-tooltip', { hasText: 'Northern Cape' }).waitFor({ timeout: 2000 });

    // Accuracy circles to scale: 30 km around Cape Town is drawn larger than 2 km around Johannesburg.
    const width = async (id: string): Promise<number> => (await page.locator(`.map path.accuracy[data-alert-id="${id}"]`).boundingBox())?.width ?? 0;
    expect(await width(ids[0]!)).toBeGreaterThan(2 * (await width(ids[1]!)));
    // An alert without an accuracy has no circle.
    expect(await page.locator(`.map path.accuracy[data-alert-id="${ids[3]}"]`).count()).toBe(0);

    // Keyboard: a marker is a named button; Enter selects its alert; the list and the map agree.
    const marker = page.locator(MARKER(ids[2]!));
    expect(await marker.getAttribute('aria-label')).toBe('Medium Crime alert at Durban, Open');
    await marker.focus();
    await page.keyboard.press('Enter');
    await page.locator(`article.details[data-alert-id="${ids[2]}"]`).waitFor({ timeout: 2000 });
    await expect.poll(() => marker.getAttribute('aria-pressed'), { timeout: 1000 }).toBe('true');
    expect(await row(page, ids[2]!).getAttribute('class')).toContain('selected');
    // Selecting in the list marks the map's dot.
    await row(page, ids[1]!).getByRole('button').click();
    await expect.poll(() => page.locator(MARKER(ids[1]!)).getAttribute('class'), { timeout: 1000 }).toContain('selected');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'map-outline.png'), timeout: 10_000 });

    const origin = new URL(s.url).origin;
    const foreign = w.requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(await w.violations()).toEqual([]);
  });

  it("shows each alert's description's first line in the list, as text", async () => {
    const smoke = await raise(s.member, { description: '\n   \n  smoke near the dam  \nthe second line is not in the list' });
    const plain = await raise(s.member, {});
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const xss = await raise(s.member, { description: evil });
    await row(page, xss).waitFor({ timeout: 2000 });
    expect(await row(page, smoke).locator('.row-desc').textContent()).toBe('smoke near the dam');
    expect(await row(page, smoke).textContent()).not.toContain('the second line');
    expect(await row(page, plain).locator('.row-desc').count()).toBe(0);
    expect(await row(page, xss).locator('.row-desc').textContent()).toBe(evil);
    expect(await row(page, xss).locator('img, script').count()).toBe(0);
    expect(await page.evaluate<unknown>('window.__pwned')).toBeUndefined();
    // Cut with an ellipsis on one line, not wrapped.
    const long = await raise(s.member, { description: 'a very long first line '.repeat(20) });
    const desc = row(page, long).locator('.row-desc');
    await desc.waitFor({ timeout: 2000 });
    // (This file is compiled without the DOM's types: the page's globals are reached through a narrow cast.)
    type Styled = { scrollWidth: number; clientWidth: number };
    const cut = await desc.evaluate((el: Styled) => {
      const style = (globalThis as unknown as { getComputedStyle(e: Styled): { textOverflow: string; whiteSpace: string } }).getComputedStyle(el);
      return [style.textOverflow, style.whiteSpace, el.scrollWidth > el.clientWidth];
    });
    expect(cut).toEqual(['ellipsis', 'nowrap', true]);
    expect(await w.violations()).toEqual([]);
  });
});
