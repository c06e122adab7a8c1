/** The payloads of the `push-fanout` and `push` jobs (jobs/push.ts), apart so the producer can name them. */
import { z } from 'zod';
import { pushMessage } from '../../push/model.js';

const dedupe = z.string().regex(/^[A-Za-z0-9._-]{1,200}$/);

const username = z.string().regex(/^[a-z0-9][a-z0-9_.-]{1,63}$/);

const pushFanoutPayloadV1 = z.object({
  v: z.literal(1),
  dedupeId: dedupe,
  message: pushMessage,
  /** The dispatch policy's nearest responders: only their subscriptions are pushed to. Absent: everyone. */
  only: z.array(username).max(100).optional(),
});
/** Payload of a `push-fanout` job. A v2 goes next to v1 (`z.union`) so jobs already queued keep working. */
export const pushFanoutPayloadSchema = pushFanoutPayloadV1;
export type PushFanoutPayload = z.output<typeof pushFanoutPayloadSchema>;

const pushPayloadV1 = z.object({
  v: z.literal(1),
  username,
  subscription: z.string().regex(/^[A-Za-z0-9_-]{32}$/),
  message: pushMessage,
});
/** Payload of a `push` job. */
export const pushPayloadSchema = pushPayloadV1;
export type PushPayload = z.output<typeof pushPayloadSchema>;
