/**
 * `naboom verify` round trip for the job queue (section `roundtrip`, role `app`): is a worker alive (its
 * heartbeat), and does it complete a job — a `log` job marked as a verification — within 10 s?
 * No heartbeat is a warning, not a failure: a deployment may run its workers elsewhere or not yet.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { RoleClients } from '../redis/connections.js';
import type { CheckResult, VerifyContext } from '../verify/types.js';
import { queueClient } from './connection.js';
import { liveWorkers, type WorkerInfo } from './heartbeat.js';
import type { LogPayload } from './jobs/log.js';
import { QUEUE_NAME } from './settings.js';

const ROUND_TRIP_TIMEOUT_MS = 10_000;
const POLL_MS = 100;

const check = (name: string, status: CheckResult['status'], detail: string, hint?: string): CheckResult => ({
  section: 'roundtrip',
  role: 'app',
  name,
  status,
  detail,
  ...(hint ? { hint } : {}),
});

export async function queueRoundTrip(ctx: VerifyContext, opts: { timeoutMs?: number } = {}): Promise<CheckResult[]> {
  const timeoutMs = opts.timeoutMs ?? ROUND_TRIP_TIMEOUT_MS;
  const prefix = ctx.keys.queuePrefix;
  const clients = new RoleClients(ctx.config, ctx.logger);
  const client = queueClient(clients, 'command', 'queue-roundtrip');
  const queue = new Queue<LogPayload, unknown, 'log'>(QUEUE_NAME, { connection: client, prefix });
  queue.on('error', () => undefined);
  const name = `job queue "${QUEUE_NAME}": a worker completes a job`;
  try {
    let workers: WorkerInfo[];
    try {
      workers = await liveWorkers(client, ctx.keys);
    } catch (err) {
      return [check(name, 'fail', `cannot read worker heartbeats: ${(err as Error).message}`, 'Run `naboom acl diff`; the app role needs its queue keys.')];
    }
    if (workers.length === 0) {
      return [check(name, 'warn', `no worker running (no heartbeat under ${ctx.keys.queue.workers})`, 'Start one with `naboom worker`; queued notifications wait until then.')];
    }
    const nonce = randomBytes(8).toString('hex');
    const started = Date.now();
    const job = await queue.add('log', { v: 1, kind: 'verify', nonce }, { jobId: `verify.${nonce}`, attempts: 1, removeOnFail: { age: 3600 } });
    const id = job.id ?? `verify.${nonce}`;
    let state = 'unknown';
    while (Date.now() - started < timeoutMs) {
      state = await queue.getJobState(id);
      if (state === 'completed' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const ms = Date.now() - started;
    const who = `${workers.length} worker(s) alive: ${workers.map((w) => `${w.host}:${w.pid}`).join(', ')}`;
    if (state === 'completed') {
      await queue.remove(id).catch(() => 0);
      return [check(name, 'pass', `${who}; verification job completed in ${ms} ms`)];
    }
    if (state === 'failed') {
      const failed = await queue.getJob(id);
      return [check(name, 'fail', `${who}; the verification job failed: ${failed?.failedReason ?? 'unknown reason'}`, 'Read the worker log for the job id.')];
    }
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
    await queue.remove(id).catch(() => 0);
    return [
      check(
        name,
        'fail',
        `${who}; the verification job was still "${state}" after ${timeoutMs} ms (waiting ${counts['waiting'] ?? 0}, active ${counts['active'] ?? 0}, delayed ${counts['delayed'] ?? 0})`,
        'The worker is alive but not taking jobs: check its log, its Redis connection and whether it is busy with a backlog.',
      ),
    ];
  } catch (err) {
    return [check(name, 'fail', (err as Error).message, 'Is Redis reachable as the app role? Run `naboom acl diff`.')];
  } finally {
    await queue.close().catch(() => undefined);
    await clients.close();
  }
}
