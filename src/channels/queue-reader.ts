/**
 * Receiving from a normal (non-local) channel, whose messages wait in a Redis list. When messages are
 * waiting, one LPOP takes a batch (one round trip for many receives); when the list is empty, BLPOP waits on
 * a blocking connection from a small pool, never on the shared request connection.
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

/** Longest single BLPOP, so a connection held for a cancelled receive comes back soon. */
const MAX_BLOCK_S = 5;

/** Blocking connections, lent to one BLPOP at a time. */
export class BlockingPool {
  readonly #idle: RedisClient[] = [];
  readonly #all: RedisClient[] = [];

  constructor(private readonly create: (n: number) => RedisClient) {}

  acquire(): RedisClient {
    const c = this.#idle.pop();
    if (c) return c;
    const fresh = this.create(this.#all.length);
    this.#all.push(fresh);
    return fresh;
  }

  release(c: RedisClient): void {
    this.#idle.push(c);
  }

  /** Drops every connection; a BLPOP still pending fails with "Connection is closed". */
  close(): void {
    for (const c of this.#all) c.disconnect();
    this.#all.length = 0;
    this.#idle.length = 0;
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
}

/** Receives of one normal channel in this process, served in order. */
export class QueueReader {
  readonly #d: QueueReaderDeps;
  readonly #buffer = new Deque<Buffered>();
  readonly #waiters = new WaiterQueue<ChannelMessage>();
  #pumping: Promise<void> | undefined;
  #closed = false;

  constructor(deps: QueueReaderDeps) {
    this.#d = deps;
  }

  receive(opts: ReceiveOptions): Promise<ChannelMessage> {
    const now = Date.now();
    if (this.#waiters.size === 0) {
      for (let item = this.#buffer.shift(); item; item = this.#buffer.shift()) {
        if (item.expiresAt > now) return Promise.resolve(item.message);
      }
    }
    const pending = this.#waiters.wait(opts);
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined;
    });
    return pending;
  }

  /** Whether nothing waits and nothing is buffered (the reader can be dropped). */
  get idle(): boolean {
    return this.#waiters.size === 0 && this.#buffer.length === 0 && !this.#pumping;
  }

  /**
   * Stops the reader: pending receives are rejected with `reason`, and messages it had popped but not yet
   * handed out are returned (oldest first) so the caller can put them back at the head of the list.
   */
  async close(reason: Error): Promise<Buffer[]> {
    this.#closed = true;
    this.#waiters.rejectAll(reason);
    await this.#pumping;
    const now = Date.now();
    return this.#buffer.drain().filter((b) => b.expiresAt > now).map((b) => b.raw);
  }

  async #pump(): Promise<void> {
    const { command, key, batch } = this.#d;
    try {
      while (this.#waiters.size > 0 && !this.#closed) {
        let raws = await command.lpopBuffer(key, batch);
        if (!raws || raws.length === 0) {
          if (this.#waiters.size === 0 || this.#closed) break;
          raws = await this.#block();
        }
        this.#distribute(raws);
      }
    } catch (err) {
      if (this.#closed) return;
      this.#d.logger.warn({ channel: this.#d.channel, err }, 'channel receive failed');
      this.#waiters.rejectAll(err instanceof Error ? err : new Error(String(err)));
    }
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
