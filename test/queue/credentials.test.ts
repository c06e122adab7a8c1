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
import { RoleClients } from '../../src/redis/connections.js';
import { queueClient } from '../../src/queue/connection.js';
import { workerHost } from '../../src/queue/heartbeat.js';
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
    const worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
    let clients: RoleClients | undefined;
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
      clients = new RoleClients(config, logger);
      queue = new Queue(QUEUE_NAME, { connection: queueClient(clients, 'command', 'test-producer'), prefix: t.keys.queuePrefix });
      const job = await queue.add('log', { v: 1, kind: 'summary' });
      expect(await settled(queue, job.id!, 15_000)).toBe('completed');
      // The worker's own client and the blocking copy BullMQ made of it (under BullMQ's name for it).
      const blockingName = `${t.keys.queuePrefix}:${Buffer.from(QUEUE_NAME).toString('base64')}:w:${workerHost()}:${process.pid}`;
      await waitFor('worker connections back', async () => {
        const list = String(await admin.client('LIST'));
        return list.includes(`name=naboom:app:${process.pid}:worker `) && list.includes(`name=${blockingName} `);
      });
    } finally {
      await queue?.close();
      await clients?.close();
      await worker.stop(1000);
    }
  });
});
