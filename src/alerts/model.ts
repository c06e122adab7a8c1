/**
 * The alert document, its lifecycle and the shapes that cross process boundaries (stream entries, cache
 * values). Everything read back from Redis is `unknown` until `alertDoc` has checked it.
 */
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../redis/keys.js';

export { SEVERITIES, type Severity };

export const ALERT_TYPES = ['panic', 'medical', 'fire', 'crime', 'other'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'cancelled'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const DEFAULT_SEVERITY: Severity = 'high';

/**
 * The one name of each alert event: the feed stream's `event` field, the live feed's `event`, notification
 * jobs and the dashboard all use these.
 */
export const ALERT_EVENTS = { raised: 'alert.raised', updated: 'alert.updated', escalated: 'alert.escalated' } as const;
export type AlertEventName = (typeof ALERT_EVENTS)[keyof typeof ALERT_EVENTS];

/** Feed entries written before the events had one name call a raised alert this; read as `alert.raised`. */
export const LEGACY_RAISED_EVENT = 'alert.created';

/** Lifecycle: open → acknowledged → resolved; open | acknowledged → cancelled. */
export const TRANSITIONS = {
  ack: { to: 'acknowledged', from: ['open'], event: 'acknowledged' },
  resolve: { to: 'resolved', from: ['acknowledged'], event: 'resolved' },
  cancel: { to: 'cancelled', from: ['open', 'acknowledged'], event: 'cancelled' },
} as const satisfies Record<string, { to: AlertStatus; from: readonly AlertStatus[]; event: string }>;
export type TransitionName = keyof typeof TRANSITIONS;

interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * True when `s` is well-formed UTF-16 (no lone surrogate). `String.prototype.isWellFormed` exists from Node
 * 20.12 (our floor) but is typed only in the ES2024 lib.
 */
export const isWellFormedText = (s: string): boolean => (s as unknown as WellFormedCheck).isWellFormed();

/** The shape of a stream id (`ms-seq`); `isStreamId` in stream-id.ts also bounds each part to what Redis accepts. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

// Every limit below is written once. Alerts are stored only after HTTP validation, so these are the limits
// HTTP has always enforced: data already in Redis satisfies them. Lengths count code points, as Ajv does.

/** Related alerts one alert lists at most (the ingest script links no more). */
export const MAX_RELATED = 50;

/** A string that is well-formed UTF-16: what Redis' Lua cjson can decode and encode. */
const text = () => z.string().refine(isWellFormedText, { message: 'must be well-formed UTF-16 text (it contains a lone surrogate)' });

/** A time as `Date.prototype.toISOString` writes it (any offset is accepted). */
const isoTime = () => z.iso.datetime({ offset: true });

/** A user as an alert names them: only id and username, never anything else on the account. */
export const actor = z.object({ id: text().min(1).max(200), username: text().min(1).max(200) });
export type Actor = z.infer<typeof actor>;

/** A location with a position: lat and lon always together, optionally its accuracy and an address. */
export const coordinatesLocation = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracy_m: z.number().min(0).max(100_000).optional(),
  address: text().min(1).max(500).optional(),
});
export type CoordinatesLocation = z.infer<typeof coordinatesLocation>;

/**
 * A location known only by the address the reporter typed (no GPS fix: permission refused or no fix in
 * time). Strict, so half a position (`lat` without `lon`) or an accuracy without a position is refused
 * rather than silently dropped; there are never fake coordinates.
 */
export const addressLocation = z.strictObject({ address: coordinatesLocation.shape.address.unwrap() });
export type AddressLocation = z.infer<typeof addressLocation>;

/**
 * An alert's location: coordinates (with an optional address) or an address alone. The coordinates shape
 * comes first, so a stored document with a position is always read as one (JSON Schema: `anyOf`; the two
 * shapes never both match, each being closed).
 */
export const location = z.union([coordinatesLocation, addressLocation]);
export type Location = z.infer<typeof location>;

/** True when the location has a position (lat and lon); false for an address-only location. */
export const hasCoordinates = (l: Location): l is CoordinatesLocation => 'lat' in l;

/** One lifecycle event in an alert's history (`raised`, a transition's event, `escalated`). */
export const historyEvent = z.object({
  event: text(),
  at: isoTime(),
  by: actor.optional(),
  /** The escalation level, on `escalated` events. */
  level: z.number().int().min(1).optional(),
  note: text().max(1000).optional(),
  /** The location the reporter sent, on `located` events. */
  location: location.optional(),
});
export type HistoryEvent = z.infer<typeof historyEvent>;

/** The alert as stored, cached, streamed and returned by the API. */
export const alertDoc = z.object({
  id: z.string().regex(STREAM_ID),
  type: z.enum(ALERT_TYPES),
  severity: z.enum(SEVERITIES),
  status: z.enum(ALERT_STATUSES),
  location,
  description: text().max(2000).optional(),
  reporter: actor,
  created_at: isoTime(),
  updated_at: isoTime(),
  escalations: z.number().int().min(0),
  history: z.array(historyEvent).min(1),
  /** The responder who claimed the alert, when, and how far away they were then (null: position unknown). */
  assignee: actor.extend({ at: isoTime(), distance_m: z.number().min(0).nullable() }).optional(),
  /** Alerts raised near this one in place and time (RELATED_RADIUS_M, RELATED_WINDOW_S), linked both ways. */
  related: z.array(z.string().regex(STREAM_ID)).max(MAX_RELATED).optional(),
});
export type AlertDoc = z.infer<typeof alertDoc>;
export type Assignee = NonNullable<AlertDoc['assignee']>;

/**
 * A raise request (`POST /api/emergency/alerts`): the fields a reporter chooses, nothing else. Strict, so an
 * unknown field is refused rather than silently dropped; severity defaults to DEFAULT_SEVERITY in the store.
 */
export const raiseInput = z.strictObject({
  type: alertDoc.shape.type,
  severity: alertDoc.shape.severity.optional(),
  location: z.union([z.strictObject(coordinatesLocation.shape), addressLocation]),
  description: alertDoc.shape.description,
});
export type RaiseInput = z.infer<typeof raiseInput>;

/** The history event of a location update (`PATCH /api/emergency/alerts/:id/location`). */
export const LOCATED_EVENT = 'located';

/**
 * How many `located` events an alert's history keeps: a phone updating its fix for an hour must not grow the
 * document without bound. The oldest located events go first; lifecycle events are always kept.
 */
export const MAX_LOCATED_EVENTS = 50;

/**
 * The body of a location update: the raise input's location, strict (an unknown field is refused). It
 * replaces the location whole: an address-only alert gets coordinates by sending them (with the address, to
 * keep it).
 */
export const locationInput = raiseInput.shape.location;
export type LocationInput = z.infer<typeof locationInput>;

/** The body of a lifecycle action (ack, resolve, cancel): an optional note for the history. */
export const transitionInput = z.strictObject({ note: historyEvent.shape.note });
export type TransitionInput = z.infer<typeof transitionInput>;

/** Dispatch stages (README "Dispatch policy"): the nearest available responders first, then everyone. */
export const DISPATCH_STAGES = ['nearest', 'all'] as const;
/**
 * Why a notification went to everyone: escalation, nobody available near, presence could not be read, or the
 * alert has no coordinates (address only) to measure nearness from.
 */
export const DISPATCH_REASONS = ['nearest', 'escalated', 'nobody_nearby', 'presence_unavailable', 'no_location'] as const;
/** History events of claiming (`by` is the responder who claimed or gave the alert up). */
export const CLAIM_EVENTS = { claimed: 'claimed', unclaimed: 'unclaimed' } as const;

/** The feed entry's `event` field of a thread message, and the live frame's `type`. */
export const MESSAGE_EVENT = 'alert.message';

/** One message of an alert's thread; its id is its feed entry id (so ids order the thread). */
export const threadMessage = z.object({
  id: z.string().regex(STREAM_ID),
  alert_id: z.string().regex(STREAM_ID),
  at: isoTime(),
  by: actor,
  text: text().min(1).max(1000),
});
export type ThreadMessage = z.infer<typeof threadMessage>;

/** `POST /api/emergency/alerts/:id/messages` body. */
export const messageInput = z.strictObject({ text: threadMessage.shape.text });
export type MessageInput = z.infer<typeof messageInput>;

/**
 * Who a notification was dispatched to: `nearest` — only `responders` (push goes to them alone; webhooks
 * say so); `all` — every responder and admin (`responders` is then empty).
 */
export const dispatchInfo = z.object({
  stage: z.enum(DISPATCH_STAGES),
  reason: z.enum(DISPATCH_REASONS),
  responders: z.array(text().min(1).max(200)).max(100),
  radius_km: z.number().min(0).max(1000).optional(),
});
export type DispatchInfo = z.infer<typeof dispatchInfo>;

/**
 * What a notification says: which event happened to which alert, and when, and (from the dispatch policy)
 * who it was dispatched to. The queue wraps it in its versioned job payload (queue/events.ts).
 */
export const alertNotification = z.object({
  event: z.enum(ALERT_EVENTS),
  alert: alertDoc,
  at: isoTime(),
  dispatch: dispatchInfo.optional(),
});
export type AlertNotification = z.infer<typeof alertNotification>;

/** One entry of the feed stream, decoded: what live clients and replays receive. */
export type FeedEvent = AlertFeedEvent | MessageFeedEvent;

/** An alert raised or changed. */
export interface AlertFeedEvent {
  /** The feed entry id (SSE `id:`, replay cursor). For `alert` events it equals the alert id. */
  readonly id: string;
  readonly type: 'alert' | 'alert.updated';
  readonly alert: AlertDoc;
}

/** A message posted in an alert's thread; it goes to whoever may see the alert (its severity and reporter). */
export interface MessageFeedEvent {
  /** The feed entry id, which is also the message id. */
  readonly id: string;
  readonly type: typeof MESSAGE_EVENT;
  readonly alertId: string;
  readonly severity: Severity;
  readonly reporterId: string;
  readonly message: ThreadMessage;
}

/**
 * A stream id's two parts as numbers (both far below 2^53): for an id compared many times (a live frame against
 * every socket's last id), parse it once and compare the parts.
 */
export function idParts(id: string): readonly [ms: number, seq: number] {
  const i = id.indexOf('-');
  return [Number(id.slice(0, i)), Number(id.slice(i + 1))];
}

/** Stream ids compare as (milliseconds, sequence). */
export function compareIds(a: string, b: string): number {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  const d = am !== bm ? am - bm : as - bs;
  return d === 0 ? 0 : d < 0 ? -1 : 1;
}

/** Milliseconds encoded in a stream id. */
export const idMillis = (id: string): number => idParts(id)[0];
