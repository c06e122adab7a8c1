/**
 * The `dispatch` job: the notification events of alerts raised together (in one turn of the serve
 * process's event loop) travel as one job, so a burst of N alerts costs the request path one job instead of
 * N. The worker expands it into each event's own `log` and `webhook` jobs with the ids the producer would
 * have given them (notification-jobs.ts), so a retried dispatch, or a client's retry that enqueued the
 * same event directly, adds nothing twice.
 */
import { z } from 'zod';
import type { Config } from '../../config/load.js';
import { notificationEventSchema } from '../events.js';
import { notificationJobs, type JobSpec } from '../notification-jobs.js';
import { defaultJobOptions } from '../settings.js';
import { defineJob, type JobDefinition } from './job.js';

/** Events per dispatch job at most (the producer's batch bound). */
export const DISPATCH_MAX_EVENTS = 256;

const dispatchPayloadV1 = z.object({
  v: z.literal(1),
  items: z
    .array(z.object({ event: notificationEventSchema, dedupeId: z.string().min(1).max(200).optional() }))
    .min(1)
    .max(DISPATCH_MAX_EVENTS),
});

/** Payload of a `dispatch` job. A v2 goes next to v1 (`z.union`) so jobs already queued keep working. */
export const dispatchPayloadSchema = dispatchPayloadV1;
export type DispatchPayload = z.output<typeof dispatchPayloadSchema>;

/** `addJobs` adds the expanded jobs in one call (the worker's queue handle). */
export function dispatchJob(config: Config, addJobs: (jobs: JobSpec[]) => Promise<unknown>): JobDefinition {
  const defaults = defaultJobOptions(config);
  return defineJob('dispatch', dispatchPayloadSchema, async (p, ctx) => {
    const jobs = p.items.flatMap((i) => notificationJobs(config, i.event, i.dedupeId, defaults));
    await addJobs(jobs);
    ctx.logger.debug({ events: p.items.length, jobs: jobs.length }, 'notification events dispatched');
    return { events: p.items.length, jobs: jobs.length };
  });
}
