/**
 * Rate limits counted in Redis (app role, `naboom:ratelimit:*`) through @fastify/rate-limit, so every serve
 * process shares one budget. They run after authentication and validation, so a rejected request writes
 * nothing; a request over any of its limits gets 429 NABOOM_RATE_LIMITED with Retry-After.
 *
 * The counters go through our own store: the counters of every request handled in one turn of the event
 * loop (a request has one per limit) are incremented by one script call — one per hash slot on Cluster —
 * instead of one script call each. Fixed windows, as @fastify/rate-limit's Redis store counts them.
 */
import fastifyRateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NaboomError } from '../errors/catalogue.js';
import type { Metrics } from '../metrics/registry.js';
import { TurnBatcher } from '../redis/batch.js';
import type { RedisClient } from '../redis/connections.js';
import { LuaScript } from '../redis/script.js';
import { isCluster, keySlot } from '../redis/slot.js';

export interface Limit {
  readonly name: string;
  readonly max: number;
  /** The counter key for this request (user id, IP, …); scoped by `name`. */
  key(req: FastifyRequest): string;
}

export type LimitHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * KEYS: counters. ARGV: each counter's window in ms (same order).
 * Returns current count and remaining window (ms) per counter, flat. A counter found without an expiry
 * (never written by this script) gets one, so no counter can block forever.
 */
export const COUNT = new LuaScript(
  'rate-limit-count',
  `
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local current = redis.call('INCR', key)
  local ttl = window
  if current == 1 then
    redis.call('PEXPIRE', key, window)
  else
    ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
  end
  out[#out + 1] = current
  out[#out + 1] = ttl
end
return out
`,
);

interface Count {
  readonly key: string;
  readonly windowMs: number;
}
interface Counted {
  readonly current: number;
  readonly ttl: number;
}

/** Counts a batch of counters; on Cluster one script call per hash slot (a script's keys share one). */
export function batchCounter(redis: RedisClient): (items: readonly Count[]) => Promise<Counted[]> {
  const runGroup = async (items: readonly Count[]): Promise<Counted[]> => {
    const flat = (await COUNT.run(
      redis,
      items.map((i) => i.key),
      items.map((i) => i.windowMs),
    )) as number[];
    return items.map((_, i) => ({ current: Number(flat[2 * i]), ttl: Number(flat[2 * i + 1]) }));
  };
  if (!isCluster(redis)) return runGroup;
  return async (items) => {
    const bySlot = new Map<number, number[]>();
    items.forEach((item, i) => {
      const slot = keySlot(item.key);
      const group = bySlot.get(slot);
      if (group) group.push(i);
      else bySlot.set(slot, [i]);
    });
    const out = new Array<Counted>(items.length);
    await Promise.all(
      [...bySlot.values()].map(async (indexes) => {
        const counted = await runGroup(indexes.map((i) => items[i] as Count));
        indexes.forEach((itemIndex, j) => (out[itemIndex] = counted[j] as Counted));
      }),
    );
    return out;
  };
}

/** The shared store in Redis (app role): a @fastify/rate-limit store whose increments are batched per event-loop turn. */
export function redisRateLimitStore(redis: RedisClient, prefix: string): FastifyRateLimitStoreCtor {
  const counter = new TurnBatcher<Count, Counted>(batchCounter(redis), 256);
  class BatchedRedisStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: Counted) => void, timeWindow: number): void {
      counter.submit({ key: prefix + key, windowMs: timeWindow }).then(
        (r) => callback(null, r),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    }

    /** Limits are named by their key generator (`<limit>:<subject>`), so children share the store. */
    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return BatchedRedisStore;
}

/**
 * Registers the counters' store (`redisRateLimitStore` in production; undefined counts in this process's
 * memory); every limit counts in fixed windows of `windowS` (RATE_LIMIT_WINDOW_S).
 */
export async function registerRateLimits(app: FastifyInstance, store: FastifyRateLimitStoreCtor | undefined, windowS: number): Promise<void> {
  await app.register(fastifyRateLimit, { global: false, ...(store ? { store } : {}), skipOnError: false, timeWindow: windowS * 1000 });
}

/** A preHandler enforcing all `limits` per window (the one given to registerRateLimits). */
export function limiter(app: FastifyInstance, metrics: Metrics, limits: readonly Limit[]): LimitHook {
  const checks = limits.map((l) => ({
    limit: l,
    run: app.createRateLimit({ max: l.max, keyGenerator: (req: FastifyRequest) => `${l.name}:${l.key(req)}` }),
  }));
  return async (req, reply) => {
    const results = await Promise.all(checks.map(async (c) => ({ limit: c.limit, r: await c.run(req) })));
    const exceeded = results.filter((x) => !x.r.isAllowed && x.r.isExceeded);
    if (exceeded.length === 0) return;
    const retryAfter = Math.max(1, ...exceeded.map((x) => (x.r.isAllowed ? 0 : x.r.ttlInSeconds)));
    for (const x of exceeded) metrics.rateLimited.inc({ limit: x.limit.name });
    reply.header('retry-after', String(retryAfter));
    throw new NaboomError('NABOOM_RATE_LIMITED', `Too many requests: limit "${exceeded.map((x) => x.limit.name).join(', ')}" reached; retry in ${retryAfter} s`, {
      details: { limits: exceeded.map((x) => x.limit.name), retry_after_s: retryAfter },
    });
  };
}
