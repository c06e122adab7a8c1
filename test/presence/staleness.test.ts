/**
 * RESPONDER_STALE_S: a position older than it no longer counts — not listed, not near, no position for the
 * claim route — and the reading script deletes it from all three keys in the same step. Waits on Redis'
 * clock (TIME), never a sleep.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { PresenceStore } from '../../src/presence/store.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { DATABASES } from '../../src/redis/databases.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const STALE_S = 1;

describe('presence: staleness', () => {
  let t: TestRedis;
  let admin: Redis;
  let clients: RoleClients;
  let store: PresenceStore;
  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    await admin.select(DATABASES.realtime);
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    store = new PresenceStore(clients.get('realtime'), t.keys, { RESPONDER_STALE_S: STALE_S });
  });
  afterAll(async () => {
    await clients?.close();
    admin?.disconnect();
    await t?.stop();
  });

  /** Redis' clock, ms. */
  const redisNow = async (): Promise<number> => {
    const [s, us] = (await admin.time()) as unknown as [string | number, string | number];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };
  /** Waits until Redis' clock is past `ms`. */
  const until = (ms: number) => waitFor(`Redis' clock past ${ms}`, async () => (await redisNow()) > ms, { timeoutMs: 10_000, intervalMs: 50 });
  const counts = async () => {
    const p = t.keys.presence;
    return [await admin.zcard(p.geo), await admin.zcard(p.seen), await admin.hlen(p.info)];
  };

  it('a stale position is not listed, not near, has no position, and is deleted from every key by the read', async () => {
    const point = { lat: -26.2041, lon: 28.0473 };
    await store.update('old', { available: true, location: { ...point, accuracy_m: 5 } });
    const reportedAt = Date.parse((await store.positionOf('old'))?.last_seen ?? '');
    expect(Number.isFinite(reportedAt)).toBe(true);
    expect(await counts()).toEqual([1, 1, 1]);

    await until(reportedAt + STALE_S * 1000 + 50);
    // A fresh report by someone else, after the first went stale.
    await store.update('fresh', { available: true, location: point });

    expect((await store.list()).map((r) => r.username)).toEqual(['fresh']);
    // Pruned from the GEO set, the last-seen set and the hash (every presence script prunes first).
    expect(await counts()).toEqual([1, 1, 1]);
    expect(await admin.zscore(t.keys.presence.geo, 'old')).toBeNull();
    expect(await admin.hget(t.keys.presence.info, 'old')).toBeNull();
    expect(await store.positionOf('old')).toBeNull();
    expect((await store.nearest({ ...point, radiusKm: 1, limit: 10, availableOnly: false })).map((r) => r.username)).toEqual(['fresh']);
  });

  it('an availability change without a position does not revive a stale one', async () => {
    const point = { lat: -29.8587, lon: 31.0218 };
    const first = await store.update('lapsed', { available: true, location: point });
    expect(first?.available).toBe(true);
    await until(Date.parse(first?.last_seen ?? '') + STALE_S * 1000 + 50);
    expect(await store.update('lapsed', { available: true })).toBeNull();
    expect(await store.positionOf('lapsed')).toBeNull();
    expect(await admin.hget(t.keys.presence.info, 'lapsed')).toBeNull();
  });

  it('the nearest search prunes too: a stale responder is gone from the keys after a search alone', async () => {
    const point = { lat: -25.7479, lon: 28.2293 };
    const r = await store.update('quiet', { available: true, location: point });
    await until(Date.parse(r?.last_seen ?? '') + STALE_S * 1000 + 50);
    expect(await store.nearest({ ...point, radiusKm: 1, limit: 5, availableOnly: true })).toEqual([]);
    expect(await admin.zscore(t.keys.presence.seen, 'quiet')).toBeNull();
    expect(await admin.zscore(t.keys.presence.geo, 'quiet')).toBeNull();
  });
});
