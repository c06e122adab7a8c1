/**
 * What the channel layer accepts: a message is a JSON object with a string `type`; what it stores in Redis is
 * one of four payload kinds. Everything read back from Redis is `unknown` until these schemas pass.
 */
import { z } from 'zod';
import { NaboomError } from '../errors/catalogue.js';

const PART = /^[A-Za-z0-9_.-]{1,100}(![A-Za-z0-9_.-]{1,100})?$/;
const GROUP = /^[A-Za-z0-9_.-]{1,100}$/;

/** A channel-layer message. Delivered messages may be shared between channels: treat them as read-only. */
export interface ChannelMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

export const messageSchema = z.looseObject({ type: z.string().min(1).max(200) });

const channel = z.string().regex(PART);
const group = z.string().regex(GROUP);

/** Payloads as stored: a message for one channel, a group delivery, and group membership control for a process. */
export const storedSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('m'), c: channel, m: messageSchema }),
  z.object({ k: z.literal('g'), g: group, m: messageSchema }),
  z.object({ k: z.literal('a'), g: group, c: channel }),
  z.object({ k: z.literal('d'), g: group, c: channel }),
]);

export type Stored = z.output<typeof storedSchema>;

/** Validates an outgoing message (NABOOM_BAD_REQUEST unless it is an object with a string `type`). */
export function checkMessage(message: unknown): ChannelMessage {
  const parsed = messageSchema.safeParse(message);
  if (!parsed.success) throw new NaboomError('NABOOM_BAD_REQUEST', 'A channel message is a JSON object with a string "type"');
  return parsed.data;
}

/** Freezes a delivered message (and everything in it) once, so sharing it between channels is safe. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
