/**
 * The producer: `enqueue(event)` adds one `log` job and one `webhook` job per NOTIFY_WEBHOOK_URLS entry, in
 * one round trip, on one app-role connection created with the queue (`naboom:app:<pid>:queue`). It is on the
 * request path, so it fails fast: commands time out (REDIS_COMMAND_TIMEOUT_MS) and the whole call is bounded.
 *
 * With `dedupeId` (e.g. the alert id plus the event), job ids are derived from it, so calling `enqueue` again
 * for the same event — a client retry, a replayed request — adds nothing while the first jobs are still kept
 * (completed: a day, failed: a week).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { isNoPerm } from '../redis/connections.js';
import { openQueueConnection, type QueueConnection } from './connection.js';
import { notificationEventSchema, type NotificationEvent, type NotificationEventInput } from './events.js';
import type { JobType } from './jobs/job.js';
import type { LogPayload } from './jobs/log.js';
import type { WebhookPayload } from './jobs/webhook.js';
import { DEFAULT_BACKOFF_MS, defaultJobOptions, QUEUE_NAME } from './settings.js';

export interface NotificationQueueDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** First retry delay (exponential after that); default 2 s. */
  readonly backoffMs?: number;
}

export interface EnqueueOptions {
  /** Stable id of this notification (e.g. `<alert id>.<event>`): the same id never enqueues twice. */
  readonly dedupeId?: string;
}

const READABLE_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Job ids derived from the dedupe id: readable (`log.raised-1712345678901-0`) when it is short and plain,
 * else a hash, so any dedupe id works and BullMQ's id rules (no ':') always hold. A webhook job also names
 * its URL, so it is always hashed.
 */
export function derivedId(type: JobType, dedupeId: string, target = ''): string {
  if (target === '' && READABLE_ID.test(dedupeId)) return `${type}.${dedupeId}`;
  return `${type}.${createHash('sha256').update(`${type}\0${dedupeId}\0${target}`).digest('hex').slice(0, 40)}`;
}

type AnyPayload = LogPayload | WebhookPayload;

export class NotificationQueue {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #conn: QueueConnection;
  readonly #queue: Queue<AnyPayload, unknown, JobType>;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(deps: NotificationQueueDeps) {
    this.#config = deps.config;
    this.#log = deps.logger.child({ component: 'queue-producer', queue: QUEUE_NAME });
    this.#metrics = deps.metrics;
    this.#conn = openQueueConnection(deps.config, 'command', 'queue', this.#log);
    this.#queue = new Queue<AnyPayload, unknown, JobType>(QUEUE_NAME, {
      connection: this.#conn.client,
      prefix: deps.config.keys.queuePrefix,
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
   * Validates the event and adds its jobs; returns their ids (the existing ids when `dedupeId` was seen before).
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
   */
  async enqueueEvent(ev: NotificationEvent, opts: EnqueueOptions = {}): Promise<string[]> {
    if (this.#closed) throw new NaboomError('NABOOM_SHUTTING_DOWN', 'The notification queue is closed');
    const dedupe = opts.dedupeId;
    const jobs: { name: JobType; data: AnyPayload; opts?: JobsOptions }[] = [];
    jobs.push({ name: 'log', data: { v: 1, kind: 'event', event: ev }, opts: dedupe ? { jobId: derivedId('log', dedupe) } : {} });
    for (const url of this.#config.settings.NOTIFY_WEBHOOK_URLS) {
      const jobId = dedupe ? derivedId('webhook', dedupe, url) : undefined;
      const data: WebhookPayload = { v: 1, url, deliveryId: jobId ?? `webhook.${randomUUID()}`, event: ev };
      jobs.push({ name: 'webhook', data, opts: jobId ? { jobId } : {} });
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      // One job (no webhooks configured) goes through `add`: a single script call, cheaper than addBulk's MULTI.
      const only = jobs.length === 1 ? jobs[0] : undefined;
      const added = await Promise.race([
        only ? this.#queue.add(only.name, only.data, only.opts).then((j) => [j]) : this.#queue.addBulk(jobs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NaboomError('NABOOM_UNAVAILABLE', `The job queue did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
        }),
      ]);
      return added.map((j) => j.id ?? '');
    } catch (err) {
      if (isNoPerm(err)) this.#metrics.redisNoPerm.inc({ role: 'app' });
      this.#log.error({ err, event: ev.event, alert: ev.alert.id }, 'could not enqueue notification jobs');
      if (err instanceof NaboomError) throw err;
      throw new NaboomError('NABOOM_UNAVAILABLE', 'The job queue is unavailable', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The most recent failed jobs, newest first, with their reasons (for inspection). */
  async failed(limit = 20): Promise<{ id: string; type: string; reason: string; attempts: number; failedAt: number | undefined }[]> {
    const jobs = await this.#queue.getFailed(0, Math.max(0, limit - 1));
    return jobs.map((j) => ({ id: j.id ?? '', type: j.name, reason: j.failedReason, attempts: j.attemptsMade, failedAt: j.finishedOn }));
  }

  /** Re-reads the app password (after `naboom acl rotate app`); true when it changed. */
  reloadCredentials(): boolean {
    return this.#conn.reloadCredentials();
  }

  /** Closes the queue and its connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.close();
    await this.#conn.close();
  }
}
