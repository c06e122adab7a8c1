/**
 * The shapes the live feed shares with its transports (http/live/) and with replay.ts: the frame every
 * subscriber gets, the notices, the sink a transport implements, and one subscription.
 */
import type { Principal } from '../auth/principal.js';
import type { Severity } from '../redis/keys.js';
import type { FanoutSink, LiveSubscriber } from './fanout.js';
import type { FeedEvent } from './model.js';

/** What the fan-out and a sink need to know about an event without looking into its payload. */
export interface FrameMeta {
  /** Feed entry id (the replay cursor). */
  readonly id: string;
  /** The id's milliseconds and sequence (`idParts`), parsed once per frame, not once per socket. */
  readonly ms: number;
  readonly seq: number;
  readonly type: FeedEvent['type'];
  readonly severity: Severity;
  readonly reporterId: string;
}

/**
 * One event as every subscriber gets it: built once per event, shared by every socket. `payload` is what the
 * encoder the feed was given made of the event (the HTTP layer's serialised and framed message); the feed
 * never looks into it.
 */
export interface Frame<P = unknown> {
  readonly meta: FrameMeta;
  readonly payload: P;
}

/** Turns an event into the payload every subscriber's transport writes (run once per event, not per socket). */
export type FeedEncoder<P> = (event: FeedEvent) => P;

/** The feed's control notices: replay progress, the switch to live, heartbeats. */
export type FeedNotice =
  | { readonly type: 'replay.start'; readonly since: string }
  | { readonly type: 'replay.truncated'; readonly requested: string; readonly oldest: string }
  | { readonly type: 'replay.end'; readonly replayed: number; readonly last_id: string | null }
  | { readonly type: 'live'; readonly last_id: string | null; readonly interval_ms: number }
  | { readonly type: 'heartbeat'; readonly server_time: string; readonly position: string | null; readonly interval_ms: number };
export type NoticeType = FeedNotice['type'];
/** A notice's fields besides its type. */
export type NoticeData<T extends NoticeType> = Omit<Extract<FeedNotice, { type: T }>, 'type'>;

/** Why the server ends a live connection (each transport maps it to an error/notice frame and a close). */
export type EndReason = 'slow' | 'shutdown' | 'unavailable' | 'invalid' | 'unauthenticated';

/** Where a subscriber's frames go (a WebSocket or an SSE response). */
export interface FeedSink<P = unknown> extends FanoutSink<Frame<P>> {
  readonly transport: 'ws' | 'sse';
  /** Writes a control notice (replay progress, live, heartbeats). */
  notice<T extends NoticeType>(type: T, data: NoticeData<T>): Promise<void>;
  /** Ends the connection after telling the client why. */
  close(reason: EndReason): void;
}

export interface SubscribeOptions {
  readonly severities: readonly Severity[];
  /** Replay every event after this feed id first. */
  readonly since?: string;
}

/** One subscriber of the feed: its fan-out entry, who it is, where its frames go. */
export interface LiveSubscription<P> {
  readonly sub: LiveSubscriber<Frame<P>>;
  readonly principal: Principal;
  readonly sink: FeedSink<P>;
  readonly abort: AbortController;
  /** Past its replay: gets heartbeats. */
  live: boolean;
}
