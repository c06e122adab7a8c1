/**
 * The `log` notifier: one structured log line per notification event. Also carries the scheduled daily
 * summary and the verification probe of `naboom verify`, which only need to prove that a worker ran them.
 * It logs a fixed projection of the event, never the whole object, so nothing unexpected (or secret) that
 * rode along in the alert reaches the log.
 */
import { z } from 'zod';
import { notificationEventSchema, type NotificationEvent } from '../events.js';
import { hasCoordinates } from '../../alerts/model.js';
import { defineJob, type JobDefinition } from './job.js';

const logPayloadV1 = z.discriminatedUnion('kind', [
  z.object({ v: z.literal(1), kind: z.literal('event'), event: notificationEventSchema }),
  z.object({ v: z.literal(1), kind: z.literal('summary') }),
  z.object({ v: z.literal(1), kind: z.literal('verify'), nonce: z.string().regex(/^[a-f0-9]{8,64}$/) }),
]);

/** Payload of a `log` job. A v2 goes next to v1 (`z.union`) so jobs already queued keep working. */
export const logPayloadSchema = logPayloadV1;
export type LogPayload = z.output<typeof logPayloadSchema>;

/** The fields of an event that a log line carries. */
export function eventLogFields(e: NotificationEvent): Record<string, unknown> {
  const a = e.alert;
  return {
    event: e.event,
    at: e.at,
    alert: {
      id: a.id,
      type: a.type,
      severity: a.severity,
      status: a.status,
      created_at: a.created_at,
      location: hasCoordinates(a.location)
        ? { lat: a.location.lat, lon: a.location.lon, accuracy_m: a.location.accuracy_m, address: a.location.address }
        : { address: a.location.address },
      reporter: { id: a.reporter.id, username: a.reporter.username },
      has_description: a.description !== undefined && a.description !== '',
    },
  };
}

export const logJob: JobDefinition = defineJob('log', logPayloadSchema, async (p, ctx) => {
  switch (p.kind) {
    case 'event':
      ctx.logger.info({ notification: eventLogFields(p.event) }, `alert notification: ${p.event.event}`);
      return { logged: p.event.event, alert: p.event.alert.id };
    case 'summary': {
      const counts = await ctx.counts();
      ctx.logger.info({ queue: counts, tz: ctx.config.settings.TZ }, 'daily queue summary');
      return { summary: counts };
    }
    case 'verify':
      ctx.logger.debug({ nonce: p.nonce }, 'verification job processed');
      return { nonce: p.nonce };
  }
});
