/**
 * Password rotation under a running worker: after the new password is written and re-read (what SIGHUP and
 * the periodic check do), the old one can be removed and connections killed — the worker reconnects with the
 * new password and keeps processing.
 */
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPassword } from '../../src/config/generate.js';
import { persistSecret } from '../../src/config/persist.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { addNewPassword, planRotation, removeOldPassword } from '../../src/redis/acl/rotate.js';
import { openQueueConnection, type QueueConnection } from '../../src/queue/connection.js';
import { QUEUE_NAME } from '../../src/queue/settings.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/local/wait.js';
import { settled } from './helpers.js';

describe('job queue: app password rotation', () => {
  let t: TestRedis;
  let admin: Redis;
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
  });
  afterAll(async () => {
    admin?.disconnect();
    await t?.stop();
  });

  it('the worker picks up the rotated password and survives losing its connections', async () => {
    const worker = new NotificationWorker({ config: t.config, logger, metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
    let conn: QueueConnection | undefined;
    let queue: Queue<unknown, unknown, string> | undefined;
    try {
      expect(worker.reloadCredentials()).toBe(false);
      const cred = t.config.credentials.app;
      const fresh = newPassword();
      const plan = planRotation(cred.username, cred.password!.reveal(), fresh);
      await addNewPassword([admin], plan);
      persistSecret(cred.source, fresh);
      expect(readFileSync(t.envFile, 'utf8')).toContain(`REDIS_APP_PASSWORD=${fresh}`);
      expect(worker.reloadCredentials()).toBe(true);
      await removeOldPassword([admin], plan);
      // Every app connection drops; only the new password gets them back in.
      await admin.call('CLIENT', 'KILL', 'USER', cred.username);

      const config = t.reload();
      conn = openQueueConnection(config, 'command', 'test-producer', logger);
      queue = new Queue(QUEUE_NAME, { connection: conn.client, prefix: config.keys.queuePrefix });
      const job = await queue.add('log', { v: 1, kind: 'summary' });
      expect(await settled(queue, job.id!, 15_000)).toBe('completed');
      await waitFor('worker connections back', async () => {
        const list = String(await admin.client('LIST'));
        return list.includes(`name=naboom:app:${process.pid}:worker `) && list.includes(`name=naboom:app:${process.pid}:worker-blocking `);
      });
    } finally {
      await queue?.close();
      await conn?.close();
      await worker.stop(1000);
    }
  });
});
