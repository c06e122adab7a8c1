/**
 * The `webhook` notifier: POSTs the event as JSON to one URL, signed with HMAC-SHA256 over the exact body.
 * One job per URL, so a slow or broken receiver retries on its own schedule without repeating the others.
 * A 2xx completes the job; a timeout, network error, 408, 429, 3xx or 5xx is retried with backoff; any other
 * 4xx means the receiver rejected the request itself and fails the job at once.
 *
 * The worker only delivers to URLs in its own NOTIFY_WEBHOOK_URLS: whoever can write to the queue must not be
 * able to make Naboom sign requests to a host of their choosing.
 */
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../../config/load.js';
import { notificationEventSchema } from '../events.js';
import { signBody } from '../signature.js';
import { defineJob, JOB_INVALID, type JobDefinition } from './job.js';
import { responseExcerpt } from '../../log/excerpt.js';

const webhookPayloadV1 = z.object({
  v: z.literal(1),
  url: z.url({ protocol: /^https?$/ }),
  /** Stable across retries: receivers use it to drop a delivery they already processed. */
  deliveryId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
  event: notificationEventSchema,
});

/** Payload of a `webhook` job. A v2 goes next to v1 (`z.union`) so jobs already queued keep working. */
export const webhookPayloadSchema = webhookPayloadV1;
export type WebhookPayload = z.output<typeof webhookPayloadSchema>;

export const WEBHOOK_HEADERS = {
  signature: 'X-Naboom-Signature',
  event: 'X-Naboom-Event',
  delivery: 'X-Naboom-Delivery',
  attempt: 'X-Naboom-Attempt',
} as const;

const normalise = (u: string): string => new URL(u).href;


/** Builds the webhook job type for a worker configuration. */
export function webhookJob(config: Config): JobDefinition {
  const allowed = new Set(config.settings.NOTIFY_WEBHOOK_URLS.map(normalise));
  const timeoutMs = config.settings.NOTIFY_WEBHOOK_TIMEOUT_MS;
  return defineJob('webhook', webhookPayloadSchema, async (p, ctx) => {
    if (!allowed.has(normalise(p.url))) {
      throw new UnrecoverableError(`${JOB_INVALID}: webhook URL ${new URL(p.url).origin} is not in this worker's NOTIFY_WEBHOOK_URLS`);
    }
    const secret = config.webhookSecret;
    if (!secret) throw new UnrecoverableError('NOTIFY_WEBHOOK_SECRET is not set on this worker');
    const body = JSON.stringify(p.event);
    const timeout = AbortSignal.timeout(timeoutMs);
    const started = performance.now();
    let res: Response;
    try {
      res = await fetch(p.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.any([ctx.signal, timeout]),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'naboom-webhook/1',
          [WEBHOOK_HEADERS.event]: p.event.event,
          [WEBHOOK_HEADERS.delivery]: p.deliveryId,
          'idempotency-key': p.deliveryId,
          [WEBHOOK_HEADERS.attempt]: String(ctx.attempt),
          [WEBHOOK_HEADERS.signature]: signBody(body, secret.reveal()),
        },
      });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (timeout.aborted) throw new Error(`webhook timed out after ${timeoutMs} ms (NOTIFY_WEBHOOK_TIMEOUT_MS)`);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new Error(`webhook request failed: ${cause}`);
    }
    const ms = Math.round(performance.now() - started);
    if (res.ok) {
      await res.body?.cancel();
      ctx.logger.info({ url: new URL(p.url).origin, status: res.status, ms, delivery: p.deliveryId }, 'webhook delivered');
      return { status: res.status, ms };
    }
    const detail = await responseExcerpt(res);
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw new UnrecoverableError(`webhook answered ${res.status} (not retried: the receiver refused the request)${detail}`);
    }
    throw new Error(`webhook answered ${res.status}${detail}`);
  });
}
