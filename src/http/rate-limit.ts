/**
 * Rate limits counted in Redis (app role, `naboom:ratelimit:*`) with @fastify/rate-limit's store, so every
 * serve process shares one budget. They run after authentication and validation, so a rejected request
 * writes nothing; a request over any of its limits gets 429 NABOOM_RATE_LIMITED with Retry-After.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NaboomError } from '../errors/catalogue.js';
import type { Metrics } from '../metrics/registry.js';
import type { RedisClient } from '../redis/connections.js';

export interface Limit {
  readonly name: string;
  readonly max: number;
  /** The counter key for this request (user id, IP, …); scoped by `name`. */
  key(req: FastifyRequest): string;
}

export type LimitHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

export async function registerRateLimits(app: FastifyInstance, redis: RedisClient, prefix: string): Promise<void> {
  await app.register(fastifyRateLimit, { global: false, redis, nameSpace: prefix, skipOnError: false });
}

/** A preHandler enforcing all `limits` per minute. */
export function limiter(app: FastifyInstance, metrics: Metrics, limits: readonly Limit[]): LimitHook {
  const checks = limits.map((l) => ({
    limit: l,
    run: app.createRateLimit({ max: l.max, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `${l.name}:${l.key(req)}` }),
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
