/**
 * The map component on its own (web/map-harness.html, built here with Vite into a temporary directory and
 * served under the dashboard's CSP): the `responders` prop draws the available responders as small labelled
 * dots, distinct from the alerts, with their names as text; a click on an alert's dot selects it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../src/http/dashboard.js';
import { ARTIFACTS, launchChromium } from './harness.js';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

describe('map component', () => {
  let out: string;
  let server: Server;
  let url: string;
  let browser: Browser;
  let page: Page;
  const violations: string[] = [];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'naboom-map-harness-'));
    await build({
      configFile: join(WEB, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir: out, emptyOutDir: true, rollupOptions: { input: join(WEB, 'map-harness.html') } },
    });
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      try {
        const body = readFileSync(join(out, path));
        res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-security-policy': DASHBOARD_CSP }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/map-harness.html`;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 900, height: 600 } })).newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    // Module scripts run before the load event goto waits for.
    await page.goto(url, { timeout: 10_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const now = Date.parse('2026-12-04T10:00:00.000Z');
  const alert = {
    id: '1796000000000-0',
    type: 'fire',
    severity: 'high',
    status: 'open',
    location: { lat: -33.93, lon: 18.42, accuracy_m: 120, address: '5 Kloof St' },
    reporter: { id: 'u1', username: 'mia' },
    created_at: '2026-12-04T09:58:00.000Z',
    updated_at: '2026-12-04T09:58:00.000Z',
    escalations: 0,
    history: [],
  };
  const responders = [
    { username: 'rita', lat: -33.9293, lon: 18.4186, accuracy_m: 40, last_seen: '2026-12-04T09:58:00.000Z', available: true },
    { username: '<b>sam</b>', lat: -33.9309, lon: 18.4212, last_seen: '2026-12-04T09:59:30.000Z', available: true },
    { username: 'off-duty', lat: -33.93, lon: 18.425, last_seen: '2026-12-04T09:59:00.000Z', available: false },
  ];
  const renderMap = async (p: Record<string, unknown>): Promise<void> => {
    await page.evaluate(`window.naboomMapHarness.render(${JSON.stringify(p)})`);
  };

  it('draws the available responders as labelled dots, distinct from alerts, names as text', async () => {
    expect(await page.evaluate<boolean>('typeof window.naboomMapHarness?.render === "function"')).toBe(true);
    await renderMap({ alerts: [alert], responders, basemap: { kind: 'outline' }, now });
    await page.locator(`.map path.marker[data-alert-id="${alert.id}"]`).waitFor({ timeout: 5000 });
    await expect.poll(() => page.locator('.map path.responder').count(), { timeout: 2000 }).toBe(2);
    const names = await Promise.all((await page.locator('.map path.responder').all()).map((p) => p.getAttribute('data-username')));
    expect(names.sort()).toEqual(['<b>sam</b>', 'rita']);
    // Not alerts: no responder dot is a marker, and the alert count is unchanged.
    expect(await page.locator('.map path.marker').count()).toBe(1);
    expect(await page.locator('.map path.responder.marker').count()).toBe(0);
    await expect.poll(() => page.locator('.map .responder-label').count(), { timeout: 2000 }).toBe(2);
    const labels = await page.locator('.map .responder-label').allTextContents();
    expect(labels.sort()).toEqual(['<b>sam</b>', 'rita']);
    expect(await page.locator('.map .responder-label b').count()).toBe(0);
    expect(await page.locator('.map path.responder[data-username="rita"]').getAttribute('aria-label')).toBe('Responder rita · seen 2 min ago');
    // An accuracy ring only where the position has one.
    expect(await page.locator('.map path.responder-accuracy').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'map-responders.png'), timeout: 10_000 });

    // Clicking the alert's dot selects it.
    await page.locator(`.map path.marker[data-alert-id="${alert.id}"]`).click();
    expect(await page.evaluate<string[]>('window.naboomMapHarness.selected')).toEqual([alert.id]);

    // Fewer responders, then none: the layer follows the prop.
    await renderMap({ alerts: [alert], responders: responders.slice(1), basemap: { kind: 'outline' }, now });
    await expect.poll(() => page.locator('.map path.responder').count(), { timeout: 2000 }).toBe(1);
    await renderMap({ alerts: [alert], basemap: { kind: 'outline' }, now });
    await expect.poll(() => page.locator('.map path.responder').count(), { timeout: 2000 }).toBe(0);
    // (Leaflet fades a closed tooltip out before removing it.)
    await expect.poll(() => page.locator('.map .responder-label').count(), { timeout: 2000 }).toBe(0);
    expect(violations).toEqual([]);
  });
});
