/**
 * The one loop per process that drains its inbox: messages for its local channels, one envelope per group
 * send, and group-membership control from other processes. It owns a dedicated blocking connection; under
 * load one LPOP takes a whole batch, when idle BLPOP waits. It stops when it pops its own stop token, so
 * nothing it already took from Redis is lost on close.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { reconnectDelay, type RedisClient } from '../redis/connections.js';

export interface InboxLoopDeps {
  readonly key: string;
  /** The loop's own connection: BLPOP blocks it. */
  readonly client: RedisClient;
  /** A request connection, used to wake the loop on stop. */
  readonly command: RedisClient;
  readonly batch: number;
  readonly logger: Logger;
  /** Handles one popped batch synchronously, so no other code sees it half-applied. */
  handle(raws: Buffer[]): void;
  /** Called after each handled batch (the inbox was just drained). */
  drained?(): void;
}

/** How long `stop()` waits for the stop token to come round before dropping the connection. */
const STOP_GRACE_MS = 2000;

export class InboxLoop {
  readonly #d: InboxLoopDeps;
  readonly #stopToken = Buffer.from(`stop:${randomBytes(12).toString('hex')}`);
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(deps: InboxLoopDeps) {
    this.#d = deps;
  }

  start(): void {
    if (this.#running || this.#stopping) return;
    this.#running = this.#run();
  }

  get running(): boolean {
    return this.#running !== undefined && !this.#stopping;
  }

  /** Wakes the loop with its stop token and waits for it to finish; drops the connection if Redis does not answer. */
  async stop(): Promise<void> {
    if (this.#stopping) return await this.#running;
    this.#stopping = true;
    this.#wake?.();
    const running = this.#running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), STOP_GRACE_MS)));
    try {
      const woken = this.#d.command.rpush(this.#d.key, this.#stopToken).catch((err: unknown) => {
        this.#d.logger.debug({ err }, 'could not wake the inbox loop');
      });
      const outcome = await Promise.race([running.then(() => 'done' as const), grace]);
      if (outcome === 'timeout') this.#d.client.disconnect();
      await Promise.all([running, woken]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(): Promise<void> {
    const { client, key, batch } = this.#d;
    let failures = 0;
    while (!this.#stopping) {
      try {
        let raws = await client.lpopBuffer(key, batch);
        if (!raws || raws.length === 0) {
          const one = await client.blpopBuffer(key, 0);
          raws = one ? [one[1]] : [];
        }
        failures = 0;
        this.#dispatch(raws);
      } catch (err) {
        if (this.#stopping) break;
        failures += 1;
        this.#d.logger.warn({ err, failures }, 'channel inbox read failed; retrying');
        await new Promise<void>((res) => {
          const t = setTimeout(res, reconnectDelay(failures));
          this.#wake = () => {
            clearTimeout(t);
            res();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  #dispatch(raws: Buffer[]): void {
    const stopAt = raws.findIndex((r) => r.equals(this.#stopToken));
    if (stopAt < 0) return this.#handle(raws);
    this.#handle(raws.slice(0, stopAt));
    // A stop token we did not ask for (replayed) is ignored.
    if (!this.#stopping) this.#handle(raws.slice(stopAt + 1));
  }

  #handle(raws: Buffer[]): void {
    if (raws.length === 0) return;
    try {
      this.#d.handle(raws);
      this.#d.drained?.();
    } catch (err) {
      this.#d.logger.error({ err }, 'channel inbox handler failed');
    }
  }
}
