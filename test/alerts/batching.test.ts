/**
 * Alerts raised and requests counted in the same turn of the event loop share one script call (real Redis,
 * generated ACL): each caller still gets exactly its own result, in order, and nothing is stored twice.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareIds } from '../../src/alerts/model.js';
import { AlertStore } from '../../src/alerts/store.js';
import { batchCounter } from '../../src/ratelimit/counter.js';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { TurnBatcher } from '../../src/redis/batch.js';
import { RoleClients } from '../../src/redis/connections.js';
import { DATABASES } from '../../src/redis/databases.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const location = { lat: -33.92, lon: 18.42 };

/** EVALSHA calls the server has run so far (INFO commandstats). */
async function evalshaCalls(admin: Redis): Promise<number> {
  const m = /cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'));
  return Number(m?.[1] ?? 0);
}

describe('per-turn batching', () => {
  let t: TestRedis;
  let clients: RoleClients;
  let admin: Redis;
  let store: AlertStore;
  beforeAll(async () => {
    t = await startTestRedis();
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    admin = await connectAdmin(t.config);
    store = new AlertStore(clients.get('realtime'), t.config, t.keys);
    // Load the script (first call may fall back from EVALSHA to EVAL).
    await store.raise({ type: 'other', location }, { id: 'u_warm', username: 'warm' });
  });
  afterAll(async () => {
    admin.disconnect();
    await clients.close();
    await t.stop();
  });

  it('stores 20 alerts raised in one turn with one script call, each with its own id, in call order', async () => {
    const before = await evalshaCalls(admin);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.raise({ type: 'panic', severity: i % 2 ? 'low' : 'critical', location, description: `n${i}` }, { id: `u_${i}`, username: `user${i}` })),
    );
    expect(await evalshaCalls(admin)).toBe(before + 1);
    const ids = results.map((r) => r.alert.id);
    expect(new Set(ids).size).toBe(20);
    expect([...ids].sort(compareIds)).toEqual(ids);
    results.forEach((r, i) => {
      expect(r.created).toBe(true);
      expect(r.alert).toMatchObject({ description: `n${i}`, reporter: { username: `user${i}` }, severity: i % 2 ? 'low' : 'critical' });
    });
    // Each is fully stored: state, cache, its severity stream.
    for (const r of results) expect((await store.get(r.alert.id))?.description).toBe(r.alert.description);
    await admin.select(4);
    const critical = await admin.xrange('panic:alerts:critical', ids[0] ?? '-', '+');
    await admin.select(0);
    expect(critical.map(([id]) => id)).toEqual(ids.filter((_, i) => i % 2 === 0));
  });

  it('two requests with the same Idempotency-Key in one turn store one alert', async () => {
    const reporter = { id: 'u_idem', username: 'ida' };
    const [a, b] = await Promise.all([store.raise({ type: 'fire', location }, reporter, 'same-key'), store.raise({ type: 'fire', location }, reporter, 'same-key')]);
    expect(a?.alert.id).toBe(b?.alert.id);
    expect([a?.created, b?.created]).toEqual([true, false]);
    const mine = await store.list({ limit: 10, reporterId: 'u_idem' });
    expect(mine.alerts).toHaveLength(1);
  });

  it('counts rate-limit counters of one turn with one script call, exactly', async () => {
    const app = clients.get('app', 'command', DATABASES.rateLimits);
    const counter = new TurnBatcher(batchCounter(app));
    const before = await evalshaCalls(admin);
    const keys = Array.from({ length: 12 }, (_, i) => `naboom:ratelimit:test:${i % 3}`);
    const counted = await Promise.all(keys.map((key) => counter.submit({ key, windowMs: 60_000 })));
    // The first call may load the script with EVAL; either way one call for 12 counters.
    const after = await evalshaCalls(admin);
    expect(after - before).toBeLessThanOrEqual(1);
    expect(counted.map((c) => c.current)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    for (const c of counted) expect(c.ttl).toBeGreaterThan(59_000);
    await admin.select(DATABASES.rateLimits);
    expect(await admin.pttl('naboom:ratelimit:test:0')).toBeGreaterThan(59_000);
    await admin.select(0);
  });
});
