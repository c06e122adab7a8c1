/**
 * The job queue against a real Redis with the generated ACL, as the app role: producing, processing, webhook
 * signatures, retries with backoff, permanent failures, the failed set, invalid payloads, dedupe, and the
 * app role's boundaries.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { roleRedisOptions } from '../../src/redis/connections.js';
import { NaboomError } from '../../src/errors/catalogue.js';
import { workerHost } from '../../src/queue/heartbeat.js';
import { NotificationQueue } from '../../src/queue/notifications.js';
import { QUEUE_NAME } from '../../src/queue/settings.js';
import { verifySignature } from '../../src/queue/signature.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { naboomRole } from '../../src/verify/acl-log.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/local/wait.js';
import { aclLog, sampleEvent, settled, startReceiver, type Receiver } from './helpers.js';

const SECRET = 'whsec-test-0123456789abcdef0123456789';
const WEBHOOK_TIMEOUT_MS = 2000;

describe('job queue: notifications', () => {
  let t: TestRedis;
  let rx: Receiver;
  let admin: Redis;
  let producer: NotificationQueue;
  let worker: NotificationWorker;
  const metrics = new Metrics();
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    rx = await startReceiver();
    t = await startTestRedis({
      // The webhook timeout leaves room for a loaded machine (at 500 ms the first test's attempt once timed out
      // under the full suite and its retry arrived as attempt 2); the timeout test hangs well past it.
      env: { NOTIFY_WEBHOOK_URLS: `${rx.url}/hook`, NOTIFY_WEBHOOK_SECRET: SECRET, JOB_ATTEMPTS: '3', NOTIFY_WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS) },
    });
    admin = await connectAdmin(t.config);
    producer = new NotificationQueue({ config: t.config, keys: t.keys, logger, metrics, backoffMs: 100 });
    worker = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics }, { summaryPattern: false, concurrency: 4 });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop(1000);
    await producer?.close();
    admin?.disconnect();
    await rx?.close();
    await t?.stop();
  });

  const q = () => producer.queue;
  const requestsFor = (delivery: string) => rx.requests.filter((r) => r.headers['x-naboom-delivery'] === delivery);

  it('adds a log job and one webhook job per URL; the worker processes both and the receiver can verify the signature', async () => {
    rx.reply = () => 200;
    const event = sampleEvent('1712345678901-0');
    const ids = await producer.enqueue(event);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(await settled(q(), id)).toBe('completed');

    const [logId, hookId] = ids as [string, string];
    expect((await q().getJob(logId))?.name).toBe('log');
    const hook = await q().getJob(hookId);
    expect(hook?.name).toBe('webhook');
    const delivery = (hook?.data as { deliveryId: string }).deliveryId;
    const [req] = requestsFor(delivery);
    expect(req).toBeDefined();
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/hook');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-naboom-event']).toBe('alert.raised');
    expect(req!.headers['idempotency-key']).toBe(delivery);
    expect(req!.headers['x-naboom-attempt']).toBe('1');
    const sig = req!.headers['x-naboom-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    // The receiver's check: HMAC over the exact raw bytes with the shared secret.
    expect(verifySignature(req!.body, sig, SECRET)).toBe(true);
    expect(verifySignature(req!.body, sig, 'another-secret-0123456789abcdef0123')).toBe(false);
    expect(verifySignature(req!.body.replace('critical', 'low'), sig, SECRET)).toBe(false);
    expect(JSON.parse(req!.body)).toEqual(event);
    expect((await q().getJob(hookId))?.returnvalue).toMatchObject({ status: 200 });
    expect((await metrics.jobs.get()).values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { type: 'log', outcome: 'completed' } }),
        expect.objectContaining({ labels: { type: 'webhook', outcome: 'completed' } }),
      ]),
    );
  });

  it('retries a failing webhook with exponential backoff: 503, 503, then 200 completes after 3 attempts', async () => {
    const seen = new Map<string, number>();
    rx.reply = (r) => {
      const d = String(r.headers['x-naboom-delivery']);
      const n = (seen.get(d) ?? 0) + 1;
      seen.set(d, n);
      return n <= 2 ? 503 : 200;
    };
    const [, hookId] = (await producer.enqueue(sampleEvent('1712345678902-0'))) as [string, string];
    expect(await settled(q(), hookId)).toBe('completed');
    const job = await q().getJob(hookId);
    expect(job?.attemptsMade).toBe(3);
    const reqs = requestsFor((job?.data as { deliveryId: string }).deliveryId);
    expect(reqs.map((r) => r.headers['x-naboom-attempt'])).toEqual(['1', '2', '3']);
    // Same delivery id and same signed body on every attempt.
    expect(new Set(reqs.map((r) => r.headers['x-naboom-signature'])).size).toBe(1);
    // Backoff 100 ms, then 200 ms (±20 % jitter): the gaps grow.
    const gap1 = reqs[1]!.at - reqs[0]!.at;
    const gap2 = reqs[2]!.at - reqs[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(70);
    expect(gap2).toBeGreaterThanOrEqual(150);
    const retried = (await metrics.jobs.get()).values.find((v) => v.labels.type === 'webhook' && v.labels.outcome === 'retried');
    expect(retried?.value).toBeGreaterThanOrEqual(2);
  });

  it('retries 429 and timeouts; a receiver that hangs past NOTIFY_WEBHOOK_TIMEOUT_MS is tried again', async () => {
    const seen = new Map<string, number>();
    rx.reply = (r) => {
      const d = String(r.headers['x-naboom-delivery']);
      const n = (seen.get(d) ?? 0) + 1;
      seen.set(d, n);
      return n === 1 ? 429 : n === 2 ? { status: 200, afterMs: 2 * WEBHOOK_TIMEOUT_MS } : 200;
    };
    const [, hookId] = (await producer.enqueue(sampleEvent('1712345678903-0'))) as [string, string];
    expect(await settled(q(), hookId)).toBe('completed');
    expect((await q().getJob(hookId))?.attemptsMade).toBe(3);
  });

  it('a 4xx other than 408/429 fails the job at once; it stays in the failed set with its reason', async () => {
    rx.reply = () => 400;
    const [, hookId] = (await producer.enqueue(sampleEvent('1712345678904-0'))) as [string, string];
    expect(await settled(q(), hookId)).toBe('failed');
    const job = await q().getJob(hookId);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/webhook answered 400 \(not retried/);
    expect(job?.failedReason).toContain('nope 400');
    expect(requestsFor((job?.data as { deliveryId: string }).deliveryId)).toHaveLength(1);
    // Kept for inspection: in the failed set, with a week's retention.
    const failedIds = (await q().getFailed(0, 100)).map((j) => j.id);
    expect(failedIds).toContain(hookId);
    expect(await producer.failed(50)).toEqual(expect.arrayContaining([expect.objectContaining({ id: hookId, type: 'webhook', attempts: 1 })]));
    expect(job?.opts.removeOnFail).toEqual({ age: 7 * 24 * 3600, count: 50_000 });
    expect(await admin.call('SELECT', '2')).toBe('OK');
    expect(await admin.zscore(`naboom:queue:notifications:failed`, hookId)).not.toBeNull();
    await admin.call('SELECT', '0');
  });

  it('an invalid payload fails permanently with NABOOM_JOB_INVALID; an unknown job type too', async () => {
    const bad = await q().add('webhook', { v: 2, url: 'http://example.invalid/' } as never);
    const unknown = await q().add('nonsense' as 'log', { v: 1, kind: 'event' } as never);
    const badLog = await q().add('log', { v: 1, kind: 'event', event: { ...sampleEvent(), alert: { id: 'x' } } } as never);
    for (const j of [bad, unknown, badLog]) {
      expect(await settled(q(), j.id!)).toBe('failed');
      const job = await q().getJob(j.id!);
      expect(job?.failedReason).toMatch(/^NABOOM_JOB_INVALID: /);
      expect(job?.attemptsMade).toBe(1);
    }
    expect((await q().getJob(bad.id!))?.failedReason).toContain('webhook payload');
    // The producer refuses an invalid event before it reaches Redis.
    const err = await producer.enqueue({ ...sampleEvent(), alert: { ...sampleEvent().alert, severity: 'extreme' as 'low' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NaboomError);
    expect((err as NaboomError).code).toBe('NABOOM_JOB_INVALID');
  });

  it('refuses to sign a request to a URL that is not in the worker configuration', async () => {
    const job = await q().add('webhook', { v: 1, url: 'http://127.0.0.1:9/elsewhere', deliveryId: 'forged-1', event: sampleEvent() });
    expect(await settled(q(), job.id!)).toBe('failed');
    expect((await q().getJob(job.id!))?.failedReason).toMatch(/NABOOM_JOB_INVALID: webhook URL http:\/\/127.0.0.1:9 is not in this worker's NOTIFY_WEBHOOK_URLS/);
    expect(rx.requests.some((r) => r.headers['x-naboom-delivery'] === 'forged-1')).toBe(false);
  });

  it('with a dedupeId, enqueueing the same event again adds nothing', async () => {
    rx.reply = () => 200;
    const event = sampleEvent('1712345678905-0');
    const first = await producer.enqueue(event, { dedupeId: '1712345678905-0.alert.raised' });
    const again = await producer.enqueue(event, { dedupeId: '1712345678905-0.alert.raised' });
    expect(again).toEqual(first);
    for (const id of first) expect(await settled(q(), id)).toBe('completed');
    const third = await producer.enqueue(event, { dedupeId: '1712345678905-0.alert.raised' });
    expect(third).toEqual(first);
    const hook = await q().getJob(first[1]!);
    const delivery = (hook?.data as { deliveryId: string }).deliveryId;
    expect(delivery).toBe(first[1]);
    // Give a (wrong) duplicate every chance to show up before counting.
    await waitFor('idle queue', async () => (await q().getJobCounts('waiting', 'active', 'delayed')).waiting === 0 || undefined);
    expect(requestsFor(delivery)).toHaveLength(1);
    // Another event of the same alert is a different notification.
    const escalated = await producer.enqueue(sampleEvent('1712345678905-0', 'alert.escalated'), { dedupeId: '1712345678905-0.alert.escalated' });
    expect(escalated.some((id) => first.includes(id))).toBe(false);
  });

  it('events enqueued in one turn travel as one dispatch job, expanded into the jobs each would have had; nothing twice', async () => {
    rx.reply = () => 200;
    const alertIds = ['1712345679001-0', '1712345679001-1', '1712345679002-0'];
    const results = await Promise.all(alertIds.map((id) => producer.enqueueEvent(sampleEvent(id), { dedupeId: `raised-${id}` })));
    // One dispatch job carries all three.
    const dispatchId = results[0]?.[0] ?? '';
    expect(results.every((r) => r.length === 1 && r[0] === dispatchId)).toBe(true);
    expect((await q().getJob(dispatchId))?.name).toBe('dispatch');
    expect(await settled(q(), dispatchId)).toBe('completed');
    // The worker added each event's own log and webhook jobs, with the ids a single enqueue would give.
    for (const id of alertIds) expect(await settled(q(), `log.raised-${id}`)).toBe('completed');
    // Enqueueing one of them again on its own (a client's retry) finds the same jobs and adds nothing.
    const retry = await producer.enqueueEvent(sampleEvent(alertIds[1] ?? ''), { dedupeId: `raised-${alertIds[1]}` });
    expect(retry[0]).toBe(`log.raised-${alertIds[1]}`);
    await waitFor('idle queue', async () => (await q().getJobCounts('waiting', 'active', 'delayed')).waiting === 0 || undefined);
    const hookId = retry[1] ?? '';
    const delivery = ((await q().getJob(hookId))?.data as { deliveryId: string }).deliveryId;
    expect(await settled(q(), hookId)).toBe('completed');
    expect(requestsFor(delivery)).toHaveLength(1);
  });

  it('a dispatch job with an invalid payload fails permanently with NABOOM_JOB_INVALID', async () => {
    const job = await q().add('dispatch', { v: 1, items: [] } as never);
    expect(await settled(q(), job.id ?? '')).toBe('failed');
    expect((await q().getJob(job.id ?? ''))?.failedReason).toMatch(/^NABOOM_JOB_INVALID: dispatch payload/);
  });

  it('the app role reaches its queue keys and nothing else', async () => {
    const probeName = 'queue-probe';
    const probe = new Redis({ ...roleRedisOptions(t.config, t.config.credentials.app, 'command', `${process.pid}:${probeName}`, 2), lazyConnect: true });
    await probe.connect();
    try {
      await expect(probe.get('panic:x')).rejects.toThrow(/NOPERM/);
      await expect(probe.lpush('naboom:channels:x', '1')).rejects.toThrow(/NOPERM/);
      await expect(probe.get('naboom:realtime:1:x')).rejects.toThrow(/NOPERM/);
      await expect(probe.call('KEYS', '*')).rejects.toThrow(/NOPERM/);
      await expect(probe.call('CLIENT', 'LIST')).rejects.toThrow(/NOPERM/);
      expect(await probe.exists('naboom:queue:notifications:meta')).toBe(1);
    } finally {
      probe.disconnect();
    }
    // Only the probe's deliberate denials are in ACL LOG: nothing from the producer or the worker.
    const all = await aclLog(admin);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.every((e) => e.clientName === `naboom:app:${process.pid}:${probeName}`)).toBe(true);
    expect(await aclLog(admin, [`naboom:app:${process.pid}:${probeName}`])).toEqual([]);
  });

  it('names its connections after the role and selects the queue database', async () => {
    const list = String(await admin.client('LIST')).split('\n');
    const mine = list.filter((l) => l.includes(`name=naboom:app:${process.pid}:`));
    const names = mine.map((l) => /name=(\S+)/.exec(l)?.[1]).sort();
    expect(names).toEqual([`naboom:app:${process.pid}:queue`, `naboom:app:${process.pid}:worker`]);
    for (const l of mine) expect(l).toMatch(/ db=2 .* user=app_user /);
    // The worker's blocking reads run on the copy BullMQ makes of its client, under BullMQ's name for it: the
    // queue, the worker's host and this process. ACL LOG classification counts it as the app role's.
    const blockingName = `naboom:queue:${Buffer.from(QUEUE_NAME).toString('base64')}:w:${workerHost()}:${process.pid}`;
    const blocking = list.filter((l) => l.includes(`name=${blockingName} `));
    expect(blocking).toHaveLength(1);
    expect(blocking[0]).toMatch(/ db=2 .* user=app_user /);
    for (const name of [...names, blockingName]) expect(naboomRole(name)).toBe('app');
  });

  it('counts a refused command on a queue connection once, for the app role', async () => {
    const appNoPerms = async (): Promise<number> => (await metrics.redisNoPerm.get()).values.find((v) => v.labels.role === 'app')?.value ?? 0;
    const before = await appNoPerms();
    const client: unknown = await producer.queue.getBackend().client;
    if (!(client instanceof Redis)) throw new Error('the producer runs on an ioredis client');
    await expect(client.get('panic:x')).rejects.toThrow(/NOPERM/);
    expect(await appNoPerms()).toBe(before + 1);
    // The deliberate denial is the producer's own, and the only one besides the probe's; cleared afterwards.
    expect((await aclLog(admin, [`naboom:app:${process.pid}:queue-probe`])).map((e) => e.clientName)).toEqual([`naboom:app:${process.pid}:queue`]);
    await admin.call('ACL', 'LOG', 'RESET');
  });
});
