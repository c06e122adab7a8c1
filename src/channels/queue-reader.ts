/**
 * Receiving from a normal (non-local) channel, whose messages wait in a Redis list. When messages are
 * waiting, one LPOP takes a batch (one round trip for many receives); when the list is empty, BLPOP waits on
 * a blocking connection from a small pool, never on the shared request connection.
 *
 * Popped messages nobody is waiting for any more go back to the head of the list, so other consumers of the
 * channel get them: at once when the receive they were popped for was cancelled, and after a short idle
 * grace for the rest of a batch (a consumer in a receive loop takes them long before that).
 */
import type { Logger } from '../log/logger.js';
import type { RedisClient } from '../redis/connections.js';
import type { ChannelMessage } from './schema.js';
import { Deque, WaiterQueue, type ReceiveOptions } from './waiters.js';

/** A popped message that passed authentication and validation. */
export interface Accepted {
  readonly message: ChannelMessage;
  readonly expiresAt: number;
}

interface Buffered extends Accepted {
  readonly raw: Buffer;
}

/**
 * Longest single BLPOP: a connection held for a cancelled receive comes back within it, and close() waits at
 * most this long for a pending pop (whatever it pops is put back, not lost).
 */
const MAX_BLOCK_S = 1;
/** How long the rest of a batch waits in memory for the next receive before it goes back to Redis. */
const IDLE_REQUEUE_MS = 250;

/** Blocking connections, lent to one BLPOP at a time (they belong to RoleClients, which closes them). */
export class BlockingPool {
  readonly #idle: RedisClient[] = [];
  #created = 0;

  constructor(private readonly create: (n: number) => RedisClient) {}

  acquire(): RedisClient {
    return this.#idle.pop() ?? this.create(this.#created++);
  }

  release(c: RedisClient): void {
    this.#idle.push(c);
  }
}

export interface QueueReaderDeps {
  readonly key: string;
  readonly channel: string;
  readonly command: RedisClient;
  readonly pool: BlockingPool;
  readonly batch: number;
  readonly logger: Logger;
  /** Opens and validates one raw element; undefined when it was rejected (already counted and logged). */
  accept(raw: Buffer): Accepted | undefined;
  /** Puts raw elements back at the head of the list, oldest first. */
  requeue(raws: Buffer[]): Promise<void>;
}

/** Receives of one normal channel in this process, served in order. */
export class QueueReader {
  readonly #d: QueueReaderDeps;
  readonly #buffer = new Deque<Buffered>();
  readonly #waiters = new WaiterQueue<ChannelMessage>();
  #pumping: Promise<void> | undefined;
  /** Cleared synchronously when the pump loop exits, so a receive in the very next tick starts a new one. */
  #active = false;
  #requeuing: Promise<void> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: QueueReaderDeps) {
    this.#d = deps;
  }

  receive(opts: ReceiveOptions): Promise<ChannelMessage> {
    clearTimeout(this.#idleTimer);
    const now = Date.now();
    if (this.#waiters.size === 0) {
      for (let item = this.#buffer.shift(); item; item = this.#buffer.shift()) {
        if (item.expiresAt > now) return Promise.resolve(item.message);
      }
    }
    const pending = this.#waiters.wait(opts);
    if (!this.#active) {
      this.#active = true;
      this.#pumping = this.#pump();
    }
    return pending;
  }

  /**
   * Stops the reader: pending receives are rejected with `reason`, and messages it had popped but not yet
   * handed out are returned (oldest first) so the caller can put them back at the head of the list.
   */
  async close(reason: Error): Promise<Buffer[]> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#waiters.rejectAll(reason);
    await Promise.all([this.#pumping, this.#requeuing]);
    return this.#takeBuffered();
  }

  async #pump(): Promise<void> {
    const { command, key, batch } = this.#d;
    try {
      while (this.#waiters.size > 0 && !this.#closed) {
        let raws = await command.lpopBuffer(key, batch);
        let blocked = false;
        if (!raws || raws.length === 0) {
          if (this.#waiters.size === 0 || this.#closed) break;
          raws = await this.#block();
          blocked = true;
        }
        this.#distribute(raws);
        // Popped for a receive that was cancelled meanwhile: give it back now, others may be waiting.
        if (blocked && this.#waiters.size === 0 && !this.#closed) await this.#requeueBuffered();
      }
    } catch (err) {
      if (this.#closed) return;
      this.#d.logger.warn({ channel: this.#d.channel, err }, 'channel receive failed');
      this.#waiters.rejectAll(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#active = false;
      if (this.#buffer.length > 0 && !this.#closed) {
        this.#idleTimer = setTimeout(() => void this.#requeueBuffered(), IDLE_REQUEUE_MS);
        this.#idleTimer.unref();
      }
    }
  }

  /** Returns buffered messages to Redis; never throws (a failure is logged: they expire there anyway). */
  #requeueBuffered(): Promise<void> {
    const raws = this.#takeBuffered();
    if (raws.length === 0) return Promise.resolve();
    const done = this.#d
      .requeue(raws)
      .catch((err: unknown) => this.#d.logger.warn({ channel: this.#d.channel, err, count: raws.length }, 'could not put messages back'))
      .finally(() => {
        if (this.#requeuing === done) this.#requeuing = undefined;
      });
    this.#requeuing = done;
    return done;
  }

  #takeBuffered(): Buffer[] {
    const now = Date.now();
    return this.#buffer.drain().filter((b) => b.expiresAt > now).map((b) => b.raw);
  }

  async #block(): Promise<Buffer[]> {
    const deadline = this.#waiters.earliestDeadline();
    const seconds = deadline === undefined ? MAX_BLOCK_S : Math.min(MAX_BLOCK_S, Math.max(0.01, (deadline - Date.now()) / 1000));
    const conn = this.#d.pool.acquire();
    try {
      const r = await conn.blpopBuffer(this.#d.key, seconds.toFixed(3));
      return r ? [r[1]] : [];
    } finally {
      this.#d.pool.release(conn);
    }
  }

  #distribute(raws: Buffer[]): void {
    const now = Date.now();
    for (const raw of raws) {
      const ok = this.#d.accept(raw);
      if (!ok || ok.expiresAt <= now) continue;
      if (this.#buffer.length > 0 || !this.#waiters.resolveNext(ok.message)) this.#buffer.push({ ...ok, raw });
    }
  }
}
