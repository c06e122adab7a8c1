/**
 * Time limits on a real worker (JOB_SOFT_LIMIT_S=1, JOB_HARD_LIMIT_S=2): the soft limit fires the job's
 * signal so cooperative code stops cleanly; the hard limit fails a job that ignores it. Neither is retried.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { queueClient } from '../../src/queue/connection.js';
import { defineJob } from '../../src/queue/jobs/job.js';
import { SoftTimeLimitError } from '../../src/queue/limits.js';
import { defaultJobOptions, QUEUE_NAME } from '../../src/queue/settings.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { aclLog, settled } from './helpers.js';

const payload = z.object({ v: z.literal(1), mode: z.enum(['return', 'throw']).optional() });

const observed: { reason?: unknown; at?: number } = {};
/** Waits for its signal, then either returns (a clean stop) or throws. */
const cooperative = defineJob('test-cooperative', payload, async (p, ctx) => {
  const started = Date.now();
  const reason = await new Promise<unknown>((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true }));
  observed.reason = reason;
  observed.at = Date.now() - started;
  if (p.mode === 'throw') throw new Error('gave up');
  return { stopped: 'cleanly' };
});
/** Ignores its signal. */
const stubborn = defineJob('test-stubborn', payload, async () => {
  await new Promise((r) => setTimeout(r, 4000));
  return { late: true };
});

describe('job queue: time limits', () => {
  let t: TestRedis;
  let admin: Redis;
  let clients: RoleClients;
  let queue: Queue<unknown, unknown, string>;
  let worker: NotificationWorker;
  const metrics = new Metrics();
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    t = await startTestRedis({ env: { JOB_SOFT_LIMIT_S: '1', JOB_HARD_LIMIT_S: '2', JOB_ATTEMPTS: '3' } });
    admin = await connectAdmin(t.config);
    clients = new RoleClients(t.config, logger);
    queue = new Queue(QUEUE_NAME, { connection: queueClient(clients, 'command', 'test-producer'), prefix: t.keys.queuePrefix, defaultJobOptions: defaultJobOptions(t.config, 50) });
    worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics }, { summaryPattern: false, jobs: [cooperative, stubborn] });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop(1000);
    await queue?.close();
    await clients?.close();
    admin?.disconnect();
    await t?.stop();
  });

  it('at the soft limit the signal fires; a cooperative job that returns completes', async () => {
    const job = await queue.add('test-cooperative', { v: 1, mode: 'return' });
    expect(await settled(queue, job.id!)).toBe('completed');
    expect(observed.reason).toBeInstanceOf(SoftTimeLimitError);
    expect(observed.at).toBeGreaterThanOrEqual(900);
    expect(observed.at).toBeLessThan(1900);
    expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ stopped: 'cleanly' });
  });

  it('a job that gives up at the soft limit fails without a retry, the limit in its reason', async () => {
    const job = await queue.add('test-cooperative', { v: 1, mode: 'throw' });
    expect(await settled(queue, job.id!)).toBe('failed');
    const done = await queue.getJob(job.id!);
    expect(done?.failedReason).toMatch(/soft time limit of 1 s reached \(JOB_SOFT_LIMIT_S\): the job stopped \(gave up\)/);
    expect(done?.attemptsMade).toBe(1);
  });

  it('at the hard limit a job that ignores the signal is failed, without a retry', async () => {
    const job = await queue.add('test-stubborn', { v: 1 });
    const started = Date.now();
    expect(await settled(queue, job.id!)).toBe('failed');
    expect(Date.now() - started).toBeLessThan(3500);
    const done = await queue.getJob(job.id!);
    expect(done?.failedReason).toMatch(/hard time limit of 2 s exceeded \(JOB_HARD_LIMIT_S\)/);
    expect(done?.attemptsMade).toBe(1);
    expect(done?.opts.attempts).toBe(3);
    expect((await queue.getFailed()).map((j) => j.id)).toContain(job.id);
    const failed = (await metrics.jobs.get()).values.find((v) => v.labels.type === 'test-stubborn' && v.labels.outcome === 'failed');
    expect(failed?.value).toBe(1);
  });

  it('left no denial in ACL LOG', async () => {
    expect(await aclLog(admin)).toEqual([]);
  });
});
