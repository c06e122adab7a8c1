/**
 * The original Django services — Debian's Django 3.2, django-redis 5.2, channels_redis 4.0, Celery 5.2 — on a
 * redis-server provisioned with the ACL `naboom init --django` generates, configured by the module
 * `naboom django settings` writes. Naboom's caches and Django's read each other's values; ACL LOG stays empty.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaches, type Caches } from '../../src/cache/caches.js';
import { RedisHealth } from '../../src/health/redis-health.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { DATABASES } from '../../src/redis/databases.js';
import { DJANGO_PREFIXES } from '../../src/redis/keys.js';
import { RoleClients } from '../../src/redis/connections.js';
import { djangoChecks } from '../../src/verify/django-checks.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const PYTHON = '/usr/bin/python3';
const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODULES = ['django', 'django_redis', 'channels', 'channels_redis', 'celery'];
/** Characters that change a URL's meaning unless percent-encoded. */
const APP_PASSWORD = `p@ss:w/rd%+&?=~${'x'.repeat(24)}`;

interface Py {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the original Django services on the Django ACL profile', () => {
  let t: TestRedis;
  let admin: Redis;
  let clients: RoleClients;
  let caches: Caches;
  const workers: ChildProcess[] = [];
  let pyEnv: NodeJS.ProcessEnv;

  const runPy = async (args: readonly string[], timeoutMs = 30_000): Promise<Py> => {
    const child = spawn(PYTHON, args, { cwd: HERE, env: pyEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    clearTimeout(timer);
    return { code, stdout, stderr };
  };
  const startWorker = (): ChildProcess => {
    const args = ['-m', 'celery', '-A', 'celery_app', 'worker', '--pool', 'solo', '--without-gossip', '--without-mingle', '--without-heartbeat', '--loglevel', 'WARNING'];
    const child = spawn(PYTHON, args, { cwd: HERE, env: pyEnv, stdio: 'ignore' });
    workers.push(child);
    return child;
  };
  const exited = (child: ChildProcess): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
  const aclLog = async (): Promise<unknown[]> => (await admin.call('ACL', 'LOG')) as unknown[];

  beforeAll(async () => {
    const missing = MODULES.filter((m) => spawnSync(PYTHON, ['-c', `import ${m}`]).status !== 0);
    if (missing.length > 0) throw new Error(`${PYTHON} lacks ${missing.join(', ')}: run ./scripts/ensure-system-deps.sh --browser (make test does)`);
    t = await startTestRedis({ env: { DJANGO_COMPAT: 'true', REDIS_APP_PASSWORD: APP_PASSWORD } });
    const out = join(t.dir, 'naboom_redis.py');
    const gen = await runCli(['--env-file', t.envFile, 'django', 'settings', '--out', out]);
    if (gen.code !== 0) throw new Error(`django settings failed: ${gen.stderr}`);
    pyEnv = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: t.dir,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONPATH: `${t.dir}:${HERE}`,
      DJANGO_SETTINGS_MODULE: 'dj_settings',
      ...t.env,
    };
    admin = await connectAdmin(t.config);
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    caches = createCaches({ clients, keys: t.keys, logger: createLogger({ level: 'silent' }), metrics: new Metrics() });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) {
      if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
      await exited(w);
    }
    await clients?.close();
    admin?.disconnect();
    await t?.stop();
  });

  it('the generated ACL carries the profile: acl diff in sync, verify passes its Django section', async () => {
    const diff = await runCli(['--env-file', t.envFile, 'acl', 'diff']);
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    const v = await runCli(['--env-file', t.envFile, 'verify', '--json']);
    const report = JSON.parse(v.stdout) as { checks: { section: string; status: string; name: string; detail: string }[] };
    expect(report.checks.filter((c) => c.status === 'fail'), v.stdout).toEqual([]);
    const django = report.checks.filter((c) => c.section === 'django');
    expect(django.length).toBeGreaterThan(50);
    expect(django.every((c) => c.status === 'pass')).toBe(true);
    // verify's deliberate refusals are done; what follows must not add a single entry.
    await admin.call('ACL', 'LOG', 'RESET');
  }, 45_000);

  it('django-redis (three caches), cache sessions and channels_redis with encryption; each side reads the other\'s cache values', async () => {
    for (const name of ['default', 'sessions', 'realtime'] as const) expect(await caches[name].set('from-naboom', { source: 'naboom', cache: name })).toBe(true);
    const r = await runPy(['services_check.py']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    for (const name of ['default', 'sessions', 'realtime'] as const) expect(await caches[name].get('from-django')).toEqual({ source: 'django', cache: name });
    expect(await aclLog()).toEqual([]);
  }, 30_000);

  it('Celery: a solo worker completes a task, and a killed worker\'s task is delivered again', async () => {
    const first = startWorker();
    const add = await runPy(['celery_client.py', 'add']);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toEqual({ result: 5 });

    const marker = join(t.dir, 'hang-started');
    const sent = await runPy(['celery_client.py', 'hang', marker]);
    expect(sent.code, sent.stderr).toBe(0);
    const { id } = JSON.parse(sent.stdout) as { id: string };
    await waitFor('the task to start on the first worker', () => existsSync(marker), { timeoutMs: 20_000, intervalMs: 50 });
    first.kill('SIGKILL');
    await exited(first);
    // A starting worker restores only deliveries older than the visibility timeout (1 s in the test settings),
    // and after that only every tenth 10-second tick: start the next one once the killed delivery is old enough
    // on Redis' own clock, or a fast machine starts it too early and waits minutes for the restore.
    const broker = await connectAdmin(t.config);
    try {
      await broker.select(DATABASES.queue);
      await waitFor(
        'the killed delivery to pass its visibility timeout',
        async () => {
          const [nowS] = await broker.time();
          const index = await broker.zrange(`${DJANGO_PREFIXES.celery}unacked_index`, '0', '-1', 'WITHSCORES');
          return index.length >= 2 && Number(index[1]) < Number(nowS) - 1;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
    } finally {
      broker.disconnect();
    }

    const second = startWorker();
    const result = await runPy(['celery_client.py', 'wait', id], 40_000);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ result: 'redelivered' });
    second.kill('SIGTERM');
    await exited(second);
    expect(await aclLog()).toEqual([]);
  }, 50_000);

  it('/health/redis proves the Django grants of every role, still with no denial', async () => {
    const report = await new RedisHealth(clients, t.config, t.keys, { cacheMs: 0 }).check();
    expect(report.overall_status).toBe('healthy');
    expect(report.redis_acl_health['app_user']?.operations).toEqual(expect.arrayContaining(['django:SETEX', 'django:PUBLISH']));
    expect(report.redis_acl_health['websocket_user']?.operations).toEqual(expect.arrayContaining(['django:ZCOUNT', 'django:ZPOPMIN']));
    expect(report.redis_acl_health['realtime_user']?.operations).toEqual(expect.arrayContaining(['django:PEXPIRE', 'django:PTTL', 'django:EXISTS']));
    expect(await aclLog()).toEqual([]);
  });

  it('verify\'s Django section fails when a grant the libraries need is missing from the live ACL', async () => {
    await admin.call('ACL', 'SETUSER', t.config.credentials.websocket.username, '-zpopmin');
    try {
      const checks = await djangoChecks({ config: t.config, keys: t.keys, logger: createLogger({ level: 'silent' }), clients: new Map(), admin });
      const failed = checks.filter((c) => c.status === 'fail');
      expect(failed.map((c) => c.name)).toEqual([`channels_redis RedisChannelLayer.receive() as ${t.config.credentials.websocket.username}`]);
      expect(failed[0]?.detail).toMatch(/ZPOPMIN/);
    } finally {
      await admin.call('ACL', 'SETUSER', t.config.credentials.websocket.username, '+zpopmin');
    }
  });
});
