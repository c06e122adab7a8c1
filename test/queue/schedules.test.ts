/** Repeatable jobs: the worker registers the daily summary as a BullMQ job scheduler in TZ. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { NaboomError } from '../../src/errors/catalogue.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { queueClient } from '../../src/queue/connection.js';
import { registerSchedules, SUMMARY_SCHEDULER_ID } from '../../src/queue/schedules.js';
import { QUEUE_NAME } from '../../src/queue/settings.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { aclLog, settled } from './helpers.js';

/** Wall-clock hour:minute of an instant in a time zone. */
const clockIn = (ms: number, tz: string): string =>
  new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));

describe('job queue: schedules in TZ', () => {
  let t: TestRedis;
  let admin: Redis;
  let clients: RoleClients;
  let queue: Queue<unknown, unknown, string>;
  const logger = createLogger({ level: 'silent' });
  const metrics = new Metrics();

  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    clients = new RoleClients(t.config, logger);
    queue = new Queue(QUEUE_NAME, { connection: queueClient(clients, 'command', 'test-inspect'), prefix: t.keys.queuePrefix });
  });
  afterAll(async () => {
    await queue?.close();
    await clients?.close();
    admin?.disconnect();
    await t?.stop();
  });

  it('the worker registers the daily summary in Africa/Johannesburg with its next run at 07:00 there', async () => {
    expect(t.config.settings.TZ).toBe('Africa/Johannesburg');
    const worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics }, { summaryPattern: '0 7 * * *' });
    try {
      const { schedules } = await worker.start();
      expect(schedules).toEqual([expect.objectContaining({ id: SUMMARY_SCHEDULER_ID, pattern: '0 7 * * *', tz: 'Africa/Johannesburg' })]);
      const stored = await queue.getJobScheduler(SUMMARY_SCHEDULER_ID);
      expect(stored).toMatchObject({ pattern: '0 7 * * *', tz: 'Africa/Johannesburg', name: 'log' });
      const next = stored!.next!;
      expect(next).toBeGreaterThan(Date.now());
      expect(next - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
      expect(clockIn(next, 'Africa/Johannesburg')).toBe('07:00');
      expect(clockIn(next, 'UTC')).toBe('05:00');
      // Its first job waits in the delayed set until then.
      const delayed = await queue.getDelayed();
      expect(delayed.map((j) => ({ name: j.name, data: j.data }))).toContainEqual({ name: 'log', data: { v: 1, kind: 'summary' } });
    } finally {
      await worker.stop(1000);
    }
  });

  it('follows TZ: with Asia/Tokyo the same pattern means 07:00 in Tokyo', async () => {
    const tokyo: Config = { ...t.config, settings: { ...t.config.settings, TZ: 'Asia/Tokyo' } };
    const [s] = await registerSchedules(queue, { summaryPattern: '0 7 * * *', tz: tokyo.settings.TZ });
    expect(s?.tz).toBe('Asia/Tokyo');
    expect(clockIn(s!.next!, 'Asia/Tokyo')).toBe('07:00');
    expect(clockIn(s!.next!, 'UTC')).toBe('22:00');
    expect(await queue.getJobSchedulersCount()).toBe(1);
  });

  it('"off" removes the schedule; an invalid pattern is a usage error', async () => {
    expect(await registerSchedules(queue, { summaryPattern: false, tz: 'Africa/Johannesburg' })).toEqual([]);
    expect(await queue.getJobScheduler(SUMMARY_SCHEDULER_ID)).toBeUndefined();
    expect((await queue.getDelayed()).filter((j) => j.name === 'log')).toEqual([]);
    const err = await registerSchedules(queue, { summaryPattern: 'every morning', tz: 'Africa/Johannesburg' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NaboomError);
    expect((err as NaboomError).code).toBe('NABOOM_USAGE');
    const bad = await registerSchedules(queue, { summaryPattern: '99 7 * * *', tz: 'Africa/Johannesburg' }).catch((e: unknown) => e);
    expect((bad as NaboomError).code).toBe('NABOOM_USAGE');
  });

  it('a summary job logs the queue counts', async () => {
    const worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics }, { summaryPattern: false });
    await worker.start();
    try {
      const job = await queue.add('log', { v: 1, kind: 'summary' });
      expect(await settled(queue, job.id!)).toBe('completed');
      const done = await queue.getJob(job.id!);
      expect(done?.returnvalue).toMatchObject({ summary: { waiting: 0, failed: 0 } });
    } finally {
      await worker.stop(1000);
    }
  });

  it('left no denial in ACL LOG', async () => {
    expect(await aclLog(admin)).toEqual([]);
  });
});
