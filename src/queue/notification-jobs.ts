/**
 * The jobs one notification event becomes: one `log` job, one `webhook` job per NOTIFY_WEBHOOK_URLS
 * entry, and for `alert.raised` and `alert.escalated` one `push-fanout` job when VAPID keys are configured
 * (for the nearest stage of the dispatch policy, limited to the dispatched responders). Built in one place for the producer (a single event on the request path) and for the `dispatch`
 * job (events raised together, expanded by the worker), so both derive the same job ids from the same
 * dedupe id and an event is never notified twice, whichever way it arrived.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { Config } from '../config/load.js';
import { ALERT_EVENTS } from '../alerts/model.js';
import { pushMessageOf } from '../push/model.js';
import type { NotificationEvent } from './events.js';
import type { JobType } from './jobs/job.js';
import type { LogPayload } from './jobs/log.js';
import type { PushFanoutPayload, PushPayload } from './jobs/push-payloads.js';
import type { WebhookPayload } from './jobs/webhook.js';

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

export interface JobSpec {
  readonly name: JobType;
  readonly data: LogPayload | WebhookPayload | PushFanoutPayload | PushPayload;
  readonly opts: JobsOptions;
}

/** The jobs for one event; `defaults` are the queue's job options (attempts, backoff, retention). */
export function notificationJobs(config: Config, ev: NotificationEvent, dedupeId: string | undefined, defaults: JobsOptions = {}): JobSpec[] {
  const jobs: JobSpec[] = [{ name: 'log', data: { v: 1, kind: 'event', event: ev }, opts: dedupeId ? { ...defaults, jobId: derivedId('log', dedupeId) } : defaults }];
  for (const url of config.settings.NOTIFY_WEBHOOK_URLS) {
    const jobId = dedupeId ? derivedId('webhook', dedupeId, url) : undefined;
    const data: WebhookPayload = { v: 1, url, deliveryId: jobId ?? `webhook.${randomUUID()}`, event: ev };
    jobs.push({ name: 'webhook', data, opts: jobId ? { ...defaults, jobId } : defaults });
  }
  if (config.vapid && (ev.event === ALERT_EVENTS.raised || ev.event === ALERT_EVENTS.escalated)) {
    // Without a dedupe id the fan-out gets a fresh one: its pushes are then deduplicated per fan-out only.
    const id = dedupeId !== undefined && /^[A-Za-z0-9._-]{1,200}$/.test(dedupeId) ? dedupeId : derivedId('push-fanout', dedupeId ?? randomUUID());
    // The dispatch policy's first stage pushes to the nearest responders only; escalations go to everyone.
    const only = ev.dispatch?.stage === 'nearest' ? { only: [...ev.dispatch.responders] } : {};
    const data: PushFanoutPayload = { v: 1, dedupeId: id, message: pushMessageOf(ev), ...only };
    jobs.push({ name: 'push-fanout', data, opts: { ...defaults, jobId: derivedId('push-fanout', id) } });
  }
  return jobs;
}
