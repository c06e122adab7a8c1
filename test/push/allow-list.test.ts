/**
 * PUSH_SERVICE_HOSTS in the worker: the `push` job never sends to an endpoint whose host is not a listed push
 * service — a subscription stored before the list was narrowed (registration already refuses other hosts,
 * test/push/push.test.ts). Real Redis and the real job; the "push service" is a local HTTP recorder, so a
 * request that went out would be seen (the positive control sends to it).
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEnv } from '../../src/config/generate.js';
import type { Config } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { PushSubscriptionStore } from '../../src/push/subscriptions.js';
import { pushJobs } from '../../src/queue/jobs/push.js';
import type { JobContext } from '../../src/queue/jobs/job.js';
import { RoleClients } from '../../src/redis/connections.js';
import { DATABASES } from '../../src/redis/databases.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });
const vapid = generateEnv(6380).vars;

describe('the push job and PUSH_SERVICE_HOSTS', () => {
  let t: TestRedis;
  let clients: RoleClients;
  let recorder: Server;
  let port = 0;
  const received: string[] = [];
  beforeAll(async () => {
    t = await startTestRedis({ env: { VAPID_PUBLIC_KEY: vapid['VAPID_PUBLIC_KEY'] ?? '', VAPID_PRIVATE_KEY: vapid['VAPID_PRIVATE_KEY'] ?? '', VAPID_SUBJECT: 'mailto:ops@example.org' } });
    clients = new RoleClients(t.config, logger);
    recorder = createServer((req, res) => {
      received.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(201).end());
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    port = (recorder.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await clients?.close();
    await new Promise((resolve) => recorder?.close(resolve));
    await t?.stop();
  });

  /** Runs one `push` job for a fresh subscription at the recorder, with `hosts` as PUSH_SERVICE_HOSTS. */
  async function pushWith(hosts: string[], path: string): Promise<{ result: unknown; refused: string }> {
    const config: Config = { ...t.config, settings: { ...t.config.settings, PUSH_SERVICE_HOSTS: hosts } };
    const vapidConfig = config.vapid;
    if (!vapidConfig) throw new Error('the test Redis has no VAPID keys');
    const store = new PushSubscriptionStore(clients.get('app', 'command', DATABASES.accounts), t.keys, 10);
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    await store.save('rae', { endpoint: `http://127.0.0.1:${port}${path}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } });
    const sub = (await store.list('rae')).find((s) => s.endpoint.endsWith(path));
    if (!sub) throw new Error('subscription not stored');
    const metrics = new Metrics();
    const job = pushJobs({ config, vapid: vapidConfig, store, metrics, addJobs: async () => undefined }).find((j) => j.name === 'push');
    const ctx: JobContext = { config, logger, signal: new AbortController().signal, jobId: 't', attempt: 1, maxAttempts: 1, counts: async () => ({}) };
    const message = { event: 'alert.raised', id: '1712345678901-0', type: 'panic', severity: 'high', at: new Date().toISOString() };
    const result = await job?.handle({ v: 1, username: 'rae', subscription: sub.id, message }, ctx);
    return { result, refused: await metrics.registry.getSingleMetricAsString('naboom_push_sent_total') };
  }

  it('sends nothing to an endpoint whose host is not listed, and counts it as refused', async () => {
    const { result, refused } = await pushWith(['fcm.googleapis.com', '*.push.apple.com'], '/unlisted');
    expect(result).toEqual({ result: 'refused' });
    expect(refused).toMatch(/naboom_push_sent_total\{result="refused"\} 1/);
    expect(received).not.toContain('/unlisted');
  });

  it('sends when the host is listed (the control: the recorder does see a push)', async () => {
    const { result } = await pushWith(['127.0.0.1'], '/listed');
    expect(result).toMatchObject({ result: 'sent', status: 201 });
    expect(received).toContain('/listed');
  });
});
