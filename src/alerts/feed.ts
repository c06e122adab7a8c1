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
 * reporter index (never the whole feed). At most REPLAY_CONCURRENCY replays run at once per process
 * (replay.ts).
 */
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { canSeeAll, type Principal } from '../auth/principal.js';
import type { Settings } from '../config/schema.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { LiveFanout, LiveSubscriber } from './fanout.js';
import type { FeedEncoder, FeedSink, Frame, FrameMeta, LiveSubscription, SubscribeOptions } from './feed-types.js';
import { LatencySampler } from './latency-sampler.js';
import { compareIds, idParts, MESSAGE_EVENT, type FeedEvent } from './model.js';
import { decodeFeedEntry } from './query.js';
import { REPLAY_CONCURRENCY, ReplaySlots, replayFeed, replayOwn, type ReplayDeps } from './replay.js';
import type { AlertStore } from './store.js';
import { isStreamId } from './stream-id.js';

export type { EndReason, FeedEncoder, FeedNotice, FeedSink, Frame, FrameMeta, NoticeData, NoticeType, SubscribeOptions } from './feed-types.js';
export { LatencySampler } from './latency-sampler.js';
export { REPLAY_CONCURRENCY, untilAborted } from './replay.js';

/** Feed entries fanned out in one turn of the event loop at most (the rest of a tail read after a yield). */
const TAIL_SLICE = 16;
/** Subscribers one heartbeat slice writes to in one turn of the event loop (about a millisecond of writes). */
const BEAT_SLICE = 128;
/**
 * Runs `each` over `items` in slices of `size`, one slice per turn of the event loop (I/O waiting meanwhile
 * is served between slices); stops early once `stop` is aborted.
 */
export async function inSlices<T>(items: readonly T[], size: number, stop: AbortSignal, each: (slice: readonly T[]) => void): Promise<void> {
  for (let i = 0; i < items.length && !stop.aborted; i += size) {
    if (i > 0) await setImmediate();
    if (stop.aborted) return;
    each(items.slice(i, i + size));
  }
}

const metaOf = (e: FeedEvent): FrameMeta => {
  const [ms, seq] = idParts(e.id);
  return e.type === MESSAGE_EVENT
    ? { id: e.id, ms, seq, type: e.type, severity: e.severity, reporterId: e.reporterId }
    : { id: e.id, ms, seq, type: e.type, severity: e.alert.severity, reporterId: e.alert.reporter.id };
};

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

/** The live feed of one process; `P` is the payload its encoder makes of each event. */
export class AlertFeed<P = unknown> {
  readonly #d: AlertFeedDeps<P>;
  readonly #fanout = new LiveFanout<Frame<P>>();
  readonly #live = new Set<LiveSubscription<P>>();
  readonly #replays = new ReplaySlots(REPLAY_CONCURRENCY);
  readonly #stop = new AbortController();
  readonly #sampler: LatencySampler;
  readonly #replayDeps: ReplayDeps<P>;
  #loop: Promise<void> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** A beat is still going out (a slow beat never overlaps the next). */
  #beating = false;
  #lastId = '$';
  #healthy = false;

  constructor(d: AlertFeedDeps<P>) {
    this.#d = d;
    this.#sampler = new LatencySampler(d.metrics);
    this.#replayDeps = { store: d.store, readClient: d.readClient, keys: d.keys, frame: (e) => this.#frame(e) };
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
    this.#heartbeat = setInterval(() => void this.#beat(), this.#d.settings.LIVE_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /**
   * Every live subscriber learns the server time and this process's feed position: proof the feed is alive.
   * One beat is one data object for a slice of subscribers (the transports encode it once for all of them),
   * and the slices are separate turns of the event loop: with 10,000 connections a beat would otherwise hold
   * the process for tens of milliseconds, and an alert read meanwhile would wait for it. Each slice reads the
   * position afresh, so a heartbeat never names a position older than a frame sent before it.
   */
  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      await inSlices([...this.#live], BEAT_SLICE, this.#stop.signal, (slice) => {
        const data = { server_time: new Date().toISOString(), position: this.position, interval_ms: this.heartbeatMs };
        for (const l of slice) if (l.live && !l.sub.overflowed && this.#live.has(l)) l.sink.notice('heartbeat', data).catch(() => undefined);
      });
    } finally {
      this.#beating = false;
    }
  }

  async #tail(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        const feedKey = this.#d.store.feedKey;
        const reply = await this.#d.tailClient.xread('COUNT', 1000, 'BLOCK', 2000, 'STREAMS', feedKey, this.#lastId);
        this.#healthy = true;
        failures = 0;
        // One read is one batch: each socket gets every frame of it in one write, and one latency sample. A read
        // of one entry (light load) has nothing to coalesce: its frames are written without corking each socket.
        let count = 0;
        for (const [, entries] of reply ?? []) count += entries.length;
        if (count > 1) this.#fanout.beginBatch();
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
    const live: LiveSubscription<P> = { sub, principal, sink, abort: new AbortController(), live: false };
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

  async #run(l: LiveSubscription<P>, since: string | undefined, position: string): Promise<void> {
    let lastId: string | null = null;
    if (since !== undefined) {
      await this.#replays.acquire(l.abort.signal);
      try {
        lastId = canSeeAll(l.principal) ? await replayFeed(this.#replayDeps, l, since, position) : await replayOwn(this.#replayDeps, l, since, position);
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

