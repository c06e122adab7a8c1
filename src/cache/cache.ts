/**
 * Named caches (the django-redis caches of the original): keys `prefix:version:key`, JSON values, a default
 * TTL per cache. A cache is an optimisation, so on a request path a Redis error degrades to a miss (or a
 * no-op write) with one log line and a metric — never a 500.
 */
import type { z } from 'zod';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RedisClient } from '../redis/connections.js';
import type { CacheName, KeySpace } from '../redis/keys.js';
import { isCluster } from '../redis/slot.js';

export interface CacheOptions {
  readonly name: CacheName;
  /** A `command` client of the role that owns the cache's namespace. */
  readonly client: RedisClient;
  readonly keys: KeySpace;
  readonly defaultTtlS: number;
  readonly version?: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

type Op = 'get' | 'set' | 'delete' | 'increment' | 'ttl' | 'many' | 'setMany';

/** One named cache. Values are JSON; reads are validated with a zod schema when one is given. */
export class Cache {
  readonly name: CacheName;
  readonly defaultTtlS: number;
  readonly #o: CacheOptions;
  readonly #version: number;

  constructor(o: CacheOptions) {
    this.#o = o;
    this.name = o.name;
    this.defaultTtlS = o.defaultTtlS;
    this.#version = o.version ?? 1;
  }

  /** The Redis key for a cache key (`prefix:version:key`). */
  key(key: string): string {
    return this.#o.keys.cache(this.name, key, this.#version);
  }

  /** The value, or `undefined` on a miss, a Redis error or a value that fails `schema`. */
  async get<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined>;
  async get(key: string): Promise<unknown>;
  async get<T>(key: string, schema?: z.ZodType<T>): Promise<unknown> {
    const k = this.key(key);
    const raw = await this.#guard('get', () => this.#o.client.get(k), null);
    return this.#decode(raw, schema);
  }

  /** Stores `value` for `ttlS` seconds (default: the cache's TTL). Returns false if it could not be stored. */
  async set(key: string, value: unknown, ttlS = this.defaultTtlS): Promise<boolean> {
    const k = this.key(key);
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError('Cache values must be JSON-serialisable');
    return await this.#guard('set', async () => (await this.#o.client.set(k, json, 'EX', ttlS)) === 'OK', false);
  }

  /** Removes a key; true when something was removed. */
  async delete(key: string): Promise<boolean> {
    const k = this.key(key);
    return await this.#guard('delete', async () => (await this.#o.client.unlink(k)) > 0, false);
  }

  /**
   * The cached value, or the producer's result (stored for `ttlS`). When Redis fails the producer still
   * runs, so the caller always gets an answer.
   */
  async getOrSet<T>(key: string, schema: z.ZodType<T>, producer: () => Promise<T>, ttlS = this.defaultTtlS): Promise<T> {
    const hit = await this.get(key, schema);
    if (hit !== undefined) return hit;
    const value = await producer();
    await this.set(key, value, ttlS);
    return value;
  }

  /**
   * Atomically adds `by` to an integer value (created at 0 with the default TTL when missing). Returns the
   * new value, or `undefined` when Redis failed or the value is not an integer.
   */
  async increment(key: string, by = 1, ttlS = this.defaultTtlS): Promise<number | undefined> {
    const k = this.key(key);
    return await this.#guard(
      'increment',
      async () => {
        // INCRBY is atomic on its own; EXPIRE NX only gives a new key its TTL. A pipeline (not MULTI) keeps
        // the grant list short and costs one round trip.
        const res = await this.#o.client.pipeline().incrby(k, by).expire(k, ttlS, 'NX').exec();
        const [err, value] = res?.[0] ?? [new Error('pipeline aborted'), null];
        if (err) throw err;
        return Number(value);
      },
      undefined,
    );
  }

  /** Seconds to live: a number, `null` when the key has no expiry, `undefined` when missing or on error. */
  async ttl(key: string): Promise<number | null | undefined> {
    const k = this.key(key);
    return await this.#guard(
      'ttl',
      async () => {
        const t = await this.#o.client.ttl(k);
        return t === -2 ? undefined : t === -1 ? null : t;
      },
      undefined,
    );
  }

  /** Several values in one round trip; missing or invalid ones are absent from the map. */
  async many<T>(keys: readonly string[], schema: z.ZodType<T>): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    if (keys.length === 0) return out;
    // MGET is one round trip on a single node; on Cluster the keys may live on different slots, so each key
    // is read on its own (auto-pipelined per node).
    const client = this.#o.client;
    const redisKeys = keys.map((k) => this.key(k));
    const raws = await this.#guard('many', () => (isCluster(client) ? Promise.all(redisKeys.map((k) => client.get(k))) : client.mget(redisKeys)), [] as (string | null)[]);
    keys.forEach((k, i) => {
      const v = this.#decode(raws[i] ?? null, schema);
      if (v !== undefined) out.set(k, v as T);
    });
    return out;
  }

  /** Stores several values (one pipeline). Returns false if Redis failed. */
  async setMany(entries: ReadonlyMap<string, unknown> | Record<string, unknown>, ttlS = this.defaultTtlS): Promise<boolean> {
    const list: [string, unknown][] = entries instanceof Map ? [...(entries as ReadonlyMap<string, unknown>)] : Object.entries(entries);
    if (list.length === 0) return true;
    return await this.#guard(
      'setMany',
      async () => {
        const client = this.#o.client;
        if (isCluster(client)) {
          await Promise.all(list.map(([k, v]) => client.set(this.key(k), JSON.stringify(v), 'EX', ttlS)));
          return true;
        }
        const p = client.pipeline();
        for (const [k, v] of list) p.set(this.key(k), JSON.stringify(v), 'EX', ttlS);
        const res = await p.exec();
        return (res ?? []).every(([err]) => !err);
      },
      false,
    );
  }

  #decode<T>(raw: string | null, schema?: z.ZodType<T>): unknown {
    if (raw === null) {
      this.#o.metrics.cacheRequests.inc({ cache: this.name, result: 'miss' });
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.#o.metrics.cacheRequests.inc({ cache: this.name, result: 'miss' });
      return undefined;
    }
    if (schema) {
      const r = schema.safeParse(parsed);
      if (!r.success) {
        this.#o.metrics.cacheRequests.inc({ cache: this.name, result: 'miss' });
        return undefined;
      }
      parsed = r.data;
    }
    this.#o.metrics.cacheRequests.inc({ cache: this.name, result: 'hit' });
    return parsed;
  }

  async #guard<R>(op: Op, fn: () => Promise<R>, fallback: R): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      this.#o.metrics.cacheErrors.inc({ cache: this.name, op });
      this.#o.logger.warn({ cache: this.name, op, err }, 'cache unavailable; degrading to a miss');
      return fallback;
    }
  }
}
