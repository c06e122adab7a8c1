/**
 * kill -9 of a worker in the middle of a webhook job: the job runs again on another worker (at least once)
 * and the notification is delivered, with the same delivery id so the receiver can deduplicate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationQueue } from '../../src/queue/notifications.js';
import { childEnv } from '../helpers/cli.js';
import { startReceiver, type Receiver } from '../queue/helpers.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const CHILD = fileURLToPath(new URL('./worker-child.mjs', import.meta.url));

async function startWorker(envFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, envFile], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker ready')) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${out}`)));
  });
  return child;
}

describe('worker killed mid-job', () => {
  let t: TestRedis;
  let receiver: Receiver;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestRedis({ env: { NOTIFY_WEBHOOK_URLS: receiver.url, NOTIFY_WEBHOOK_SECRET: 'webhook-secret-for-the-kill-test-0123' } });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await receiver.close();
    await t.stop();
  });

  it('runs the interrupted job again elsewhere and delivers the notification', async () => {
    // The first delivery attempt hangs (the job is running when its worker dies); later ones succeed.
    receiver.reply = (_req, index) => (index === 0 ? 'hang' : 200);
    const first = await startWorker(t.envFile);
    children.push(first);
    const queue = new NotificationQueue({ config: t.config, keys: t.keys, logger: createLogger({ level: 'silent' }), metrics: new Metrics() });
    const now = new Date().toISOString();
    await queue.enqueue(
      { v: 1, event: 'alert.raised', alert: { id: '1700000000000-0', type: 'panic', severity: 'critical', status: 'open', location: { lat: 1, lon: 2 }, reporter: { id: 'u1', username: 'kim' }, created_at: now }, at: now },
      { dedupeId: 'kill-test' },
    );
    await waitFor('the first webhook request', () => receiver.requests.length > 0, { timeoutMs: 10_000, intervalMs: 20 });
    expect(receiver.requests).toHaveLength(1);
    const killedAt = Date.now();
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const second = await startWorker(t.envFile);
    children.push(second);
    await waitFor('the redelivery', () => receiver.requests.length >= 2, { timeoutMs: 20_000, intervalMs: 50 });
    expect(receiver.requests.length).toBeGreaterThanOrEqual(2);
    const [a, b] = receiver.requests;
    expect(b?.headers['x-naboom-delivery']).toBe(a?.headers['x-naboom-delivery']);
    expect(b?.body).toBe(a?.body);
    const redeliveredAfter = (b?.at ?? 0) - killedAt;
    // The log job of the same notification completed too (kept 24 h in the completed set).
    await queue.close();
    process.stdout.write(`[worker kill -9] job interrupted mid-delivery, delivered again by another worker ${redeliveredAfter} ms after the kill (lock 2 s, stalled check 0.5 s), same delivery id\n`);
  }, 60_000);
});
