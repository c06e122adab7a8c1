/**
 * Rate limits counted in Redis (app role, `naboom:ratelimit:*`) through @fastify/rate-limit, so every serve
 * process shares one budget. They run after authentication and validation, so a rejected request writes
 * nothing; a request over any of its limits gets 429 NABOOM_RATE_LIMITED with Retry-After.
 *
 * The counters go through our own store, backed by ratelimit/counter.ts (one script call per event-loop
 * turn); this file is only the Fastify wiring. Fixed windows, as @fastify/rate-limit's Redis store counts them.
 */
import fastifyRateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NaboomError } from '../errors/catalogue.js';
import type { Metrics } from '../metrics/registry.js';
import { RateLimitCounter, type Counted } from '../ratelimit/counter.js';
import type { RedisClient } from '../redis/connections.js';

export interface Limit {
  readonly name: string;
  readonly max: number;
  /** The counter key for this request (user id, IP, …); scoped by `name`. */
  key(req: FastifyRequest): string;
}

export type LimitHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** The shared store in Redis (app role): a @fastify/rate-limit store whose increments are batched per event-loop turn. */
export function redisRateLimitStore(redis: RedisClient, prefix: string): FastifyRateLimitStoreCtor {
  const counter = new RateLimitCounter(redis, prefix);
  class BatchedRedisStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: Counted) => void, timeWindow: number): void {
      counter.count(key, timeWindow).then(
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
