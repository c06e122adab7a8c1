/**
 * Worker heartbeats. Each running worker keeps `<queuePrefix>:workers:<id>` alive (JSON, short TTL, refreshed)
 * and its id in the `<queuePrefix>:workers` index (both built in redis/keys.ts), and deletes both on shutdown. `naboom verify` reads them to
 * tell "no worker running" from "the worker is broken" — the app role has no CLIENT LIST, KEYS or SCAN.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';

const workerInfoSchema = z.object({
  id: z.string(),
  pid: z.number().int(),
  host: z.string(),
  queue: z.string(),
  concurrency: z.number().int(),
  tz: z.string(),
  startedAt: z.string(),
  beatAt: z.string().optional(),
});

/** What a heartbeat says about its worker. */
export type WorkerInfo = z.output<typeof workerInfoSchema>;

type Multi = ReturnType<RedisClient['multi']>;

/** Runs a MULTI and surfaces the first per-command error (EXEC itself succeeds when one command fails). */
async function execChecked(multi: Multi): Promise<void> {
  const replies = await multi.exec();
  for (const [err] of replies ?? []) if (err) throw err;
}

export const HEARTBEAT_INTERVAL_MS = 5000;
export const HEARTBEAT_TTL_MS = 15_000;
/** Index entries of workers that vanished without deregistering are pruned after this. */
const INDEX_RETENTION_MS = 3600_000;

export class WorkerHeartbeat {
  readonly #client: RedisClient;
  readonly #keys: KeySpace['queue'];
  readonly #info: WorkerInfo;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #beating = false;
  #lastWarn = 0;

  constructor(opts: { client: RedisClient; keys: KeySpace; info: WorkerInfo; logger: Logger; intervalMs?: number; ttlMs?: number }) {
    this.#client = opts.client;
    this.#keys = opts.keys.queue;
    this.#info = opts.info;
    this.#log = opts.logger;
    this.#intervalMs = opts.intervalMs ?? HEARTBEAT_INTERVAL_MS;
    this.#ttlMs = opts.ttlMs ?? HEARTBEAT_TTL_MS;
  }

  /** Writes the first beat (errors propagate: a worker that cannot write it should not start) and keeps beating. */
  async start(): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => {
      // While Redis is away the previous beat is still queued: do not pile up more.
      if (this.#beating) return;
      this.#beating = true;
      this.#beat()
        .catch((err: unknown) => {
          const now = Date.now();
          if (now - this.#lastWarn < 30_000) return;
          this.#lastWarn = now;
          this.#log.warn({ err }, 'worker heartbeat failed');
        })
        .finally(() => {
          this.#beating = false;
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops beating and deregisters; best effort (the TTL removes it anyway). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await execChecked(this.#client.multi().del(this.#keys.worker(this.#info.id)).zrem(this.#keys.workers, this.#info.id));
    } catch (err) {
      this.#log.warn({ err }, 'could not delete the worker heartbeat; it expires on its own');
    }
  }

  async #beat(): Promise<void> {
    const now = Date.now();
    await execChecked(
      this.#client
        .multi()
        .set(this.#keys.worker(this.#info.id), JSON.stringify({ ...this.#info, beatAt: new Date(now).toISOString() }), 'PX', this.#ttlMs)
        .zadd(this.#keys.workers, now + this.#ttlMs, this.#info.id)
        .zremrangebyscore(this.#keys.workers, '-inf', now - INDEX_RETENTION_MS),
    );
  }
}

/** Workers whose heartbeat key is alive (the TTL in Redis decides, not this host's clock). */
export async function liveWorkers(client: RedisClient, keySpace: KeySpace, limit = 50): Promise<WorkerInfo[]> {
  const keys = keySpace.queue;
  const ids = await client.zrevrangebyscore(keys.workers, '+inf', '-inf', 'LIMIT', 0, limit);
  if (ids.length === 0) return [];
  const values = await client.mget(ids.map((id) => keys.worker(id)));
  const out: WorkerInfo[] = [];
  for (const v of values) {
    if (!v) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(v);
    } catch {
      continue;
    }
    // A value we cannot read is not a live worker of ours.
    const parsed = workerInfoSchema.safeParse(raw);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

export const workerHost = (): string => hostname();
