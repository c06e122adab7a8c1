/**
 * Browser-test plumbing: Debian's Chromium driven by playwright-core (never a downloaded browser), signing
 * in through the dashboard's own form, and `naboom serve` child processes on a fixed port so a page can
 * reconnect to the same URL after a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { childEnv, NABOOM_BIN } from '../helpers/cli.js';

export const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium as the brief of every browser test: no sandbox (root in CI), no network side traffic. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run ./scripts/ensure-system-deps.sh --browser (make test does)`);
  if (!existsSync(`${WEB_DIST}/index.html`)) throw new Error('web/dist is not built: run npm run build');
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 20_000,
  });
}

/** Signs in through the login form on `/` and waits until the live feed is connected. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url, { timeout: 10_000 });
  await page.getByLabel('Username').fill(username, { timeout: 5000 });
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await connection(page, 'live').waitFor({ timeout: 10_000 });
}

/** The connection indicator in a given state. */
export const connection = (page: Page, state: 'connecting' | 'replaying' | 'live' | 'reconnecting') => page.locator(`#connection[data-state="${state}"]`);

/** The board row of an alert. */
export const row = (page: Page, id: string) => page.locator(`ol.alerts > li[data-alert-id="${id}"]`);

/**
 * Records every value the connection indicator takes, so a test can check the sequence afterwards. (A script
 * string: this file is compiled for Node, without the DOM's types.)
 */
export async function recordConnectionStates(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(`(() => {
    const el = document.getElementById('connection');
    const seen = (window.__states = []);
    if (!el) return;
    seen.push(el.dataset.state);
    new MutationObserver((records) => {
      records.forEach((r, i) => {
        const value = i + 1 < records.length ? records[i + 1].oldValue : el.dataset.state;
        if (seen[seen.length - 1] !== value) seen.push(value);
      });
    }).observe(el, { attributes: true, attributeFilter: ['data-state'], attributeOldValue: true });
  })()`);
  return async () => await page.evaluate<string[]>('window.__states');
}

/** How far the page scrolls sideways (0 when it fits the viewport's width). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

export interface FixedServe {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** `naboom serve --port <port>` as a child process; resolves once it listens. */
export async function serveOnPort(envFile: string, port: number): Promise<FixedServe> {
  const child = spawn(process.execPath, [NABOOM_BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    // One process: the tests kill and restart a server and expect exactly that process to go.
    env: childEnv({ NABOOM_ENV_FILE: envFile, SERVE_WORKERS: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in time: ${out}`));
    }, 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /naboom serve: listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${out}`));
    });
  });
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    },
  };
}
