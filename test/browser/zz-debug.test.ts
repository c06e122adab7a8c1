import { it } from 'vitest';
import { startStack } from '../helpers/stack.js';
import { connection, launchChromium, WEB_DIST } from './harness.js';
it('timing', async () => {
  const [s, browser] = await Promise.all([startStack({ dashboardDir: WEB_DIST }), launchChromium()]);
  const t0 = Date.now();
  const lap = (m: string) => console.log(m, Date.now() - t0);
  const ctx = await browser.newContext(); lap('ctx');
  const page = await ctx.newPage(); lap('page');
  page.on('console', (m) => console.log('console', m.text()));
  page.on('request', (r) => console.log('req', Date.now() - t0, r.url()));
  page.on('response', (r) => console.log('res', Date.now() - t0, r.status(), r.url()));
  await page.goto(s.url); lap('goto');
  await page.getByLabel('Username').fill(s.responder.username); lap('fill1');
  await page.getByLabel('Password').fill(s.responder.password); lap('fill2');
  await page.getByRole('button', { name: 'Sign in' }).click(); lap('click');
  await connection(page, 'live').waitFor({ timeout: 10_000 }); lap('live');
  await browser.close(); await s.stop();
}, 60000);
