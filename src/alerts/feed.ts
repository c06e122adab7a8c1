/**
 * The live feed. Every serve process tails the durable feed stream itself (XREAD BLOCK as the realtime
 * role on its own connection) and fans each event out locally through the channel layer — so an alert that
 * got its 201 reaches every subscriber of every process even if the process that accepted it died right
 * after answering, and a group of N sockets costs one stream read per process, not N Redis writes.
 *
 * A subscriber (one WebSocket or SSE connection) owns a process-local channel, bounded by the channel
 * capacity. Replay and live never leave a gap or send a duplicate: the channel is joined first (live events
 * queue up), the missed events are read from the stream, and the queued live events are then sent skipping
 * every id already sent. A subscriber that cannot keep up overflows its channel and is told and dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RedisClient } from '../redis/connections.js';
import type { Severity } from '../redis/keys.js';
import { compareIds, idMillis, type FeedEvent } from './model.js';
import { canSeeAll, type Principal } from './service.js';
import { decodeFeedEntry, type AlertStore } from './store.js';

/** The part of the channel layer the feed uses. */
export interface LocalChannels {
  newChannel(prefix?: string): string;
  groupAdd(group: string, channel: string): Promise<void>;
  discardChannel(channel: string): Promise<void>;
  deliverLocal(group: string, message: { type: string } & Record<string, unknown>): { delivered: number; skipped: string[] };
  receive(channel: string, opts?: { signal?: AbortSignal }): Promise<unknown>;
  onChannelFull(listener: (channel: string) => void): void;
}

/** What a sink needs to know about a frame without parsing it. */
export interface FrameMeta {
  /** Feed entry id (SSE `id:`). */
  readonly id: string;
  readonly type: FeedEvent['type'];
  readonly severity: Severity;
  readonly reporterId: string;
}

/**
 * One event's frame, built once and shared by every subscriber: the JSON text, its UTF-8 bytes (so 10,000
 * sockets do not each encode the same string) and, lazily, a transport's complete framing.
 */
export class Frame {
  #bytes: Buffer | undefined;
  #sse: Buffer | undefined;
  #ws: Buffer | undefined;
  constructor(
    readonly meta: FrameMeta,
    readonly json: string,
  ) {}

  get bytes(): Buffer {
    return (this.#bytes ??= Buffer.from(this.json, 'utf8'));
  }

  /** The complete WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked as a server sends it). */
  get ws(): Buffer {
    return (this.#ws ??= wsTextFrame(this.bytes));
  }

  /** The complete SSE event (`id:`, `event:`, `data:`). */
  get sse(): Buffer {
    return (this.#sse ??= Buffer.from(`id: ${this.meta.id}\nevent: ${this.meta.type}\ndata: ${this.json}\n\n`, 'utf8'));
  }
}

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

/** Where a subscriber's frames go (a WebSocket or an SSE response). */
export interface FeedSink {
  readonly transport: 'ws' | 'sse';
  /** Writes one event frame; resolves when the transport can take more. */
  write(frame: Frame): Promise<void>;
  /** Writes a control frame (replay progress, notices). */
  notice(type: string, data: Record<string, unknown>): Promise<void>;
  /** Ends the connection after a notice (slow consumer, shutdown). */
  close(code: 'slow' | 'shutdown'): void;
}

export interface SubscribeOptions {
  readonly severities: readonly Severity[];
  /** Replay every event after this feed id first. */
  readonly since?: string;
}

const PAGE = 1000;
/** Live frames kept for subscribers still draining their channels (a channel holds ids, not frames). */
const FRAME_CACHE = 4096;
const groupOf = (s: Severity): string => `alerts.${s}`;
const reporterGroup = (userId: string): string => `alerts.reporter.${userId}`;

interface LiveMessage extends FrameMeta {
  readonly type: FeedEvent['type'];
  readonly json: string;
}

const metaOf = (e: FeedEvent): FrameMeta => ({ id: e.id, type: e.type, severity: e.alert.severity, reporterId: e.alert.reporter.id });

class Subscription {
  readonly abort = new AbortController();
  lastSent = '0-0';
  /** Set once its channel overflowed: the client is being disconnected. */
  overflowed = false;
  constructor(
    readonly channel: string,
    readonly principal: Principal,
    readonly severities: ReadonlySet<Severity>,
    readonly sink: FeedSink,
    /** The delivery-latency histogram, bound to this subscriber's transport once. */
    readonly latency: { observe(seconds: number): void },
  ) {}

  wants(m: FrameMeta): boolean {
    return this.severities.has(m.severity) && (canSeeAll(this.principal) || m.reporterId === this.principal.id);
  }
}

export interface AlertFeedDeps {
  readonly store: AlertStore;
  /** A dedicated blocking realtime-role connection for XREAD BLOCK. */
  readonly tailClient: RedisClient;
  /** The command realtime-role client for replays. */
  readonly readClient: RedisClient;
  readonly channels: LocalChannels;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export class AlertFeed {
  readonly #d: AlertFeedDeps;
  readonly #subs = new Map<string, Subscription>();
  readonly #frames = new Map<string, Frame>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #lastId = '$';
  #healthy = false;

  constructor(d: AlertFeedDeps) {
    this.#d = d;
    d.channels.onChannelFull((channel) => {
      const sub = this.#subs.get(channel);
      if (!sub || sub.overflowed) return;
      sub.overflowed = true;
      this.#d.metrics.slowClients.inc({ transport: sub.sink.transport });
      this.#d.logger.warn({ user: sub.principal.username, transport: sub.sink.transport }, 'live client too slow: disconnecting');
      sub.sink.close('slow');
    });
  }

  /** True while the tail loop is reading the stream. */
  get healthy(): boolean {
    return this.#healthy;
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  /** Starts tailing from the current end of the feed. */
  async start(): Promise<void> {
    this.#lastId = await this.#d.store.feedHead();
    this.#healthy = true;
    this.#loop = this.#tail();
  }

  async #tail(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        const feedKey = this.#d.store.feedKey;
        const reply = await this.#d.tailClient.xread('COUNT', PAGE, 'BLOCK', 2000, 'STREAMS', feedKey, this.#lastId);
        this.#healthy = true;
        failures = 0;
        for (const [, entries] of reply ?? []) for (const entry of entries) this.#deliver(entry);
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        this.#healthy = false;
        failures += 1;
        if (failures === 1 || failures % 20 === 0) this.#d.logger.warn({ err }, 'feed tail interrupted; retrying from the last id');
        await sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)), undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
  }

  /** One feed entry to this process's subscribers; a failure is logged and never stops the tail. */
  #deliver(entry: [string, string[]]): void {
    this.#lastId = entry[0];
    // Nobody in this process is listening: nothing to decode or deliver.
    if (this.#subs.size === 0) return;
    try {
      const event = decodeFeedEntry(entry);
      if (event) this.#fanOut(event);
      else this.#d.logger.warn({ id: entry[0] }, 'skipped a malformed feed entry');
    } catch (err) {
      // Subscribers that missed it catch up from the stream when they reconnect with their last id.
      this.#d.logger.error({ err, id: entry[0] }, 'could not fan out a feed entry');
    }
  }

  #fanOut(event: FeedEvent): void {
    const msg: LiveMessage = { ...metaOf(event), json: frameJson(event) };
    this.#frames.set(msg.id, new Frame(metaOf(event), msg.json));
    if (this.#frames.size > FRAME_CACHE) {
      const oldest = this.#frames.keys().next().value;
      if (oldest !== undefined) this.#frames.delete(oldest);
    }
    this.#d.channels.deliverLocal(groupOf(event.alert.severity), { ...msg });
    this.#d.channels.deliverLocal(reporterGroup(event.alert.reporter.id), { ...msg });
  }

  /** Registers a live client: replays what it missed, then streams live until the sink closes. */
  async subscribe(principal: Principal, opts: SubscribeOptions, sink: FeedSink): Promise<() => Promise<void>> {
    const channel = this.#d.channels.newChannel('live');
    const sub = new Subscription(channel, principal, new Set(opts.severities), sink, this.#d.metrics.deliveryLatency.labels({ transport: sink.transport }));
    this.#subs.set(channel, sub);
    this.#d.metrics.liveClients.inc({ transport: sink.transport });
    if (canSeeAll(principal)) {
      for (const s of opts.severities) await this.#d.channels.groupAdd(groupOf(s), channel);
    } else {
      await this.#d.channels.groupAdd(reporterGroup(principal.id), channel);
    }
    const unsubscribe = async (): Promise<void> => {
      if (!this.#subs.delete(channel)) return;
      sub.abort.abort();
      this.#d.metrics.liveClients.dec({ transport: sink.transport });
      await this.#d.channels.discardChannel(channel);
    };
    // Without `since`, the subscription still starts where the tail stood when it was requested: an event
    // fanned out while the groups were being joined is caught by a (silent) replay instead of missed.
    const since = opts.since ?? (this.#lastId === '$' ? undefined : this.#lastId);
    void this.#run(sub, since, opts.since === undefined).catch(async (err: unknown) => {
      if (!sub.abort.signal.aborted) this.#d.logger.warn({ err, user: principal.username }, 'live client stopped');
      await unsubscribe();
    });
    return unsubscribe;
  }

  async #run(sub: Subscription, since: string | undefined, silent: boolean): Promise<void> {
    if (since !== undefined) await this.#replay(sub, since, silent);
    await sub.sink.notice('live', { last_id: sub.lastSent === '0-0' ? null : sub.lastSent });
    while (!sub.abort.signal.aborted) {
      // No AbortSignal per receive (an EventTarget listener per message is measurable with 10,000 sockets):
      // unsubscribing discards the channel, which rejects the pending receive and ends this loop.
      const raw = await this.#d.channels.receive(sub.channel);
      // Local messages never left this process, but the channel API hands back `unknown`: check the shape.
      if (!isLiveMessage(raw) || compareIds(raw.id, sub.lastSent) <= 0 || !sub.wants(raw)) continue;
      await sub.sink.write(this.#frames.get(raw.id) ?? new Frame(raw, raw.json));
      sub.lastSent = raw.id;
      if (raw.type === 'alert') sub.latency.observe(Math.max(0, Date.now() - idMillis(raw.id)) / 1000);
    }
  }

  async #replay(sub: Subscription, since: string, silent: boolean): Promise<void> {
    if (!silent) {
      const tail = await this.#d.store.feedTail();
      if (tail && compareIds(since, tail) < 0 && since !== '0-0') {
        await sub.sink.notice('replay.truncated', { requested: since, oldest: tail });
      }
      await sub.sink.notice('replay.start', { since });
    }
    let cursor = since;
    let sent = 0;
    for (;;) {
      const page = await this.#d.store.feedAfter(cursor, PAGE, this.#d.readClient);
      for (const e of page) {
        cursor = e.id;
        const meta = metaOf(e);
        if (!sub.wants(meta)) continue;
        await sub.sink.write(new Frame(meta, frameJson(e)));
        sub.lastSent = e.id;
        sent += 1;
      }
      if (page.length < PAGE || sub.abort.signal.aborted) break;
    }
    if (compareIds(cursor, sub.lastSent) > 0) sub.lastSent = cursor;
    if (!silent) await sub.sink.notice('replay.end', { replayed: sent, last_id: cursor === since ? null : cursor });
  }

  /** Tells every subscriber the server is going away and stops tailing. */
  async stop(): Promise<void> {
    this.#stop.abort();
    for (const sub of [...this.#subs.values()]) sub.sink.close('shutdown');
    this.#healthy = false;
    // Break the pending XREAD BLOCK now instead of waiting for its timeout.
    this.#d.tailClient.disconnect();
    await this.#loop;
  }
}

function isLiveMessage(v: unknown): v is LiveMessage {
  if (!v || typeof v !== 'object') return false;
  const m = v as Partial<LiveMessage>;
  return (m.type === 'alert' || m.type === 'alert.updated') && typeof m.id === 'string' && typeof m.json === 'string' && typeof m.severity === 'string' && typeof m.reporterId === 'string';
}

/** The JSON frame for an event, built once and shared by every subscriber. */
export function frameJson(e: FeedEvent): string {
  return JSON.stringify({ type: e.type, id: e.id, alert: e.alert });
}
