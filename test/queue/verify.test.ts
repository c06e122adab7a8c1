/** The verify hook: "no worker running" is a warning; a live worker must complete a job; a silent one fails. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { queueClient } from '../../src/queue/connection.js';
import { WorkerHeartbeat } from '../../src/queue/heartbeat.js';
import { queueRoundTrip } from '../../src/queue/verify.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import type { VerifyContext } from '../../src/verify/types.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { aclLog } from './helpers.js';

describe('job queue: verify round trip', () => {
  let t: TestRedis;
  let admin: Redis;
  let ctx: VerifyContext;
  const logger = createLogger({ level: 'silent' });
  const keys = () => t.keys.queue;

  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    ctx = { config: t.config, keys: t.keys, logger, clients: new Map(), admin };
  });
  afterAll(async () => {
    admin?.disconnect();
    await t?.stop();
  });

  it('without a worker: one warning "no worker running", not a failure', async () => {
    const checks = await queueRoundTrip(ctx);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ section: 'roundtrip', role: 'app', status: 'warn' });
    expect(checks[0]?.detail).toMatch(/^no worker running/);
    expect(checks[0]?.hint).toMatch(/naboom worker/);
  });

  it('with a worker: its heartbeat is found and the verification job completes; after it stops, the heartbeat is gone', async () => {
    const worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
    try {
      await admin.select(2);
      const ttl = await admin.pttl(keys().worker(worker.info.id));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(15_000);
      expect(await admin.zscore(keys().workers, worker.info.id)).not.toBeNull();
      const checks = await queueRoundTrip(ctx);
      expect(checks).toHaveLength(1);
      expect(checks[0]).toMatchObject({ section: 'roundtrip', role: 'app', status: 'pass' });
      expect(checks[0]?.detail).toMatch(new RegExp(`1 worker\\(s\\) alive: .*:${process.pid}; verification job completed in \\d+ ms`));
      // The verification job cleans up after itself.
      expect(await admin.zcard('naboom:queue:notifications:completed')).toBe(0);
    } finally {
      await worker.stop(1000);
    }
    expect(await admin.exists(keys().worker(worker.info.id))).toBe(0);
    expect(await admin.zscore(keys().workers, worker.info.id)).toBeNull();
    await admin.select(0);
    expect((await queueRoundTrip(ctx))[0]?.status).toBe('warn');
  });

  it('a heartbeat without a working worker fails with a hint', async () => {
    const clients = new RoleClients(t.config, logger);
    const hb = new WorkerHeartbeat({
      client: queueClient(clients, 'command', 'fake-worker'),
      keys: t.keys,
      logger,
      info: { id: 'fake-1', pid: 1, host: 'nowhere', queue: 'notifications', concurrency: 1, tz: 'UTC', startedAt: new Date().toISOString() },
    });
    await hb.start();
    try {
      const [c] = await queueRoundTrip(ctx, { timeoutMs: 500 });
      expect(c?.status).toBe('fail');
      expect(c?.detail).toMatch(/nowhere:1; the verification job was still "waiting" after 500 ms \(waiting 1/);
      expect(c?.hint).toMatch(/not taking jobs/);
    } finally {
      await hb.stop();
      await clients.close();
    }
  });

  it('left no denial in ACL LOG', async () => {
    expect(await aclLog(admin)).toEqual([]);
  });
});
