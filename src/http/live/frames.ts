/**
 * Wire framing of live messages: the encoder the feed is given (each event serialised once and framed once
 * per transport, shared by every socket), RFC 6455 text frames, and SSE events. The feed itself only sees the
 * encoder's output as an opaque payload.
 */
import type { FeedNotice, NoticeData, NoticeType } from '../../alerts/feed.js';
import { ALERT_EVENTS, MESSAGE_EVENT, type FeedEvent } from '../../alerts/model.js';
import type { EventMessage, ServerMessage } from './protocol.js';

/** A server-to-client WebSocket text frame: header and payload in one buffer, one socket write. */
export function wsTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + n);
  out[0] = 0x81;
  if (n < 126) {
    out[1] = n;
  } else if (n < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(out, header);
  return out;
}

/**
 * One event's message, built once and shared by every subscriber: the JSON text, its UTF-8 bytes (so 10,000
 * sockets do not each encode the same string) and, lazily, each transport's complete framing — only the
 * transports that actually have a subscriber pay for theirs.
 */
export class LiveFrame {
  #bytes: Buffer | undefined;
  #sse: Buffer | undefined;
  #ws: Buffer | undefined;
  constructor(
    readonly message: EventMessage,
    readonly json: string,
  ) {}

  /** The message as UTF-8 (a WebSocket text payload). */
  get bytes(): Buffer {
    return (this.#bytes ??= Buffer.from(this.json, 'utf8'));
  }

  /** The complete WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked as a server sends it). */
  get ws(): Buffer {
    return (this.#ws ??= wsTextFrame(this.bytes));
  }

  /** The complete SSE event (`id:`, `event:`, `data:`). */
  get sse(): Buffer {
    return (this.#sse ??= Buffer.from(`id: ${this.message.id}\n${sseBody(this.message.type, this.json)}`, 'utf8'));
  }
}

/** The protocol message of a feed event (`event` names it as notifications and webhooks do). */
export function eventMessage(e: FeedEvent): EventMessage {
  // Key order is part of the wire format: `{"type":"alert","id":"…` first (clients and the benchmark match on it).
  switch (e.type) {
    case 'alert':
      return { type: 'alert', id: e.id, event: ALERT_EVENTS.raised, alert: e.alert };
    case 'alert.updated':
      return { type: 'alert.updated', id: e.id, event: ALERT_EVENTS.updated, alert: e.alert };
    case MESSAGE_EVENT:
      return { type: MESSAGE_EVENT, id: e.id, alert_id: e.alertId, message: e.message };
  }
}

/** The encoder the feed is built with: one event to its shared frame. */
export function encodeEvent(e: FeedEvent): LiveFrame {
  const message = eventMessage(e);
  return new LiveFrame(message, JSON.stringify(message));
}

/**
 * A notice encoded once for every connection it goes to: the JSON text, its UTF-8 bytes and, lazily, its
 * complete WebSocket frame and SSE event. A heartbeat goes to every live connection of the process with the
 * same data, so it is serialised and framed once per beat, not once per socket.
 */
export class NoticeFrame {
  #bytes: Buffer | undefined;
  #ws: Buffer | undefined;
  #sse: Buffer | undefined;
  readonly json: string;
  constructor(readonly message: ServerMessage) {
    this.json = JSON.stringify(message);
  }

  get bytes(): Buffer {
    return (this.#bytes ??= Buffer.from(this.json, 'utf8'));
  }

  get ws(): Buffer {
    return (this.#ws ??= wsTextFrame(this.bytes));
  }

  get sse(): Buffer {
    return (this.#sse ??= Buffer.from(sseBody(this.message.type, this.json), 'utf8'));
  }
}

/**
 * The last notice encoded, by the identity of its data: the feed hands one beat's data object to every
 * subscriber, so every socket after the first reuses its frame. Any other notice (each its own data object)
 * is simply encoded afresh.
 */
let lastNotice: { readonly type: NoticeType; readonly data: object; readonly frame: NoticeFrame } | undefined;

/** A notice's shared encoding (see `NoticeFrame`). */
export function noticeFrame<T extends NoticeType>(type: T, data: NoticeData<T>): NoticeFrame {
  if (lastNotice?.data === data && lastNotice.type === type) return lastNotice.frame;
  const frame = new NoticeFrame(noticeMessage(type, data));
  lastNotice = { type, data, frame };
  return frame;
}

/** A feed notice as the protocol message it is. */
export function noticeMessage<T extends NoticeType>(type: T, data: NoticeData<T>): ServerMessage {
  // TypeScript does not narrow the spread of a generic notice; by the signature it is the notice `type` names.
  // Returned as a ServerMessage, so a notice that drifts from the protocol stops this from compiling.
  return { type, ...data } as unknown as FeedNotice;
}

/** A control message as WebSocket text (ws frames it). */
export function wsText(m: ServerMessage): string {
  return JSON.stringify(m);
}

/** A control message as a complete SSE event: `event:` is its type, `data:` the same JSON as on a WebSocket. */
export function sseEvent(m: ServerMessage): string {
  return sseBody(m.type, JSON.stringify(m));
}

const sseBody = (type: string, json: string): string => `event: ${type}\ndata: ${json}\n\n`;

/** The first bytes of an SSE response: how long an EventSource waits before it reconnects. */
export const SSE_PREAMBLE = 'retry: 2000\n\n';
