/**
 * `naboom worker` as a real child process (the built CLI): start-up, SIGTERM while a job runs (the job
 * finishes, exit 0), SIGTERM after the grace period (the job is handed back and another worker completes it,
 * exit 0), and clear start-up errors.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { createKeySpace } from '../../src/redis/keys.js';
import { NotificationQueue } from '../../src/queue/notifications.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { childEnv, NABOOM_BIN, runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/local/wait.js';
import { aclLog, sampleEvent, settled, startReceiver, type Receiver } from './helpers.js';

interface RunningWorker {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

function spawnWorker(envFile: string, args: string[]): RunningWorker {
  const child = spawn(process.execPath, [NABOOM_BIN, 'worker', ...args], { env: childEnv({ NABOOM_ENV_FILE: envFile }), stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  child.stderr.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, logs, exited };
}

const logged = (w: RunningWorker, msg: string | RegExp): Record<string, unknown> | undefined =>
  w.logs.find((l) => (typeof msg === 'string' ? l['msg'] === msg : msg.test(String(l['msg']))));

describe('naboom worker (child process)', () => {
  let t: TestRedis;
  let rx: Receiver;
  let admin: Redis;
  let producer: NotificationQueue;
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    rx = await startReceiver();
    t = await startTestRedis({
      env: { NOTIFY_WEBHOOK_URLS: `${rx.url}/hook`, NOTIFY_WEBHOOK_SECRET: 'whsec-cli-0123456789abcdef0123456789', NOTIFY_WEBHOOK_TIMEOUT_MS: '20000', LOG_LEVEL: 'info' },
    });
    admin = await connectAdmin(t.config);
    await admin.select(2);
    producer = new NotificationQueue({ config: t.config, keys: t.keys, logger, metrics: new Metrics() });
  });
  afterAll(async () => {
    await producer?.close();
    admin?.disconnect();
    await rx?.close();
    await t?.stop();
  });

  it('--help describes the command', async () => {
    const r = await runCli(['worker', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--concurrency <n>/);
    expect(r.stdout).toMatch(/--grace <seconds>/);
    expect(r.stdout).toMatch(/--summary <cron\|off>/);
  });

  it('SIGTERM while a job runs: no new jobs, the running job finishes, exit 0', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    rx.reply = () => ({ status: 200, release: held });
    const w = spawnWorker(t.envFile, ['--grace', '20', '--summary', 'off']);
    try {
      const started = await waitFor('worker start-up log', () => logged(w, 'worker started'), { timeoutMs: 15_000 });
      expect(started).toMatchObject({ queue: 'notifications', concurrency: 6, tz: 'Africa/Johannesburg', prefix: 'naboom:queue', webhooks: 1 });
      const id = String(started['worker']);
      expect(await admin.exists(createKeySpace('standalone').queue.worker(id))).toBe(1);

      const before = rx.requests.length;
      const [logId, hookId] = (await producer.enqueue(sampleEvent('1712345678990-0'))) as [string, string];
      expect(await settled(producer.queue, logId)).toBe('completed');
      await waitFor('the webhook request to arrive', () => rx.requests.length > before);

      w.child.kill('SIGTERM');
      await waitFor('the stopping log line', () => logged(w, /^stopping/));
      // Not taking jobs any more: the heartbeat is gone and a new job stays waiting.
      await waitFor('heartbeat removal', async () => (await admin.exists(createKeySpace('standalone').queue.worker(id))) === 0);
      const [lateLog] = (await producer.enqueue(sampleEvent('1712345678991-0'))) as [string];
      expect(await producer.queue.getJobState(hookId)).toBe('active');

      release();
      expect(await w.exited).toBe(0);
      expect(await producer.queue.getJobState(hookId)).toBe('completed');
      expect((await producer.queue.getJob(hookId))?.attemptsMade).toBe(1);
      expect(logged(w, 'worker stopped')).toMatchObject({ forced: false, handedBack: [] });
      expect(await producer.queue.getJobState(lateLog)).toBe('waiting');
    } finally {
      release();
      w.child.kill('SIGKILL');
    }
  });

  it('SIGTERM after the grace period: the running job is handed back, another worker completes it, exit 0', async () => {
    // Clear what the previous test left waiting, so the second worker only has this job to do.
    await producer.queue.drain();
    const seen = new Map<string, number>();
    rx.reply = (r) => {
      const d = String(r.headers['x-naboom-delivery']);
      const n = (seen.get(d) ?? 0) + 1;
      seen.set(d, n);
      return n === 1 ? 'hang' : 200;
    };
    const w = spawnWorker(t.envFile, ['--grace', '1', '--summary', 'off']);
    let other: NotificationWorker | undefined;
    try {
      await waitFor('worker start-up log', () => logged(w, 'worker started'), { timeoutMs: 15_000 });
      const [, hookId] = (await producer.enqueue(sampleEvent('1712345678992-0'))) as [string, string];
      const delivery = ((await producer.queue.getJob(hookId))!.data as { deliveryId: string }).deliveryId;
      await waitFor('the first delivery attempt', () => seen.get(delivery) === 1);

      const signalled = Date.now();
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(5000);
      expect(logged(w, 'worker stopped')).toMatchObject({ forced: true, handedBack: [hookId] });
      // Back at the head of the wait list at once, not after a lock expiry.
      expect(await producer.queue.getJobState(hookId)).toBe('waiting');

      other = new NotificationWorker({ config: t.config, keys: t.keys, logger, metrics: new Metrics() }, { summaryPattern: false });
      await other.start();
      expect(await settled(producer.queue, hookId)).toBe('completed');
      const reqs = rx.requests.filter((r) => r.headers['x-naboom-delivery'] === delivery);
      expect(reqs).toHaveLength(2);
      expect(reqs[0]!.body).toBe(reqs[1]!.body);
    } finally {
      w.child.kill('SIGKILL');
      await other?.stop(1000);
    }
  });

  it('--metrics-port serves the job metrics (METRICS_TOKEN required when set) and /health/live', async () => {
    const token = 'metrics-token-0123456789abcdef0123';
    const envFile = join(t.dir, 'metrics.env');
    writeFileSync(envFile, `${readFileSync(t.envFile, 'utf8')}METRICS_TOKEN=${token}\n`, { mode: 0o600 });
    rx.reply = () => 200;
    const w = spawnWorker(envFile, ['--metrics-port', '0', '--summary', 'off']);
    try {
      const started = await waitFor('worker start-up log', () => logged(w, 'worker started'), { timeoutMs: 15_000 });
      const url = String(started['metrics']);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const [logId] = (await producer.enqueue(sampleEvent('1712345678993-0'))) as [string];
      expect(await settled(producer.queue, logId)).toBe('completed');

      const refused = await fetch(url);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('NABOOM_UNAUTHENTICATED');
      const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(text).toMatch(/naboom_jobs_total\{type="log",outcome="completed"\} [1-9]/);
      expect(text).not.toContain(token);
      expect((await fetch(url.replace('/metrics', '/health/live'))).status).toBe(200);
      expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);

      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      w.child.kill('SIGKILL');
    }
    const bad = await runCli(['worker', '--metrics-host', '0.0.0.0'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/NABOOM_USAGE: --metrics-host needs --metrics-port/);
  });

  it('start-up errors are clear: a missing password names the variable; a wrong one is NABOOM_REDIS_AUTH', async () => {
    const missing = join(t.dir, 'missing.env');
    writeFileSync(missing, `REDIS_PORT=${t.port}\n`, { mode: 0o600 });
    const r1 = await runCli(['worker'], { env: { NABOOM_ENV_FILE: missing } });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/error NABOOM_CONFIG_MISSING_SECRET: Missing or empty: REDIS_APP_PASSWORD \(required by naboom worker\)/);

    const wrong = join(t.dir, 'wrong.env');
    writeFileSync(wrong, `REDIS_PORT=${t.port}\nREDIS_APP_PASSWORD=not-the-password-0123456789abcdef\nLOG_LEVEL=silent\n`, { mode: 0o600 });
    const started = Date.now();
    const r2 = await runCli(['worker'], { env: { NABOOM_ENV_FILE: wrong }, timeoutMs: 20_000 });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/error NABOOM_REDIS_AUTH: /);
    expect(r2.stderr).not.toContain('not-the-password');
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('left no denial in ACL LOG but the wrong password of the previous test', async () => {
    const entries = await aclLog(admin);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((e) => !(e.reason === 'auth' && e.username === 'app_user'))).toEqual([]);
  });
});
