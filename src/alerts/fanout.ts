/**
 * The live feed's process-local fan-out: no Redis, no membership expiry. Subscribers are indexed by the
 * severities they see (see-all principals) or by their own reporter id (members), so an event reaches only
 * the subscribers that may see it without a scan of everyone.
 *
 * Delivery is a plain loop: a subscriber whose socket is below its high-water mark gets the frame written
 * there and then (no promise, no queue). Only a backed-up socket — or one still replaying — queues frames,
 * bounded by the capacity; one frame more and the subscriber is marked overflowed and reported, exactly as a
 * full channel was.
 *
 * Inside a batch (`beginBatch` … `endBatch`: one feed read) the first write to a socket corks it and the end of
 * the batch uncorks every socket written to, so all the frames one read produces for a socket leave in one
 * write (Node hands the corked chunks to the kernel in one `writev`): under a burst that is one syscall per
 * socket per read instead of one per alert, and under light load a batch is one alert and waits for nothing.
 * The end of the batch tells each sink which frames the batch published: a socket that got all of them (a
 * board that sees every severity) can be sent one block built once for all such sockets (http/live/ws-socket.ts).
 */
import { Deque } from '../channels/waiters.js';
import type { Severity } from '../redis/keys.js';
import { idParts } from './model.js';

/** What the fan-out needs to know about an event frame (feed.ts `Frame`). */
export interface FanoutFrame {
  readonly meta: {
    readonly id: string;
    /** The id's parts as numbers (`idParts`): compared with each socket's last id without parsing it again. */
    readonly ms: number;
    readonly seq: number;
    readonly type: string;
    readonly severity: Severity;
    readonly reporterId: string;
  };
}

/** Where a subscriber's event frames go. */
export interface FanoutSink<F extends FanoutFrame> {
  /** Writes the frame now when the transport is below its high-water mark; false (nothing written) when not. */
  tryWrite(frame: F): boolean;
  /** Writes the frame; resolves when the transport can take more. */
  write(frame: F): Promise<void>;
  /** Holds this transport's writes until `uncork` (counted: each cork needs its uncork). */
  cork(): void;
  /**
   * Hands every write held since `cork` to the transport at once. `batch`: every frame the batch published, in
   * order — a sink that was given exactly these may send them as one block shared by all such sockets.
   */
  uncork(batch: readonly F[]): void;
}

export interface LiveSubscriberOptions<F extends FanoutFrame> {
  readonly severities: ReadonlySet<Severity>;
  /** A member's id (sees only their own alerts); undefined for principals that see every alert. */
  readonly reporterId: string | undefined;
  readonly sink: FanoutSink<F>;
  /** Frames queued at most while the socket is backed up or replaying. */
  readonly capacity: number;
  /** The last id the client already has: frames up to it are never sent. */
  readonly lastSent: string;
  /** Called once when the queue overflowed; the subscriber delivers nothing after it. */
  onOverflow(): void;
  /** Called when a queued write failed (the client is gone). */
  onError(err: unknown): void;
  /** Called after each event frame reached the transport (cheap: it runs once per delivery). */
  onSent(frame: F): void;
}

/** One live client: its filter, the id it has reached, and the bounded queue used only while backed up. */
export class LiveSubscriber<F extends FanoutFrame> {
  readonly severities: ReadonlySet<Severity>;
  readonly reporterId: string | undefined;
  readonly #o: LiveSubscriberOptions<F>;
  #lastSent: string;
  /** `#lastSent` as numbers, so the per-socket "is this frame new" check parses nothing. */
  #lastMs: number;
  #lastSeq: number;
  readonly #queue = new Deque<F>();
  /** While held (replaying), frames only queue. */
  #held = true;
  #pumping = false;
  #closed = false;
  #overflowed = false;
  /** Corked by the open batch (uncorked when it ends). */
  #corked = false;

  constructor(o: LiveSubscriberOptions<F>) {
    this.#o = o;
    this.severities = o.severities;
    this.reporterId = o.reporterId;
    this.#lastSent = o.lastSent;
    [this.#lastMs, this.#lastSeq] = idParts(o.lastSent);
  }

  /** The last id the client has: frames up to it are never sent. */
  get lastSent(): string {
    return this.#lastSent;
  }

  set lastSent(id: string) {
    this.#lastSent = id;
    [this.#lastMs, this.#lastSeq] = idParts(id);
  }

  /** Whether the frame comes after the client's last id. */
  #isNew(frame: F): boolean {
    const m = frame.meta;
    return m.ms > this.#lastMs || (m.ms === this.#lastMs && m.seq > this.#lastSeq);
  }

  #sent(frame: F): void {
    const m = frame.meta;
    this.#lastSent = m.id;
    this.#lastMs = m.ms;
    this.#lastSeq = m.seq;
    this.#o.onSent(frame);
  }

  get overflowed(): boolean {
    return this.#overflowed;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Whether the frame is for this subscriber (its severities; members only their own alerts). */
  wants(frame: F): boolean {
    return this.severities.has(frame.meta.severity) && (this.reporterId === undefined || this.reporterId === frame.meta.reporterId);
  }

  /**
   * Delivers one live frame: written now if the socket can take it, else queued (bounded). With a batch, the
   * socket is corked on its first write and joins the batch, which uncorks it at its end. `matched`: the
   * caller already knows the frame is for this subscriber (the fan-out's index chose it), so `wants` is skipped.
   */
  offer(frame: F, batch?: LiveSubscriber<F>[], matched = false): void {
    if (this.#closed || (!matched && !this.wants(frame))) return;
    if (!this.#held && !this.#pumping && this.#queue.length === 0) {
      if (!this.#isNew(frame)) return;
      if (batch !== undefined && !this.#corked) {
        this.#corked = true;
        this.#o.sink.cork();
        batch.push(this);
      }
      if (this.#o.sink.tryWrite(frame)) {
        this.#sent(frame);
        return;
      }
    }
    if (this.#queue.length >= this.#o.capacity) {
      this.#overflow();
      return;
    }
    this.#queue.push(frame);
    if (!this.#held) this.#pump();
  }

  /** Ends the hold (the replay is done): queued frames newer than `lastSent` go out, then live. */
  release(): void {
    if (this.#closed) return;
    this.#held = false;
    if (this.#queue.length > 0) this.#pump();
  }

  /** Releases the batch's cork: the frames written since go out in one write (`batch`: all it published). */
  uncork(batch: readonly F[]): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#o.sink.uncork(batch);
  }

  /** Stops all delivery and drops the queue. */
  close(): void {
    this.#closed = true;
    this.#queue.drain();
  }

  #overflow(): void {
    if (this.#overflowed) return;
    this.#overflowed = true;
    this.close();
    this.#o.onOverflow();
  }

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#drain().catch((err: unknown) => {
      this.close();
      this.#o.onError(err);
    });
  }

  async #drain(): Promise<void> {
    try {
      for (let f = this.#queue.shift(); f !== undefined && !this.#closed; f = this.#queue.shift()) {
        if (!this.#isNew(f)) continue;
        await this.#o.sink.write(f);
        this.#sent(f);
      }
    } finally {
      // In the same turn as the last (empty) shift: an offer after this starts a new pump, none is stranded.
      this.#pumping = false;
    }
  }
}

/** The index of this process's live subscribers. */
export class LiveFanout<F extends FanoutFrame> {
  readonly #bySeverity = new Map<Severity, Set<LiveSubscriber<F>>>();
  readonly #byReporter = new Map<string, Set<LiveSubscriber<F>>>();
  readonly #all = new Set<LiveSubscriber<F>>();
  /** The subscribers corked by the open batch; undefined outside a batch. */
  #batch: LiveSubscriber<F>[] | undefined;
  /** Every frame the open batch published, in order. */
  #batchFrames: F[] = [];

  get size(): number {
    return this.#all.size;
  }

  /** Every subscriber (heartbeats, shutdown). */
  subscribers(): IterableIterator<LiveSubscriber<F>> {
    return this.#all.values();
  }

  add(sub: LiveSubscriber<F>): void {
    if (this.#all.has(sub)) return;
    this.#all.add(sub);
    if (sub.reporterId !== undefined) addTo(this.#byReporter, sub.reporterId, sub);
    else for (const s of sub.severities) addTo(this.#bySeverity, s, sub);
  }

  /** Removes a subscriber; false when it was not there. */
  remove(sub: LiveSubscriber<F>): boolean {
    if (!this.#all.delete(sub)) return false;
    if (sub.reporterId !== undefined) removeFrom(this.#byReporter, sub.reporterId, sub);
    else for (const s of sub.severities) removeFrom(this.#bySeverity, s, sub);
    return true;
  }

  /** Starts a batch: until `endBatch`, each socket's writes are held and then leave together. */
  beginBatch(): void {
    if (this.#batch) return;
    this.#batch = [];
    this.#batchFrames = [];
  }

  /** Ends the batch: every socket written to in it gets its frames in one write. */
  endBatch(): void {
    const batch = this.#batch;
    const frames = this.#batchFrames;
    this.#batch = undefined;
    this.#batchFrames = [];
    if (batch) for (const sub of batch) sub.uncork(frames);
  }

  /** Offers a frame to every subscriber that may see it. */
  publish(frame: F): void {
    const batch = this.#batch;
    if (batch) this.#batchFrames.push(frame);
    const bySeverity = this.#bySeverity.get(frame.meta.severity);
    // Indexed by this severity, these see every reporter's events: each is known to want the frame.
    if (bySeverity) for (const sub of bySeverity) sub.offer(frame, batch, true);
    // A member's own events: the severity is still theirs to choose.
    const byReporter = this.#byReporter.get(frame.meta.reporterId);
    if (byReporter) for (const sub of byReporter) sub.offer(frame, batch);
  }
}

function addTo<K, F extends FanoutFrame>(index: Map<K, Set<LiveSubscriber<F>>>, key: K, sub: LiveSubscriber<F>): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set<LiveSubscriber<F>>()));
  set.add(sub);
}

function removeFrom<K, F extends FanoutFrame>(index: Map<K, Set<LiveSubscriber<F>>>, key: K, sub: LiveSubscriber<F>): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(sub);
  if (set.size === 0) index.delete(key);
}
