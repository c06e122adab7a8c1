/**
 * Probes (issue 10, defects 12 and 14): /health/redis is unauthenticated, so a flood must cost Redis at
 * most one probe round per HEALTH_CACHE_MS; `naboom init`'s METRICS_TOKEN closes /metrics, and serve warns
 * when it runs without one. The role passwords' ACL file is never committable.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisHealth } from '../../src/health/redis-health.js';
import { parseInfo } from '../../src/health/redis-health.js';
import { get, startStack, type Stack } from '../helpers/stack.js';

/** Calls of `command` the server has counted (INFO commandstats). */
async function calls(admin: Redis, command: string): Promise<number> {
  const stat = parseInfo(await admin.info('commandstats')).get(`cmdstat_${command}`);
  return Number(/calls=(\d+)/.exec(stat ?? '')?.[1] ?? 0);
}

describe('probes on an init-ed stack', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { HEALTH_CACHE_MS: '60000' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('50 concurrent GET /health/redis run one probe round in Redis, and keep the docs/contract.md §5 body', async () => {
    // Only the monitoring role's probe sends DBSIZE, once per round.
    const before = { dbsize: await calls(s.admin, 'dbsize'), set: await calls(s.admin, 'set') };
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(`${s.url}/health/redis`)));
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ overall_status: 'healthy', redis_acl_health: { app_user: { status: 'healthy', operations: ['PING', 'SET', 'GET', 'DEL'] } } });
    }
    expect(new Set(answers.map((r) => (r.body as { timestamp: string }).timestamp)).size).toBe(1);
    expect((await calls(s.admin, 'dbsize')) - before.dbsize).toBe(1);
    // One SET per writing role (app, websocket, realtime), not 150.
    expect((await calls(s.admin, 'set')) - before.set).toBe(3);
  });

  it('reuses a report for the cache interval and probes again after it (clock passed in)', async () => {
    let now = 1_000_000;
    const health = new RedisHealth(s.server.clients, s.redis.config, s.redis.keys, { cacheMs: 2000, now: () => now });
    const first = await health.report();
    now += 1999;
    expect(await health.report()).toBe(first);
    expect(health.rounds).toBe(1);
    now += 1;
    const second = await health.report();
    expect(second).not.toBe(first);
    expect(health.rounds).toBe(2);
    // Concurrent callers share the round in flight even with no cache at all.
    const uncached = new RedisHealth(s.server.clients, s.redis.config, s.redis.keys, { cacheMs: 0 });
    await Promise.all(Array.from({ length: 10 }, () => uncached.report()));
    expect(uncached.rounds).toBe(1);
  });

  it('/metrics needs the METRICS_TOKEN that init wrote; serve does not warn', async () => {
    const token = s.redis.env['METRICS_TOKEN'] ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    const anon = await get(`${s.url}/metrics`);
    expect(anon.status).toBe(401);
    expect((anon.body as { error: { code: string } }).error.code).toBe('NABOOM_UNAUTHENTICATED');
    expect((await get(`${s.url}/metrics`, { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await get(`${s.url}/metrics`, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('naboom_live_clients');
    expect(s.logs.join('')).not.toContain('METRICS_TOKEN is not set');
  });

  it('sends no HSTS without COOKIE_SECURE (plain HTTP would be pinned to HTTPS)', async () => {
    expect((await get(`${s.url}/health/live`)).headers.get('strict-transport-security')).toBeNull();
  });
});

describe('serve without METRICS_TOKEN', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { METRICS_TOKEN: '' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('logs a warning that /metrics is open', async () => {
    expect((await get(`${s.url}/metrics`)).status).toBe(200);
    const warning = s.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes('METRICS_TOKEN is not set'));
    expect(warning?.level).toBe(40);
  });
});

describe('.gitignore', () => {
  it('keeps users.acl (role password hashes), .env and .naboom/ out of git', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    for (const path of ['users.acl', '.env', '.naboom/dump.rdb']) {
      expect(() => execFileSync('git', ['check-ignore', '-q', path], { cwd: root }), path).not.toThrow();
    }
  });
});
