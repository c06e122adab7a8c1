/**
 * The notification worker: one BullMQ Worker on the app role (its connection plus the blocking copy BullMQ
 * makes, both in the role-client registry), a Queue handle sharing the same connection for schedules and
 * counts, and the heartbeat.
 *
 * Stopping: the heartbeat goes first (verify stops counting on this worker), then BullMQ stops fetching and
 * waits for the jobs in flight. Jobs still running after the grace period are handed back — moved to the
 * front of the wait list with their lock released — so another worker runs them at once instead of after the
 * lock expires; their signals fire so cooperative code stops. Delivery is at-least-once: a job handed back may
 * already have had an effect, which is why webhooks carry a stable delivery id.
 */
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { isNoPerm, RoleClients, type RedisClient } from '../redis/connections.js';
import { classifyRedisError, redisFailureKind } from '../redis/errors.js';
import type { KeySpace } from '../redis/keys.js';
import { PushSubscriptionStore } from '../push/subscriptions.js';
import { DATABASES } from '../redis/databases.js';
import { adoptBlockingClient, queueClient } from './connection.js';
import { WorkerHeartbeat, workerHost, type WorkerInfo } from './heartbeat.js';
import type { JobDefinition } from './jobs/job.js';
import { dispatchJob } from './jobs/dispatch.js';
import { logJob } from './jobs/log.js';
import { pushJobs } from './jobs/push.js';
import { webhookJob } from './jobs/webhook.js';
import type { JobSpec } from './notification-jobs.js';
import { createProcessor, type TrackedJob } from './processor.js';
import { DEFAULT_SUMMARY_PATTERN, registerSchedules, type RegisteredSchedule } from './schedules.js';
import { KEEP_COMPLETED, KEEP_FAILED, LOCK_DURATION_MS, MAX_STALLED_COUNT, QUEUE_NAME, STALLED_INTERVAL_MS } from './settings.js';

export interface WorkerDeps {
  readonly config: Config;
  readonly keys: KeySpace;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The process's role clients (built from the same config); their owner reloads and closes them. Without
   * them the worker builds its own, counting NOPERM replies in `metrics`, and closes them when it stops.
   */
  readonly clients?: RoleClients;
}

export interface NotificationWorkerOptions {
  /** Jobs processed in parallel; default QUEUE_CONCURRENCY. */
  readonly concurrency?: number;
  /** Cron pattern of the daily summary in TZ, or false to remove the schedule. */
  readonly summaryPattern?: string | false;
  /** Job types added to (or replacing) `webhook`, `log`, `dispatch`, `push-fanout` and `push`, by name. */
  readonly jobs?: readonly JobDefinition[];
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly heartbeat?: { readonly intervalMs?: number; readonly ttlMs?: number };
  /** How long `start()` waits for Redis before failing with the connection error; default 15 s. */
  readonly readyTimeoutMs?: number;
}

export interface StopResult {
  /** True when the grace period ran out and running jobs were handed back. */
  readonly forced: boolean;
  readonly handedBack: readonly string[];
}

interface InFlight {
  readonly job: Job;
  readonly token: string;
  readonly controller: AbortController;
  readonly handBack: (err: Error) => void;
}

/** The standard job types for a configuration; `addJobs` lets `dispatch` add the jobs it expands into. */
export function standardJobs(config: Config, addJobs: (jobs: JobSpec[]) => Promise<unknown>): JobDefinition[] {
  return [webhookJob(config), logJob, dispatchJob(config, addJobs)];
}

/** Bound on each shutdown step that talks to Redis, so an outage cannot hold the process. */
const STEP_TIMEOUT_MS = 2500;

/** True when `p` settles (either way) within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function startupError(err: Error | undefined, waitedMs: number): NaboomError {
  if (!err) return new NaboomError('NABOOM_REDIS_UNAVAILABLE', `The job queue cannot reach Redis: no answer within ${waitedMs} ms`);
  return classifyRedisError(err) ?? new NaboomError('NABOOM_REDIS_UNAVAILABLE', `The job queue cannot reach Redis: ${err.message}`, { cause: err });
}

export class NotificationWorker {
  readonly #d: WorkerDeps;
  readonly #log: Logger;
  readonly #clients: RoleClients;
  readonly #ownsClients: boolean;
  readonly #client: RedisClient;
  #blocking: RedisClient | undefined;
  #lastError: Error | undefined;
  readonly #authFailure: Promise<Error>;
  #reportAuthFailure: (err: Error) => void = () => undefined;
  readonly #worker: Worker<unknown, unknown, string>;
  readonly #queue: Queue<unknown, unknown, string>;
  readonly #heartbeat: WorkerHeartbeat;
  readonly #info: WorkerInfo;
  readonly #summary: string | false;
  readonly #readyTimeoutMs: number;
  readonly #inflight = new Map<string, InFlight>();
  #running: Promise<void> | undefined;
  #stopping: Promise<StopResult> | undefined;
  #lastErrorLog = 0;

  constructor(deps: WorkerDeps, opts: NotificationWorkerOptions = {}) {
    this.#d = deps;
    const { config } = deps;
    this.#log = deps.logger.child({ component: 'queue-worker', queue: QUEUE_NAME });
    this.#summary = opts.summaryPattern ?? DEFAULT_SUMMARY_PATTERN;
    this.#readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
    const concurrency = opts.concurrency ?? config.settings.QUEUE_CONCURRENCY;
    const jobs = new Map<string, JobDefinition>();
    const addJobs = async (specs: JobSpec[]): Promise<void> => {
      await this.#queue.addBulk(specs.map((j) => ({ name: j.name, data: j.data, opts: j.opts })));
    };
    for (const j of [...standardJobs(config, addJobs), ...(opts.jobs ?? [])]) jobs.set(j.name, j);

    this.#ownsClients = deps.clients === undefined;
    this.#clients = deps.clients ?? new RoleClients(config, deps.logger, { onNoPerm: (role) => deps.metrics.redisNoPerm.inc({ role }) });
    this.#authFailure = new Promise<Error>((resolve) => {
      this.#reportAuthFailure = resolve;
    });
    if (config.vapid) {
      // Subscriptions live beside the accounts (app role): the worker reads them and deletes the gone ones.
      const store = new PushSubscriptionStore(this.#clients.get('app', 'command', DATABASES.accounts), deps.keys, config.settings.PUSH_MAX_SUBSCRIPTIONS_PER_USER);
      for (const j of pushJobs({ config, vapid: config.vapid, store, metrics: deps.metrics, addJobs })) if (!jobs.has(j.name)) jobs.set(j.name, j);
    }
    this.#client = queueClient(this.#clients, 'blocking', 'worker');
    this.#queue = new Queue<unknown, unknown, string>(QUEUE_NAME, { connection: this.#client, prefix: deps.keys.queuePrefix });
    const processor = createProcessor({
      config,
      logger: this.#log,
      metrics: deps.metrics,
      jobs,
      counts: () => this.#queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
      track: (job, token) => this.#track(job, token),
    });
    this.#worker = new Worker<unknown, unknown, string>(QUEUE_NAME, processor, {
      connection: this.#client,
      prefix: deps.keys.queuePrefix,
      // BullMQ names the worker's blocking connection after this (`…:w:<host>:<pid>`): CLIENT LIST shows the process.
      name: `${workerHost()}:${process.pid}`,
      concurrency,
      autorun: false,
      lockDuration: opts.lockDurationMs ?? LOCK_DURATION_MS,
      stalledInterval: opts.stalledIntervalMs ?? STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      // For jobs whose options do not say (scheduled ones); producers set the same values per job.
      removeOnComplete: { ...KEEP_COMPLETED },
      removeOnFail: { ...KEEP_FAILED },
    });
    this.#info = {
      id: this.#worker.id,
      pid: process.pid,
      host: workerHost(),
      queue: QUEUE_NAME,
      concurrency,
      tz: config.settings.TZ,
      startedAt: new Date().toISOString(),
    };
    this.#heartbeat = new WorkerHeartbeat({ client: this.#client, keys: deps.keys, info: this.#info, logger: this.#log, ...opts.heartbeat });

    const onError = (err: Error): void => this.#onError(err);
    this.#worker.on('error', onError);
    this.#queue.on('error', onError);
    this.#worker.on('stalled', (jobId) => this.#log.warn({ jobId }, 'job stalled (its worker stopped renewing the lock); it returns to the queue'));
    this.#worker.on('lockRenewalFailed', (jobIds) => {
      // Another worker may pick these up: tell the running code to stop.
      for (const id of jobIds) this.#worker.cancelJob(id, 'job lock lost');
    });
  }

  get info(): WorkerInfo {
    return this.#info;
  }

  /** Connects, registers the schedules, writes the heartbeat and starts taking jobs. */
  async start(): Promise<{ schedules: RegisteredSchedule[] }> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#readyTimeoutMs);
    });
    try {
      const ready = await Promise.race([
        Promise.all([this.#worker.waitUntilReady(), this.#queue.waitUntilReady()]).then(() => 'ready' as const),
        this.#authFailure,
        deadline,
      ]);
      if (ready instanceof Error) throw startupError(ready, this.#readyTimeoutMs);
      if (ready === 'timeout') throw startupError(this.#lastError, this.#readyTimeoutMs);
    } catch (err) {
      await this.#abandon();
      throw err instanceof NaboomError ? err : startupError(err instanceof Error ? err : this.#lastError, this.#readyTimeoutMs);
    } finally {
      clearTimeout(timer);
    }
    let schedules: RegisteredSchedule[];
    try {
      this.#blocking = await adoptBlockingClient(this.#clients, this.#worker);
      schedules = await registerSchedules(this.#queue, { summaryPattern: this.#summary, tz: this.#d.config.settings.TZ });
      await this.#heartbeat.start();
    } catch (err) {
      await this.#abandon();
      throw err;
    }
    this.#running = this.#worker.run().catch((err: unknown) => this.#log.error({ err }, 'worker loop stopped with an error'));
    return { schedules };
  }

  /**
   * Stops taking jobs and waits up to `graceMs` for the running ones; then hands the rest back to the queue.
   * Closes every connection. Idempotent.
   */
  stop(graceMs: number): Promise<StopResult> {
    this.#stopping ??= (async () => {
      await within(this.#heartbeat.stop(), STEP_TIMEOUT_MS);
      const closing = this.#worker.close();
      closing.catch((err: unknown) => this.#log.warn({ err }, 'error while closing the worker'));
      const finished = await within(closing, graceMs);
      const handedBack = finished ? [] : await this.#handBackAll();
      if (!finished && !(await within(closing, STEP_TIMEOUT_MS))) {
        // Only a Redis that stopped answering gets here: fail the pending commands so the process can exit.
        this.#log.warn('the worker did not close in time (is Redis reachable?): disconnecting');
        this.#client.disconnect();
        this.#blocking?.disconnect();
        await within(closing, STEP_TIMEOUT_MS);
      }
      await within(this.#running ?? Promise.resolve(), STEP_TIMEOUT_MS);
      await within(this.#queue.close(), STEP_TIMEOUT_MS);
      if (this.#ownsClients) await this.#clients.close();
      return { forced: !finished, handedBack };
    })();
    return this.#stopping;
  }

  /**
   * Re-reads the app password (after `naboom acl rotate`) into the worker's role clients, the blocking copy
   * included; true when it changed.
   */
  reloadCredentials(): boolean {
    return this.#clients.reloadCredentials().includes('app');
  }

  /** Number of jobs this worker is running now. */
  get running(): number {
    return this.#inflight.size;
  }

  #track(job: Job, token: string): TrackedJob {
    const controller = new AbortController();
    let handBack: (err: Error) => void = () => undefined;
    const handedBack = new Promise<never>((_, reject) => {
      handBack = reject;
    });
    handedBack.catch(() => undefined);
    const key = job.id ?? token;
    this.#inflight.set(key, { job, token, controller, handBack });
    return { signal: controller.signal, handedBack, done: () => this.#inflight.delete(key) };
  }

  async #handBackAll(): Promise<string[]> {
    const entries = [...this.#inflight.values()];
    const handed: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        // Order matters: give the job back first, then release the processor, then tell the code to stop, so
        // BullMQ never records a result for a job that is already waiting again.
        const moved = e.job.moveToWait(e.token).then(
          () => true,
          (err: unknown) => {
            this.#log.warn({ err, jobId: e.job.id }, 'could not hand the job back; it returns when its lock expires');
            return false;
          },
        );
        if ((await within(moved, STEP_TIMEOUT_MS)) && (await moved)) handed.push(e.job.id ?? '');
        e.handBack(new WaitingError('worker shut down before the job finished; handed back to the queue'));
        e.controller.abort(new Error('worker shutting down'));
      }),
    );
    if (handed.length) this.#log.warn({ jobs: handed }, 'shutdown grace period over: running jobs handed back to the queue');
    return handed;
  }

  /** Start-up failed: close what was opened without waiting for anything. */
  async #abandon(): Promise<void> {
    await this.#worker.close(true).catch(() => undefined);
    await this.#queue.close().catch(() => undefined);
    if (this.#ownsClients) await this.#clients.close();
  }

  /** BullMQ passes on the errors of both connections: a refused login stops start-up at once. */
  #onError(err: Error): void {
    this.#lastError = err;
    if (redisFailureKind(err) === 'auth') this.#reportAuthFailure(err);
    // Counted per role where the reply arrived (RoleClients); the worker's log says which job loop met it.
    if (isNoPerm(err)) {
      this.#log.error({ err }, 'redis refused a queue command (NOPERM)');
      return;
    }
    const now = Date.now();
    if (now - this.#lastErrorLog < 5000) return;
    this.#lastErrorLog = now;
    this.#log.warn({ err }, 'queue worker error');
  }
}
