/** Redis disappears under a running worker: stopping it still finishes promptly instead of hanging. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

describe('job queue: Redis outage', () => {
  let t: TestRedis;
  beforeAll(async () => {
    t = await startTestRedis();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a worker whose Redis is gone still stops within its bounded steps', async () => {
    const worker = new NotificationWorker({ config: t.config, keys: t.keys, logger: createLogger({ level: 'silent' }), metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
    await t.server.kill();
    const started = Date.now();
    const result = await worker.stop(500);
    expect(result.handedBack).toEqual([]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
