/**
 * The live feed. Every serve process tails the durable feed stream itself (XREAD BLOCK as the realtime
 * role on its own connection) and fans each event out through its own process-local fan-out (fanout.ts) —
 * so an alert that got its 201 reaches every subscriber of every process even if the process that accepted
 * it died right after answering, a group of N sockets costs one stream read per process, and nothing about
 * a subscription expires: a screen left open for months keeps receiving.
 *
 * Replay and live never leave a gap or send a duplicate: the subscriber is added to the fan-out first, in
 * the same turn that reads the position this process has fanned out (live events queue up behind it), the
 * missed events up to that position are replayed, and the queued live events are then sent skipping every
 * id already sent. A subscriber that cannot keep up overflows its bounded queue and is told and dropped.
 *
 * Replay is bounded: a principal that sees every alert replays the feed in pages of 100 and reads the next
 * page only once the socket took the previous one; a member replays only their own alerts, from their
 * reporter index (never the whole feed). At most REPLAY_CONCURRENCY replays run at once per process.
 */
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { canSeeAll, type Principal } from '../auth/principal.js';
import type { Settings } from '../config/schema.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace, Severity } from '../redis/keys.js';
import { LiveFanout, LiveSubscriber, type FanoutSink } from './fanout.js';
import { compareIds, idMillis, type AlertDoc, type FeedEvent } from './model.js';
import { decodeFeedEntry } from './query.js';
import type { AlertStore } from './store.js';
import { isStreamId } from './stream-id.js';

/** What the fan-out and a sink need to know about an event without looking into its payload. */
export interface FrameMeta {
  /** Feed entry id (the replay cursor). */
  readonly id: string;
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

/** Feed entries fanned out in one turn of the event loop at most (the rest of a tail read after a yield). */
const TAIL_SLICE = 16;
/** Feed entries per replay page: what a stalled reader can pin at most. */
const REPLAY_PAGE = 100;
/** Replays running at once in one process; more wait their turn (their live frames queue meanwhile). */
export const REPLAY_CONCURRENCY = 8;
/** Redis' clock (feed ids) and this process's clock (`updated_at`) may differ: a member replay looks back this much further. */
const CLOCK_SKEW_MS = 60_000;
/** Documents read at once in a member replay. */
const DOC_BATCH = 100;

const metaOf = (e: FeedEvent): FrameMeta => ({ id: e.id, type: e.type, severity: e.alert.severity, reporterId: e.alert.reporter.id });

export interface AlertFeedDeps<P> {
  readonly store: AlertStore;
  /** Serialises and frames each event once, for every transport (injected by the HTTP layer). */
  readonly encode: FeedEncoder<P>;
  /** A dedicated blocking realtime-role connection for XREAD BLOCK. */
  readonly tailClient: RedisClient;
  /** The command realtime-role client for replays. */
  readonly readClient: RedisClient;
  readonly keys: KeySpace;
  readonly settings: Pick<Settings, 'CHANNEL_CAPACITY' | 'LIVE_HEARTBEAT_MS'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

interface Live<P> {
  readonly sub: LiveSubscriber<Frame<P>>;
  readonly principal: Principal;
  readonly sink: FeedSink<P>;
  readonly abort: AbortController;
  /** Past its replay: gets heartbeats. */
  live: boolean;
}

/**
 * Samples the delivery latency instead of observing every delivery (an observe per socket per alert was a
 * measurable share of a burst's CPU): one sample per transport per feed read — its first alert, taken when
 * the read's writes have all been handed to the sockets — and, for frames a backed-up socket sent from its
 * queue after the read, one sample per alert per transport.
 */
export class LatencySampler {
  readonly #metrics: Pick<Metrics, 'deliveryLatency'>;
  readonly #now: () => number;
  #open = false;
  readonly #pending: Record<FeedSink['transport'], string | undefined> = { ws: undefined, sse: undefined };
  readonly #lastQueued: Record<FeedSink['transport'], string | undefined> = { ws: undefined, sse: undefined };

  constructor(metrics: Pick<Metrics, 'deliveryLatency'>, now: () => number = Date.now) {
    this.#metrics = metrics;
    this.#now = now;
  }

  /** A feed read starts: its deliveries are sampled once, at `end`. */
  begin(): void {
    this.#open = true;
  }

  /** One alert frame reached a socket of this transport. */
  note(transport: FeedSink['transport'], id: string): void {
    if (this.#open) {
      this.#pending[transport] ??= id;
      return;
    }
    if (this.#lastQueued[transport] === id) return;
    this.#lastQueued[transport] = id;
    this.#observe(transport, id);
  }

  /** The read's writes are out: one sample per transport that delivered in it. */
  end(): void {
    this.#open = false;
    for (const transport of ['ws', 'sse'] as const) {
      const id = this.#pending[transport];
      if (id === undefined) continue;
      this.#pending[transport] = undefined;
      this.#observe(transport, id);
    }
  }

  #observe(transport: FeedSink['transport'], id: string): void {
    this.#metrics.deliveryLatency.observe({ transport }, Math.max(0, this.#now() - idMillis(id)) / 1000);
  }
}

/** A counting semaphore whose waits can be abandoned. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', abandon);
        resolve();
      };
      const abandon = (): void => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new Error('unsubscribed'));
      };
      signal.addEventListener('abort', abandon, { once: true });
      this.#waiting.push(grant);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}

/** The live feed of one process; `P` is the payload its encoder makes of each event. */
export class AlertFeed<P = unknown> {
  readonly #d: AlertFeedDeps<P>;
  readonly #fanout = new LiveFanout<Frame<P>>();
  readonly #live = new Set<Live<P>>();
  readonly #replays = new Slots(REPLAY_CONCURRENCY);
  readonly #stop = new AbortController();
  readonly #sampler: LatencySampler;
  #loop: Promise<void> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastId = '$';
  #healthy = false;

  constructor(d: AlertFeedDeps<P>) {
    this.#d = d;
    this.#sampler = new LatencySampler(d.metrics);
  }

  /** The event's shared frame: encoded here, once, whatever the number of subscribers. */
  #frame(e: FeedEvent): Frame<P> {
    return { meta: metaOf(e), payload: this.#d.encode(e) };
  }

  /** True while the tail loop is reading the stream. */
  get healthy(): boolean {
    return this.#healthy;
  }

  get subscribers(): number {
    return this.#live.size;
  }

  /** The id of the last feed entry this process has fanned out (null before the first). */
  get position(): string | null {
    return this.#lastId === '$' || this.#lastId === '0-0' ? null : this.#lastId;
  }

  get heartbeatMs(): number {
    return this.#d.settings.LIVE_HEARTBEAT_MS;
  }

  /** Starts tailing from the current end of the feed. */
  async start(): Promise<void> {
    this.#lastId = await this.#d.store.feedHead();
    this.#healthy = true;
    this.#loop = this.#tail();
    this.#heartbeat = setInterval(() => this.#beat(), this.#d.settings.LIVE_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Every live subscriber learns the server time and this process's feed position: proof the feed is alive. */
  #beat(): void {
    const data = { server_time: new Date().toISOString(), position: this.position, interval_ms: this.heartbeatMs };
    for (const l of this.#live) if (l.live && !l.sub.overflowed) l.sink.notice('heartbeat', data).catch(() => undefined);
  }

  async #tail(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        const feedKey = this.#d.store.feedKey;
        const reply = await this.#d.tailClient.xread('COUNT', 1000, 'BLOCK', 2000, 'STREAMS', feedKey, this.#lastId);
        this.#healthy = true;
        failures = 0;
        // One read is one batch: each socket gets every frame of it in one write, and one latency sample.
        this.#fanout.beginBatch();
        this.#sampler.begin();
        try {
          for (const [, entries] of reply ?? []) {
            for (let i = 0; i < entries.length; i++) {
              const entry = entries[i];
              if (entry) this.#deliver(entry);
              // A catch-up after an outage can be hundreds of entries for every socket: fan it out in slices, so
              // requests (and their deadline timers) are served in between instead of waiting seconds.
              if ((i + 1) % TAIL_SLICE === 0 && i + 1 < entries.length) await setImmediate();
            }
          }
        } finally {
          this.#fanout.endBatch();
          this.#sampler.end();
        }
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
    if (this.#fanout.size === 0) return;
    try {
      const event = decodeFeedEntry(entry);
      if (event) this.#fanout.publish(this.#frame(event));
      else this.#d.logger.warn({ id: entry[0] }, 'skipped a malformed feed entry');
    } catch (err) {
      // Subscribers that missed it catch up from the stream when they reconnect with their last id.
      this.#d.logger.error({ err, id: entry[0] }, 'could not fan out a feed entry');
    }
  }

  /**
   * Registers a live client: replays what it missed, then streams live until the returned function is called
   * (it resolves once the subscription is fully torn down). A replay that fails ends the connection with an
   * error frame (`unavailable` or `invalid`), never silence.
   */
  async subscribe(principal: Principal, opts: SubscribeOptions, sink: FeedSink<P>): Promise<() => Promise<void>> {
    const since = opts.since;
    if (since !== undefined && !isStreamId(since)) throw new NaboomError('NABOOM_VALIDATION', '"since" must be a stream id <ms>-<seq>');
    // Read the position and join the fan-out in one turn: every later entry reaches this subscriber live.
    const position = this.#lastId === '$' ? '0-0' : this.#lastId;
    const transport = sink.transport;
    const sampler = this.#sampler;
    const sub = new LiveSubscriber<Frame<P>>({
      severities: new Set(opts.severities),
      reporterId: canSeeAll(principal) ? undefined : principal.id,
      sink,
      capacity: this.#d.settings.CHANNEL_CAPACITY,
      lastSent: since ?? position,
      onOverflow: () => {
        this.#d.metrics.slowClients.inc({ transport });
        this.#d.logger.warn({ user: principal.username, transport }, 'live client too slow: disconnecting');
        sink.close('slow');
        void unsubscribe();
      },
      onError: () => void unsubscribe(),
      onSent: (frame) => {
        if (frame.meta.type === 'alert') sampler.note(transport, frame.meta.id);
      },
    });
    const live: Live<P> = { sub, principal, sink, abort: new AbortController(), live: false };
    this.#fanout.add(sub);
    this.#live.add(live);
    this.#d.metrics.liveClients.inc({ transport });
    let removed = false;
    const running = this.#run(live, since, position);
    const unsubscribe = async (): Promise<void> => {
      if (!removed) {
        removed = true;
        live.abort.abort();
        sub.close();
        this.#fanout.remove(sub);
        this.#live.delete(live);
        this.#d.metrics.liveClients.dec({ transport });
      }
      await running.catch(() => undefined);
    };
    running.catch(async (err: unknown) => {
      if (live.abort.signal.aborted) return;
      const invalid = err instanceof NaboomError ? err.code === 'NABOOM_VALIDATION' : /invalid stream id/i.test(String(err));
      this.#d.logger.warn({ err, user: principal.username }, 'live replay failed: closing the connection');
      sink.close(invalid ? 'invalid' : 'unavailable');
      await unsubscribe();
    });
    return unsubscribe;
  }

  async #run(l: Live<P>, since: string | undefined, position: string): Promise<void> {
    let lastId: string | null = null;
    if (since !== undefined) {
      await this.#replays.acquire(l.abort.signal);
      try {
        lastId = canSeeAll(l.principal) ? await this.#replayFeed(l, since, position) : await this.#replayOwn(l, since, position);
      } finally {
        this.#replays.release();
      }
    }
    if (l.abort.signal.aborted) return;
    if (compareIds(position, l.sub.lastSent) > 0) l.sub.lastSent = position;
    // Live frames queued behind the subscription all come after `position`: it is where this client stands.
    const standing = since === undefined && position !== '0-0' ? position : null;
    await l.sink.notice('live', { last_id: lastId ?? standing, interval_ms: this.heartbeatMs });
    l.live = true;
    l.sub.release();
  }

  /** The feed after `since` up to `position`, a page at a time, each page only once the socket took the last. */
  async #replayFeed(l: Live<P>, since: string, position: string): Promise<string | null> {
    const tail = await this.#d.store.feedTail();
    if (tail && compareIds(since, tail) < 0 && since !== '0-0') {
      await l.sink.notice('replay.truncated', { requested: since, oldest: tail });
    }
    await l.sink.notice('replay.start', { since });
    let cursor = since;
    let sent = 0;
    // Nothing after the position is replayed; the largest id is never before it (and feedAfter never sends `(max`).
    let more = compareIds(since, position) < 0;
    while (more && !l.abort.signal.aborted) {
      const page = await this.#d.store.feedAfter(cursor, REPLAY_PAGE, this.#d.readClient);
      more = page.length === REPLAY_PAGE;
      for (const e of page) {
        if (compareIds(e.id, position) > 0) {
          more = false;
          break;
        }
        cursor = e.id;
        const frame = this.#frame(e);
        if (!l.sub.wants(frame)) continue;
        await untilAborted(l.sink.write(frame), l.abort.signal);
        l.sub.lastSent = e.id;
        sent += 1;
      }
    }
    const lastId = compareIds(position, since) > 0 ? position : null;
    await l.sink.notice('replay.end', { replayed: sent, last_id: lastId });
    return lastId;
  }

  /**
   * A member's replay: the current state of each of their alerts (their reporter index, newest 1,000) raised
   * after `since` — as an `alert` frame with its own id, in id order — or changed since then — as an
   * `alert.updated` frame whose id is `since` itself, sent first, so the client's cursor never moves past an
   * event it has not seen. The replay ends at the position, which is the cursor to resume from.
   */
  async #replayOwn(l: Live<P>, since: string, position: string): Promise<string | null> {
    await l.sink.notice('replay.start', { since });
    const ids = await this.#d.readClient.zrange(this.#d.keys.alerts.byReporter(l.principal.id), '0', '-1');
    const changedAfter = idMillis(since) - CLOCK_SKEW_MS;
    const updated: AlertDoc[] = [];
    const raised: AlertDoc[] = [];
    for (let i = 0; i < ids.length && !l.abort.signal.aborted; i += DOC_BATCH) {
      const docs = await Promise.all(ids.slice(i, i + DOC_BATCH).map((id) => this.#d.store.get(id)));
      for (const d of docs) {
        if (!d || !l.sub.severities.has(d.severity)) continue;
        if (compareIds(d.id, since) > 0) raised.push(d);
        else if (Date.parse(d.updated_at) >= changedAfter) updated.push(d);
      }
    }
    raised.sort((a, b) => compareIds(a.id, b.id));
    let sent = 0;
    for (const [type, docs] of [['alert.updated', updated], ['alert', raised]] as const) {
      for (const d of docs) {
        if (l.abort.signal.aborted) return null;
        const id = type === 'alert' ? d.id : since;
        const e: FeedEvent = { id, type, alert: d };
        await untilAborted(l.sink.write(this.#frame(e)), l.abort.signal);
        sent += 1;
      }
    }
    const lastId = compareIds(position, since) > 0 ? position : null;
    await l.sink.notice('replay.end', { replayed: sent, last_id: lastId });
    return lastId;
  }

  /** Tells every subscriber the server is going away and stops tailing. */
  async stop(): Promise<void> {
    this.#stop.abort();
    clearInterval(this.#heartbeat);
    for (const l of [...this.#live]) l.sink.close('shutdown');
    this.#healthy = false;
    // Break the pending XREAD BLOCK now instead of waiting for its timeout.
    this.#d.tailClient.disconnect();
    await this.#loop;
  }
}

/** Waits for `p`, or only until the signal aborts: a stalled reader cannot hold a replay slot after unsubscribing. */
export function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    // The client is gone already: its write may still fail ("client gone"), and nobody awaits it any more.
    p.catch(() => undefined);
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
