/**
 * The dashboard across a server restart, with real `naboom serve` processes: the page's server stops
 * (SIGTERM), an alert is raised through another serve process while it is down, the server comes back on the
 * same port, and the board — reconnecting by itself with `since` = the last feed id it saw — shows the
 * missed alert once, and nothing twice.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../src/auth/users.js';
import { freePort } from '../../src/local/redis-server.js';
import { createLogger } from '../../src/log/logger.js';
import { RoleClients } from '../../src/redis/connections.js';
import { spawnServe, type ServeProcess } from '../helpers/processes.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { post, sampleAlert } from '../helpers/stack.js';
import { connection, launchChromium, recordConnectionStates, row, serveOnPort, signIn, type FixedServe } from './harness.js';

describe('dashboard across a server restart', () => {
  let t: TestRedis;
  let browser: Browser;
  let port = 0;
  let served: FixedServe | undefined;
  let other: ServeProcess;
  let memberToken = '';
  const responder = { username: 'rae', password: 'responder-password-1' };

  beforeAll(async () => {
    t = await startTestRedis();
    const clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    const users = new UserStore(clients.get('app'), t.keys);
    await users.add('mo', 'member', 'member-password-1');
    await users.add(responder.username, 'responder', responder.password);
    memberToken = await users.issueToken('mo');
    await clients.close();
    port = await freePort();
    [served, other, browser] = await Promise.all([serveOnPort(t.envFile, port), spawnServe(t.envFile), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    await other?.stop();
    await t?.stop();
  });

  const raise = async (baseUrl: string, severity: string): Promise<string> => {
    const r = await post(`${baseUrl}/api/emergency/alerts`, sampleAlert({ severity }), { authorization: `Bearer ${memberToken}` });
    expect(r.status).toBe(201);
    return (r.body as { alert_id: string }).alert_id;
  };

  it('reconnects by itself and catches up with an alert raised while its server was down, without duplicates', async () => {
    const url = served!.url;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, url, responder.username, responder.password);
    const before = await raise(url, 'high');
    await row(page, before).waitFor({ timeout: 1000 });
    const states = await recordConnectionStates(page);

    await served!.stop();
    served = undefined;
    await connection(page, 'reconnecting').waitFor({ timeout: 5000 });

    // Raised through another process while the page's server is down: only a replay can bring it.
    const missed = await raise(other.url, 'critical');
    served = await serveOnPort(t.envFile, port);
    await row(page, missed).filter({ hasText: 'Critical' }).waitFor({ timeout: 10_000 });
    await connection(page, 'live').waitFor({ timeout: 5000 });

    // The board shows each alert once, newest first.
    const boardIds = async (): Promise<(string | null)[]> => await Promise.all((await page.locator('ol.alerts > li').all()).map((li) => li.getAttribute('data-alert-id')));
    expect(await boardIds()).toEqual([missed, before]);
    // The indicator said what was happening: reconnecting, then replaying the missed alerts, then live.
    const seen = await states();
    expect(seen.indexOf('reconnecting')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('replaying')).toBeGreaterThan(seen.indexOf('reconnecting'));
    expect(seen.at(-1)).toBe('live');

    // Live again: a new alert arrives within a second, an action on the replayed one works, still no duplicates.
    const after = await raise(url, 'medium');
    await row(page, after).waitFor({ timeout: 1000 });
    await row(page, missed).getByRole('button').click();
    await page.locator(`article.details[data-alert-id="${missed}"]`).getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await row(page, missed).and(page.locator('[data-status="acknowledged"]')).waitFor({ timeout: 1000 });
    expect(await boardIds()).toEqual([after, missed, before]);
    await page.close();
  }, 60_000);
});
