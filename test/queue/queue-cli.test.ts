/** `naboom queue counts|failed` as a user runs it (the built CLI, app role), against real failed jobs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationQueue } from '../../src/queue/notifications.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { aclLog, settled } from './helpers.js';

describe('naboom queue', () => {
  let t: TestRedis;
  let producer: NotificationQueue;
  let worker: NotificationWorker;
  let failedId = '';
  const logger = createLogger({ level: 'silent' });
  beforeAll(async () => {
    t = await startTestRedis();
    producer = new NotificationQueue({ config: t.config, keys: t.keys, logger, metrics: new Metrics() });
    worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
    // A payload no schema accepts fails at once and permanently.
    const job = await producer.queue.add('log', { v: 1, kind: 'bogus' } as never);
    failedId = job.id ?? '';
    expect(await settled(producer.queue, failedId)).toBe('failed');
  });
  afterAll(async () => {
    await worker?.stop(1000);
    await producer?.close();
    await t?.stop();
  });
  const env = () => ({ NABOOM_ENV_FILE: t.envFile });

  it('failed lists the failed job with its reason, as text and as JSON', async () => {
    const text = await runCli(['queue', 'failed'], { env: env() });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(failedId);
    expect(text.stdout).toMatch(/NABOOM_JOB_INVALID: log payload/);
    const json = await runCli(['queue', 'failed', '--json', '--limit', '5'], { env: env() });
    expect(json.code, json.stderr).toBe(0);
    const jobs = JSON.parse(json.stdout) as { id: string; type: string; reason: string; attempts: number; failedAt: string }[];
    expect(jobs).toEqual([expect.objectContaining({ id: failedId, type: 'log', attempts: 1, reason: expect.stringMatching(/^NABOOM_JOB_INVALID/) as unknown })]);
    expect(Date.parse(jobs[0]?.failedAt ?? '')).toBeGreaterThan(0);
  });

  it('counts reports jobs per state', async () => {
    const r = await runCli(['queue', 'counts', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ failed: 1, waiting: 0 });
  });

  it('refuses a bad --limit with NABOOM_USAGE (exit 2) and leaves ACL LOG empty', async () => {
    const r = await runCli(['queue', 'failed', '--limit', '0'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NABOOM_USAGE/);
    expect(r.stderr).toMatch(/--limit must be a whole number from 1 to 1000/);
    const admin = await connectAdmin(t.config);
    try {
      expect(await aclLog(admin)).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });
});
