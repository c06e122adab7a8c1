/**
 * The errors a real Redis and the real ioredis/BullMQ produce when something is wrong on the Redis side, and
 * how the API answers each: 503 (with its code) for anything a retry can fix, a 500 only for an ACL refusal.
 * The ones a single server cannot produce (LOADING, CLUSTERDOWN…) are in src/redis/errors.test.ts.
 */
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNaboomError } from '../../src/http/errors.js';
import { freePort } from '../../src/local/redis-server.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { redisFailureKind } from '../../src/redis/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { queueClient } from '../../src/queue/connection.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });
const KEY = 'naboom:cache:error-probe';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const answer = (err: Error): [number, string] => {
  const e = toNaboomError(err);
  return [e.status, e.code];
};

describe('real Redis failures', () => {
  let r: TestRedis;
  let admin: Redis;
  let clients: RoleClients;
  let app: Redis;
  beforeAll(async () => {
    r = await startTestRedis({ env: { REDIS_COMMAND_TIMEOUT_MS: '200' } });
    admin = await connectAdmin(r.config);
    clients = new RoleClients(r.config, logger);
    app = clients.get('app') as Redis;
    expect(await app.set(KEY, '1')).toBe('OK');
  });
  afterAll(async () => {
    await clients?.close();
    admin?.disconnect();
    await r?.stop();
  });

  it('a write to a replica (READONLY), also from inside a script, is 503 NABOOM_UNAVAILABLE', async () => {
    // A replica of a master that is not there: read-only, serving its (stale) data.
    await admin.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    try {
      const direct = await rejection(app.set(KEY, '2'));
      const scripted = await rejection(app.eval("return redis.call('set', KEYS[1], '2')", 1, KEY));
      expect(direct.message).toMatch(/^READONLY/);
      expect(scripted.message).toMatch(/READONLY.*script/);
      expect(answer(direct)).toEqual([503, 'NABOOM_UNAVAILABLE']);
      expect(answer(scripted)).toEqual([503, 'NABOOM_UNAVAILABLE']);
    } finally {
      await admin.call('REPLICAOF', 'NO', 'ONE');
    }
  });

  it('too few replicas for a write (NOREPLICAS) is 503 NABOOM_NOT_REPLICATED', async () => {
    await admin.config('SET', 'min-replicas-to-write', '1');
    try {
      const direct = await rejection(app.set(KEY, '2'));
      const scripted = await rejection(app.eval("return redis.call('set', KEYS[1], '2')", 1, KEY));
      expect(direct.message).toMatch(/^NOREPLICAS/);
      expect(answer(direct)).toEqual([503, 'NABOOM_NOT_REPLICATED']);
      expect(answer(scripted)).toEqual([503, 'NABOOM_NOT_REPLICATED']);
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
    }
  });

  it('an ACL refusal (NOPERM), also inside a script, stays a 500 and is counted', async () => {
    const counted: string[] = [];
    const own = new RoleClients(r.config, logger, { onNoPerm: (role) => counted.push(role) });
    try {
      const c = own.get('app');
      const direct = await rejection(c.flushall());
      const scripted = await rejection(c.eval("return redis.call('flushall')", 0));
      expect(redisFailureKind(direct)).toBe('noperm');
      expect(redisFailureKind(scripted)).toBe('noperm');
      expect(answer(direct)).toEqual([500, 'NABOOM_INTERNAL']);
      expect(answer(scripted)).toEqual([500, 'NABOOM_INTERNAL']);
      expect(counted).toEqual(['app', 'app']);
    } finally {
      await own.close();
    }
  });

  it('a server that does not answer (command timeout), also under BullMQ, is 503 NABOOM_UNAVAILABLE', async () => {
    const own = new RoleClients(r.config, logger);
    const queue = new Queue('error-probe', { connection: queueClient(own, 'command', 'error-probe'), prefix: r.keys.queuePrefix });
    try {
      await queue.waitUntilReady();
      await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const [timedOut, enqueue] = await Promise.all([rejection(app.get(KEY)), rejection(queue.add('probe', { n: 1 }))]);
      expect(timedOut.message).toBe('Command timed out');
      expect(answer(timedOut)).toEqual([503, 'NABOOM_UNAVAILABLE']);
      expect(answer(enqueue)).toEqual([503, 'NABOOM_UNAVAILABLE']);
    } finally {
      await queue.close();
      await own.close();
    }
  });

  it('a closed connection, an exhausted retry and a refused offline queue are 503 NABOOM_UNAVAILABLE', async () => {
    const closed = new Redis({ port: r.port, lazyConnect: true });
    closed.disconnect();
    const nobody = new Redis({ port: await freePort(), maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true });
    nobody.on('error', () => undefined);
    const noQueue = new Redis({ port: await freePort(), enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
    noQueue.on('error', () => undefined);
    try {
      const errors = await Promise.all([rejection(closed.get(KEY)), rejection(nobody.get(KEY)), rejection(noQueue.get(KEY))]);
      expect(errors.map((e) => e.name)).toEqual(['Error', 'MaxRetriesPerRequestError', 'Error']);
      expect(errors.map(answer)).toEqual(Array(3).fill([503, 'NABOOM_UNAVAILABLE']));
    } finally {
      nobody.disconnect();
      noQueue.disconnect();
    }
  });

  it('a Cluster client that cannot load the slots (ClusterAllFailedError) is 503 NABOOM_UNAVAILABLE', async () => {
    // A server without cluster support refuses CLUSTER SLOTS: every startup node fails.
    const cluster = new Cluster([{ host: '127.0.0.1', port: r.port }], { clusterRetryStrategy: () => null, lazyConnect: true });
    const reported: Error[] = [];
    cluster.on('error', (err: Error) => reported.push(err));
    try {
      const failed = await rejection(cluster.get(KEY));
      const all = reported.find((e) => e.name === 'ClusterAllFailedError');
      expect(all?.message).toBe('Failed to refresh slots cache.');
      expect(answer(all ?? new Error('none'))).toEqual([503, 'NABOOM_UNAVAILABLE']);
      expect(answer(failed)).toEqual([503, 'NABOOM_UNAVAILABLE']);
    } finally {
      cluster.disconnect();
    }
  });
});
