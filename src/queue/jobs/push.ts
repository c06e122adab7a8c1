/**
 * Web Push to responders, in two job types. `push-fanout` (one per `alert.raised` / `alert.escalated` event,
 * added with the event's other jobs) reads who holds subscriptions and adds one `push` job per subscription;
 * `push` encrypts and sends one message (push/send.ts). Both ids derive from the event's dedupe id, and the
 * push id also from the user and endpoint, so a retried fan-out — or a dispatch expanded twice — never sends
 * a message twice. Only responders and admins hold subscriptions (the route refuses members, a demotion drops
 * them), so the fan-out needs no account lookup. An endpoint registered by two accounts on one device gets
 * one push.
 *
 * A `push` job looks its subscription up when it runs, so the queue never holds the browser's keys and a
 * subscription deleted meanwhile is skipped. 404/410 deletes it; 429, 5xx and network errors retry with the
 * queue's backoff; any other refusal fails the job at once. An endpoint whose host is not in PUSH_SERVICE_HOSTS
 * is never sent to.
 */
import { UnrecoverableError, type JobsOptions } from 'bullmq';
import type { Config, VapidConfig } from '../../config/load.js';
import type { Metrics } from '../../metrics/registry.js';
import { pushHostAllowed } from '../../push/model.js';
import { sendPush } from '../../push/send.js';
import type { PushSubscriptionStore } from '../../push/subscriptions.js';
import type { JobSpec } from '../notification-jobs.js';
import { derivedId } from '../notification-jobs.js';
import { defaultJobOptions } from '../settings.js';
import { defineJob, type JobDefinition } from './job.js';
import { pushFanoutPayloadSchema, pushPayloadSchema, type PushPayload } from './push-payloads.js';

export interface PushJobDeps {
  readonly config: Config;
  readonly vapid: VapidConfig;
  readonly store: PushSubscriptionStore;
  readonly metrics: Metrics;
  /** Adds the jobs a fan-out expands into (the worker's queue handle). */
  addJobs(jobs: JobSpec[]): Promise<unknown>;
}

/** The `push-fanout` and `push` job types. */
export function pushJobs(d: PushJobDeps): JobDefinition[] {
  const defaults: JobsOptions = defaultJobOptions(d.config);
  const fanout = defineJob('push-fanout', pushFanoutPayloadSchema, async (p, ctx) => {
    const seen = new Set<string>();
    const jobs: JobSpec[] = [];
    // The nearest stage of the dispatch policy names its responders; everyone otherwise.
    const targets = p.only ?? (await d.store.subscribers());
    for (const username of targets) {
      for (const sub of await d.store.list(username)) {
        if (seen.has(sub.id)) continue;
        seen.add(sub.id);
        const data: PushPayload = { v: 1, username, subscription: sub.id, message: p.message };
        jobs.push({ name: 'push', data, opts: { ...defaults, jobId: derivedId('push', p.dedupeId, `${username}\0${sub.id}`) } });
      }
    }
    if (jobs.length > 0) await d.addJobs(jobs);
    ctx.logger.debug({ alert: p.message.id, pushes: jobs.length }, 'push fan-out');
    return { pushes: jobs.length };
  });
  const push = defineJob('push', pushPayloadSchema, async (p, ctx) => {
    const sub = await d.store.get(p.username, p.subscription);
    if (!sub) {
      d.metrics.pushSent.inc({ result: 'skipped' });
      return { result: 'skipped' };
    }
    const origin = new URL(sub.endpoint).origin;
    // Registration refuses other hosts; one stored before PUSH_SERVICE_HOSTS was narrowed is kept (the list may
    // be widened again) but never sent to.
    if (!pushHostAllowed(sub.endpoint, d.config.settings.PUSH_SERVICE_HOSTS)) {
      d.metrics.pushSent.inc({ result: 'refused' });
      ctx.logger.warn({ alert: p.message.id, push: origin, user: p.username }, 'push endpoint is not on a push service in PUSH_SERVICE_HOSTS: not sent');
      return { result: 'refused' };
    }
    const out = await sendPush(sub, p.message, { vapid: d.vapid, ttlS: d.config.settings.PUSH_TTL_S, timeoutMs: d.config.settings.PUSH_TIMEOUT_MS, signal: ctx.signal });
    d.metrics.pushSent.inc({ result: out.result });
    switch (out.result) {
      case 'sent':
        ctx.logger.info({ alert: p.message.id, push: origin, status: out.status }, 'push sent');
        return { result: out.result, status: out.status };
      case 'gone':
        await d.store.removeById(p.username, p.subscription);
        ctx.logger.info({ alert: p.message.id, push: origin, status: out.status, user: p.username }, 'push subscription gone: deleted');
        return { result: out.result, status: out.status };
      case 'retry':
        throw new Error(`push service ${origin} answered ${out.status ?? 'nothing'}${out.status === undefined ? `: ${out.detail}` : out.detail}`);
      case 'rejected':
        throw new UnrecoverableError(`push service ${origin} refused the request with ${out.status} (not retried)${out.detail}`);
    }
  });
  return [fanout, push];
}
