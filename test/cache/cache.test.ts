/** The named caches on their own roles, against a real server with the generated ACL. */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCaches, type Caches } from '../../src/cache/caches.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const Alert = z.object({ id: z.string(), n: z.number() });

describe('caches', () => {
  let t: TestRedis;
  let clients: RoleClients;
  let caches: Caches;
  let admin: Redis;
  const metrics = new Metrics();
  beforeAll(async () => {
    t = await startTestRedis();
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    caches = createCaches({ clients, keys: t.keys, logger: createLogger({ level: 'silent' }), metrics });
    admin = await connectAdmin(t.config);
    await admin.call('ACL', 'LOG', 'RESET');
  });
  afterAll(async () => {
    await clients.close();
    admin.disconnect();
    await t.stop();
  });

  it('stores JSON under prefix:version:key with each cache default TTL, on its role and DB', async () => {
    await caches.default.set('a', { id: 'x', n: 1 });
    await caches.sessions.set('a', { id: 'y', n: 2 });
    await caches.realtime.set('a', { id: 'z', n: 3 });
    expect(await caches.default.get('a', Alert)).toEqual({ id: 'x', n: 1 });
    expect(await caches.sessions.get('a', Alert)).toEqual({ id: 'y', n: 2 });
    expect(await caches.realtime.get('a', Alert)).toEqual({ id: 'z', n: 3 });
    await admin.select(0);
    expect(await admin.get('naboom:cache:1:a')).toBe('{"id":"x","n":1}');
    expect(await admin.ttl('naboom:cache:1:a')).toBeGreaterThan(295);
    await admin.select(3);
    expect(await admin.ttl('naboom:sessions:1:a')).toBeGreaterThan(86_390);
    await admin.select(4);
    const ttl = await admin.ttl('naboom:realtime:1:a');
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    await admin.select(0);
  });

  it('get / set(ttl) / delete / getOrSet / increment / ttl / many', async () => {
    const c = caches.default;
    expect(await c.get('missing')).toBeUndefined();
    expect(await c.set('t', 5, 10)).toBe(true);
    expect(await c.ttl('t')).toBeLessThanOrEqual(10);
    expect(await c.ttl('missing')).toBeUndefined();
    expect(await c.increment('t', 2)).toBe(7);
    expect(await c.increment('fresh')).toBe(1);
    expect(await c.ttl('fresh')).toBeGreaterThan(295);
    let calls = 0;
    const produce = async () => {
      calls += 1;
      return { id: 'p', n: calls };
    };
    expect(await c.getOrSet('gos', Alert, produce)).toEqual({ id: 'p', n: 1 });
    expect(await c.getOrSet('gos', Alert, produce)).toEqual({ id: 'p', n: 1 });
    expect(calls).toBe(1);
    await c.setMany({ m1: { id: '1', n: 1 }, m2: { id: '2', n: 2 }, bad: { wrong: true } });
    const many = await c.many(['m1', 'm2', 'bad', 'nope'], Alert);
    expect([...many.keys()]).toEqual(['m1', 'm2']);
    expect(await c.delete('m1')).toBe(true);
    expect(await c.delete('m1')).toBe(false);
    // A value that fails its schema is a miss, not an exception.
    expect(await c.get('bad', Alert)).toBeUndefined();
  });

  it('cannot reach another role namespace (NOPERM)', async () => {
    const app = clients.get('app', 'command', 0);
    await expect(app.get('panic:alerts:high')).rejects.toThrow(/^NOPERM/);
    await expect(app.set('naboom:realtime:1:x', '1')).rejects.toThrow(/^NOPERM/);
    await expect(app.get('naboom:channels:q:x')).rejects.toThrow(/^NOPERM/);
    const rt = clients.get('realtime', 'command', 4);
    await expect(rt.get('naboom:cache:1:a')).rejects.toThrow(/^NOPERM/);
    await expect(rt.get('naboom:sessions:1:a')).rejects.toThrow(/^NOPERM/);
    await admin.call('ACL', 'LOG', 'RESET');
  });

  it('degrades to a miss with a log line and a metric when Redis is down (never throws)', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    });
    const down = { ...t.config, topology: { kind: 'standalone' as const, host: '127.0.0.1', port: 1 } };
    const deadClients = new RoleClients(down, createLogger({ level: 'silent' }));
    const m = new Metrics();
    const dead = createCaches({ clients: deadClients, keys: t.keys, logger, metrics: m });
    expect(await dead.default.get('a')).toBeUndefined();
    expect(await dead.default.set('a', 1)).toBe(false);
    expect(await dead.realtime.increment('a')).toBeUndefined();
    expect(await dead.default.getOrSet('a', z.number(), async () => 42)).toBe(42);
    const metric = await m.registry.getSingleMetricAsString('naboom_cache_errors_total');
    expect(metric).toMatch(/naboom_cache_errors_total\{cache="default",op="get"\} 2/);
    expect(lines.join('')).toMatch(/cache unavailable; degrading to a miss/);
    await deadClients.close();
  });

  it('left nothing in ACL LOG during normal operation', async () => {
    await caches.default.set('x', 1);
    await caches.realtime.get('x');
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
