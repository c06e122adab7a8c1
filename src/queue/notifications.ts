/**
 * The producer: `enqueue(event)` adds one `log` job and one `webhook` job per NOTIFY_WEBHOOK_URLS entry, in
 * one round trip, on one app-role connection created with the queue (`naboom:app:<pid>:queue`). Events
 * enqueued in the same event-loop turn (a burst of alerts) travel as one `dispatch` job that the worker
 * expands into the same jobs. It is on the request path, so it fails fast: commands time out
 * (REDIS_COMMAND_TIMEOUT_MS) and the whole call is bounded.
 *
 * With `dedupeId` (e.g. the alert id plus the event), job ids are derived from it, so calling `enqueue` again
 * for the same event — a client retry, a replayed request — adds nothing while the first jobs are still kept
 * (completed: a day, failed: a week).
 */
import { Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { TurnBatcher } from '../redis/batch.js';
import { RoleClients } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { queueClient } from './connection.js';
import { notificationEventSchema, type NotificationEvent, type NotificationEventInput } from './events.js';
import type { DispatchPayload } from './jobs/dispatch.js';
import { DISPATCH_MAX_EVENTS } from './jobs/dispatch.js';
import type { JobType } from './jobs/job.js';
import { derivedId, notificationJobs, type JobSpec } from './notification-jobs.js';
import { DEFAULT_BACKOFF_MS, defaultJobOptions, QUEUE_NAME } from './settings.js';

export interface NotificationQueueDeps {
  readonly config: Config;
  readonly keys: KeySpace;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The process's role clients (built from the same config); their owner reloads and closes them. Without
   * them the queue builds its own, counting NOPERM replies in `metrics`, and closes them with the queue.
   */
  readonly clients?: RoleClients;
  /** First retry delay (exponential after that); default 2 s. */
  readonly backoffMs?: number;
}

export interface EnqueueOptions {
  /** Stable id of this notification (e.g. `<alert id>.<event>`): the same id never enqueues twice. */
  readonly dedupeId?: string;
}

type AnyPayload = JobSpec['data'] | DispatchPayload;
type DispatchItem = DispatchPayload['items'][number];

export class NotificationQueue {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #clients: RoleClients;
  readonly #ownsClients: boolean;
  readonly #queue: Queue<AnyPayload, unknown, JobType>;
  readonly #timeoutMs: number;
  readonly #batch = new TurnBatcher<DispatchItem, string[]>((items) => this.#addBatch(items), DISPATCH_MAX_EVENTS);
  #closed = false;

  constructor(deps: NotificationQueueDeps) {
    this.#config = deps.config;
    this.#log = deps.logger.child({ component: 'queue-producer', queue: QUEUE_NAME });
    this.#ownsClients = deps.clients === undefined;
    this.#clients = deps.clients ?? new RoleClients(deps.config, deps.logger, { onNoPerm: (role) => deps.metrics.redisNoPerm.inc({ role }) });
    this.#queue = new Queue<AnyPayload, unknown, JobType>(QUEUE_NAME, {
      connection: queueClient(this.#clients, 'command', 'queue'),
      prefix: deps.keys.queuePrefix,
      defaultJobOptions: defaultJobOptions(deps.config, deps.backoffMs ?? DEFAULT_BACKOFF_MS),
    });
    let lastLog = 0;
    this.#queue.on('error', (err) => {
      // Connection errors repeat on every reconnect attempt and are already logged by the connection.
      const now = Date.now();
      if (now - lastLog < 5000) return;
      lastLog = now;
      this.#log.warn({ err }, 'queue producer error');
    });
    // Start-up may wait for Redis; later calls fail within the command timeout.
    this.#timeoutMs = Math.max(3 * deps.config.settings.REDIS_COMMAND_TIMEOUT_MS, 5000);
  }

  /** The underlying BullMQ queue (inspection, tests). */
  get queue(): Queue<AnyPayload, unknown, JobType> {
    return this.#queue;
  }

  /**
   * Validates the event and adds its jobs; returns their ids (the existing ids when `dedupeId` was seen before;
   * the `dispatch` job's id when other events were enqueued in the same turn, see `enqueueEvent`).
   * Throws NABOOM_JOB_INVALID for an invalid event and NABOOM_UNAVAILABLE when Redis does not answer in time.
   */
  async enqueue(event: NotificationEventInput, opts: EnqueueOptions = {}): Promise<string[]> {
    const parsed = notificationEventSchema.safeParse(event);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new NaboomError('NABOOM_JOB_INVALID', `Invalid notification event: ${problems.slice(0, 5).join('; ')}`, { details: problems });
    }
    return await this.enqueueEvent(parsed.data, opts);
  }

  /**
   * `enqueue` for an event built by our own typed code (the alert service, whose alert documents are
   * validated where they are read): no second validation on the hot path. The worker still parses every
   * job from `unknown`.
   *
   * Events enqueued in the same turn of the event loop are added together: one event becomes its own jobs
   * (one `log`, one `webhook` per URL); several become one `dispatch` job that the worker expands into those
   * same jobs, with the same ids. Either way the event is durably queued when this resolves. Returns the ids
   * of the jobs that carry the event (its own jobs, or the dispatch job).
   */
  async enqueueEvent(ev: NotificationEvent, opts: EnqueueOptions = {}): Promise<string[]> {
    if (this.#closed) throw new NaboomError('NABOOM_SHUTTING_DOWN', 'The notification queue is closed');
    return await this.#batch.submit({ event: ev, ...(opts.dedupeId !== undefined ? { dedupeId: opts.dedupeId } : {}) });
  }

  async #addBatch(items: readonly DispatchItem[]): Promise<string[][]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = items[0];
      const work: Promise<string[][]> =
        items.length === 1 && first !== undefined ? this.#addOwnJobs(first).then((ids) => [ids]) : this.#addDispatch(items).then((id) => items.map(() => [id]));
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NaboomError('NABOOM_UNAVAILABLE', `The job queue did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
        }),
      ]);
    } catch (err) {
      this.#log.error({ err, events: items.length, alerts: items.slice(0, 10).map((i) => i.event.alert.id) }, 'could not enqueue notification jobs');
      if (err instanceof NaboomError) throw err;
      throw new NaboomError('NABOOM_UNAVAILABLE', 'The job queue is unavailable', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** One event: its own jobs (the queue adds its default options). */
  async #addOwnJobs(item: DispatchItem): Promise<string[]> {
    const jobs = notificationJobs(this.#config, item.event, item.dedupeId);
    // One job (no webhooks configured) goes through `add`: a single script call, cheaper than addBulk's MULTI.
    const only = jobs.length === 1 ? jobs[0] : undefined;
    const added = only ? [await this.#queue.add(only.name, only.data, only.opts)] : await this.#queue.addBulk(jobs.map((j) => ({ ...j })));
    return added.map((j) => j.id ?? '');
  }

  /** Several events: one `dispatch` job (its id derived from theirs when they all have dedupe ids). */
  async #addDispatch(items: readonly DispatchItem[]): Promise<string> {
    const dedupeIds = items.map((i) => i.dedupeId);
    const jobId = dedupeIds.every((d) => d !== undefined) ? derivedId('dispatch', dedupeIds.join('\n'), 'batch') : undefined;
    const job = await this.#queue.add('dispatch', { v: 1, items: [...items] }, jobId ? { jobId } : {});
    return job.id ?? '';
  }

  /** The most recent failed jobs, newest first, with their reasons (for inspection). */
  async failed(limit = 20): Promise<{ id: string; type: string; reason: string; attempts: number; failedAt: number | undefined }[]> {
    const jobs = await this.#queue.getFailed(0, Math.max(0, limit - 1));
    return jobs.map((j) => ({ id: j.id ?? '', type: j.name, reason: j.failedReason, attempts: j.attemptsMade, failedAt: j.finishedOn }));
  }

  /** Jobs per state (waiting, active, delayed, prioritized, completed, failed). */
  async counts(): Promise<Record<string, number>> {
    return await this.#queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  }

  /** Closes the queue, and its connection when the queue built its own role clients. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.close();
    if (this.#ownsClients) await this.#clients.close();
  }
}
