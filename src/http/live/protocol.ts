/**
 * The live protocol, WebSocket and SSE alike: every message either side sends, as one zod discriminated union
 * on `type`. The server parses client messages with it and builds its own from its types; the dashboard
 * imports the types only (`import type`, so its bundle never contains zod); `docs/live-protocol.schema.json`
 * and `GET /api/live/schema` are generated from it, and the README table is checked against it.
 *
 * Messages only grow: a field is added, never removed or retyped, so clients must ignore fields they do not
 * know (the published schema does not forbid extra properties for that reason).
 */
import { z } from 'zod';
import type { ErrorCode } from '../../errors/catalogue.js';
import { ALERT_EVENTS, alertDoc, MESSAGE_EVENT, SEVERITIES, threadMessage } from '../../alerts/model.js';
import { isStreamId } from '../../alerts/stream-id.js';

/** Which way a message travels (a `direction` key on each message's JSON Schema). */
export type Direction = 'client→server' | 'server→client';

const message = <T extends z.ZodRawShape>(type: string, direction: Direction, description: string, shape: T) =>
  z.object(shape).meta({ title: type, description, direction });

const streamIdShape = /^\d{1,20}-\d{1,20}$/;
/** A feed id as Redis accepts it: `<ms>-<seq>`, each part at most 2^64 - 1. */
const streamId = () =>
  z
    .string()
    .max(41)
    .regex(streamIdShape, '"since" must be a stream id <ms>-<seq>')
    .refine(isStreamId, '"since" must be a stream id <ms>-<seq>, each part at most 18446744073709551615');
const feedId = (description: string) => z.string().regex(streamIdShape).describe(description);
const severities = z.array(z.enum(SEVERITIES));

// client → server

export const subscribeMessage = message('subscribe', 'client→server', 'Starts or replaces the subscription of this socket (WebSocket only; SSE subscribes with its query string).', {
  type: z.literal('subscribe'),
  severities: severities.min(1).max(4).optional().describe('Severities to receive; absent means all.'),
  since: streamId().optional().describe('Replay every event after this feed id first (the last id the client saw).'),
});

/** Every message a client sends. */
export const clientMessage = z.discriminatedUnion('type', [subscribeMessage]);

// server → client: events

const eventFields = {
  id: feedId('The feed id: the replay cursor (SSE `id:`). For `alert` it is the alert id.'),
  alert: alertDoc.meta({ id: 'Alert', description: 'The alert as it is now (as the alert API returns it).' }),
};

export const alertMessage = message('alert', 'server→client', 'An alert was raised.', {
  type: z.literal('alert'),
  id: eventFields.id,
  event: z.literal(ALERT_EVENTS.raised).describe('The event name used everywhere else (notifications, webhooks).'),
  alert: eventFields.alert,
});

export const alertUpdatedMessage = message('alert.updated', 'server→client', 'An alert changed (acknowledged, resolved, cancelled, escalated); in a member replay, the current state of an older alert.', {
  type: z.literal('alert.updated'),
  id: eventFields.id,
  event: z.literal(ALERT_EVENTS.updated).describe('The event name used everywhere else (notifications, webhooks).'),
  alert: eventFields.alert,
});

export const alertThreadMessage = message(
  'alert.message',
  'server→client',
  "A message was posted in an alert's thread; sent to whoever may see the alert (members: only on their own alerts).",
  {
    type: z.literal(MESSAGE_EVENT),
    id: feedId('The feed id (the replay cursor, SSE `id:`); also the message id.'),
    alert_id: threadMessage.shape.alert_id.describe('The alert the thread belongs to.'),
    message: threadMessage.meta({ id: 'ThreadMessage', description: 'The message as `GET /api/emergency/alerts/:id/messages` lists it.' }),
  },
);

// server → client: control

export const subscribedMessage = message('subscribed', 'server→client', 'A subscribe was accepted (WebSocket); replay and live frames follow.', {
  type: z.literal('subscribed'),
  severities: severities.describe('The severities this subscription receives.'),
  since: z.string().nullable().describe('The replay position asked for, or null for live only.'),
});

export const replayStartMessage = message('replay.start', 'server→client', 'The replay of missed events begins.', {
  type: z.literal('replay.start'),
  since: z.string().describe('The position replayed from.'),
});

export const replayTruncatedMessage = message('replay.truncated', 'server→client', 'Events after `requested` are no longer retained: the client should reload its list.', {
  type: z.literal('replay.truncated'),
  requested: z.string().describe('The position asked for.'),
  oldest: z.string().describe('The oldest feed id still retained.'),
});

export const replayEndMessage = message('replay.end', 'server→client', 'The replay is complete.', {
  type: z.literal('replay.end'),
  replayed: z.number().int().min(0).describe('Events sent by the replay.'),
  last_id: z.string().nullable().describe('The position to resume from, or null when nothing lies after `since`.'),
});

export const liveMessage = message('live', 'server→client', 'From now on events arrive as they happen.', {
  type: z.literal('live'),
  last_id: z.string().nullable().describe('Where this client stands in the feed, or null when unknown.'),
  interval_ms: z.number().int().positive().describe('The heartbeat interval: two without any frame mean the connection is dead.'),
});

export const heartbeatMessage = message('heartbeat', 'server→client', 'Proof the feed is alive, every LIVE_HEARTBEAT_MS while live.', {
  type: z.literal('heartbeat'),
  server_time: z.iso.datetime().describe("The server's clock (ISO 8601)."),
  position: z.string().nullable().describe('The last feed id this process has fanned out, or null before the first.'),
  interval_ms: z.number().int().positive().describe('The heartbeat interval.'),
});

/** Every code an `error` message may carry (each from the error catalogue). */
export const LIVE_ERROR_CODES = [
  'NABOOM_BAD_REQUEST',
  'NABOOM_VALIDATION',
  'NABOOM_RATE_LIMITED',
  'NABOOM_SLOW_CONSUMER',
  'NABOOM_UNAVAILABLE',
  'NABOOM_UNAUTHENTICATED',
] as const satisfies readonly ErrorCode[];

export const errorMessage = message('error', 'server→client', 'A refused frame (the socket stays open), or why the server is ending the connection (it closes next).', {
  type: z.literal('error'),
  code: z.enum(LIVE_ERROR_CODES).describe('The error code (README "Error codes").'),
  message: z.string().describe('What happened and what to do, for people.'),
});

export const shutdownMessage = message('shutdown', 'server→client', 'The server is restarting: reconnect (elsewhere) with the last id.', {
  type: z.literal('shutdown'),
  message: z.string().optional().describe('For people (SSE).'),
});

/** Every message the server sends. */
export const serverMessage = z.discriminatedUnion('type', [
  subscribedMessage,
  replayStartMessage,
  replayTruncatedMessage,
  replayEndMessage,
  liveMessage,
  heartbeatMessage,
  alertMessage,
  alertUpdatedMessage,
  alertThreadMessage,
  errorMessage,
  shutdownMessage,
]);

/** The whole protocol, both directions. */
export const anyLiveMessage = z
  .discriminatedUnion('type', [...clientMessage.options, ...serverMessage.options])
  .meta({ title: 'Naboom live protocol', description: 'Every message of the live feed (GET /ws, GET /api/emergency/stream), discriminated by `type`.' });

export type ClientMessage = z.infer<typeof clientMessage>;
export type SubscribeMessage = z.infer<typeof subscribeMessage>;
export type ServerMessage = z.infer<typeof serverMessage>;
export type LiveMessage = z.infer<typeof anyLiveMessage>;
export type EventMessage = z.infer<typeof alertMessage> | z.infer<typeof alertUpdatedMessage> | z.infer<typeof alertThreadMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;
export type LiveErrorCode = (typeof LIVE_ERROR_CODES)[number];

/** Every `type` of the protocol with its direction, in the order of the union. */
export function messageTypes(): { readonly type: LiveMessage['type']; readonly direction: Direction }[] {
  return anyLiveMessage.options.map((o) => ({ type: o.shape.type.value, direction: (o.meta()?.['direction'] as Direction | undefined) ?? 'server→client' }));
}

/** The published JSON Schema of the protocol (what docs/live-protocol.schema.json holds). */
export function liveProtocolJsonSchema(): Record<string, unknown> {
  // `input`: what a reader of each message may rely on, without forbidding the fields later versions add.
  return z.toJSONSchema(anyLiveMessage, { io: 'input', target: 'draft-2020-12' });
}

/** The schema document exactly as committed and served: two-space JSON and a final newline. */
export function liveProtocolSchemaText(): string {
  return `${JSON.stringify(liveProtocolJsonSchema(), null, 2)}\n`;
}
