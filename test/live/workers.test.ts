/**
 * `naboom serve --workers 2`: two processes share one port, each tails the feed and delivers to its own
 * clients, /metrics answers for both, and one SIGTERM to the primary drains and stops every worker.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { spawnServe, type ServeProcess } from '../helpers/processes.js';
import { addMemberAndResponder, startTestRedis, type TestRedis } from '../helpers/redis.js';
import { get, post, sampleAlert, WsClient } from '../helpers/stack.js';

const CLIENTS = 6;

/** The pids of a process's children (the serve workers of a primary). */
const childrenOf = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('serve --workers', () => {
  let t: TestRedis;
  let s: ServeProcess;
  let member = '';
  let responder = '';
  beforeAll(async () => {
    t = await startTestRedis();
    ({ member, responder } = await addMemberAndResponder(t));
    // Info level: the workers' "role passwords changed" lines are what the SIGHUP test reads.
    s = await spawnServe(t.envFile, { SERVE_WORKERS: '2', LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await s.stop();
    await t.stop();
  });

  it('forwards SIGHUP to every worker: each re-reads a rotated password at once', async () => {
    const reloads = (): number => s.output().split('\n').filter((l) => l.includes('role passwords changed') && l.includes('"why":"SIGHUP"')).length;
    expect(reloads()).toBe(0);
    // As `naboom acl rotate` leaves it: a new password in the env file (the periodic check is 5 s away).
    const env = readFileSync(t.envFile, 'utf8');
    expect(env).toMatch(/^REDIS_MONITORING_PASSWORD=/m);
    writeFileSync(t.envFile, env.replace(/^REDIS_MONITORING_PASSWORD=.*$/m, 'REDIS_MONITORING_PASSWORD=rotated-monitoring-password-0123456789'));
    process.kill(s.child.pid ?? 0, 'SIGHUP');
    await waitFor('both workers to re-read the passwords on SIGHUP', () => reloads() === 2, { timeoutMs: 3000, intervalMs: 20 });
    writeFileSync(t.envFile, env);
  });

  it('delivers from both workers, answers /metrics for both, and stops every worker on one SIGTERM', async () => {
    expect(s.output()).toMatch(/listening on http:\/\/\S+ \(2 workers\)/);
    const workers = childrenOf(s.child.pid ?? 0);
    expect(workers).toHaveLength(2);
    // Each worker runs with a bounded young generation (an idle worker keeps no empty 32 MiB of it).
    for (const pid of workers) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=4');

    const clients = Array.from({ length: CLIENTS }, () => new WsClient(s.url, { authorization: `Bearer ${responder}` }));
    await Promise.all(clients.map((c) => c.open()));
    for (const c of clients) c.subscribe();
    await Promise.all(clients.map((c) => c.until((f) => f.some((x) => x.type === 'live'))));

    const raised = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${member}` });
    expect(raised.status).toBe(201);
    const id = (raised.body as { alert_id: string }).alert_id;
    await Promise.all(clients.map((c) => c.until((f) => f.some((x) => x.id === id))));

    // Aggregated over both workers: every client counted once, and one latency sample per worker that
    // delivered the alert — two, so the connections were spread and both workers fanned the alert out.
    const auth = { authorization: `Bearer ${t.env['METRICS_TOKEN'] ?? ''}` };
    const metrics = async (): Promise<string> => (await get(`${s.url}/metrics`, auth)).text;
    await waitFor(
      'both workers to report their clients',
      async () => new RegExp(`naboom_live_clients\\{transport="ws"\\} ${CLIENTS}\\b`).test(await metrics()),
      { timeoutMs: 5000, intervalMs: 50 },
    );
    expect(await metrics()).toMatch(/naboom_live_delivery_seconds_count\{transport="ws"\} 2\b/);

    await s.stop();
    // Every worker drained: its clients were told, then the workers exited.
    for (const c of clients) await c.until((f) => f.some((x) => x.type === 'shutdown'));
    for (const pid of workers) expect(running(pid)).toBe(false);
  });
});
