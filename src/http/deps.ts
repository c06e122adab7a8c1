/**
 * What the HTTP layer is built from: narrow views of the domain services (`start/services.ts` provides the
 * real ones, backed by Redis; the `src/http/*.test.ts` tests give in-memory stand-ins and no Redis at all).
 */
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type fastifySession from '@fastify/session';
import type { FastifyInstance } from 'fastify';
import type { AlertFeed } from '../alerts/feed.js';
import type { AlertService } from '../alerts/service.js';
import type { UserStore } from '../auth/users.js';
import type { Config } from '../config/load.js';
import type { RedisHealth } from '../health/redis-health.js';
import type { Logger } from '../log/logger.js';
import type { PushSubscriptionStore } from '../push/subscriptions.js';
import type { PresenceStore } from '../presence/store.js';
import type { Metrics } from '../metrics/registry.js';
import type { Authenticator } from './auth.js';
import type { LiveFrame } from './live/frames.js';

/** The alert operations the routes call; the service decides who may do what. */
export type AlertOperations = Pick<AlertService, 'raise' | 'get' | 'list' | 'act' | 'locate' | 'claim' | 'unclaim' | 'postMessage' | 'messages'>;

/** Account lookups: login, bearer tokens, sessions and the live feeds' credential re-checks. */
export type AccountLookup = Pick<UserStore, 'get' | 'byToken' | 'authenticate'>;

/** The live feed the WebSocket and SSE routes subscribe to. */
export type LiveFeed = Pick<AlertFeed<LiveFrame>, 'subscribe' | 'healthy'>;

/** A responder's push subscriptions (the push routes). */
export type PushSubscriptions = Pick<PushSubscriptionStore, 'save' | 'remove'>;

/** Responder presence (the presence routes; `positionOf` for the claim route: null when stale or none). */
export type PresenceOperations = Pick<PresenceStore, 'update' | 'remove' | 'list' | 'nearest' | 'positionOf'>;

/** The `/health/redis` report. */
export type HealthReport = Pick<RedisHealth, 'report'>;

/** The role connections `/health/ready` pings. */
export interface ReadinessClients {
  get(role: 'app' | 'realtime'): { ping(): Promise<string> };
}

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clients: ReadinessClients;
  readonly alerts: AlertOperations;
  readonly feed: LiveFeed;
  readonly users: AccountLookup;
  readonly health: HealthReport;
  /** Push subscriptions; absent (or no VAPID keys): the push routes answer 404 NABOOM_PUSH_DISABLED. */
  readonly push?: PushSubscriptions;
  /** Responder presence; absent: the presence routes answer 503 (a test app without Redis). */
  readonly presence?: PresenceOperations;
  /** Where sessions are kept (Redis, app role, in production). */
  readonly sessionStore: fastifySession.SessionStore;
  /** Where rate-limit counters are kept (Redis, shared by every serve process); absent: in this process. */
  readonly rateLimitStore?: FastifyRateLimitStoreCtor;
  /** Directory of the built dashboard, when present. */
  readonly dashboardDir?: string;
  /** True once shutdown started (readiness turns 503). */
  readonly draining: () => boolean;
}

/** Everything a route module receives. */
export interface RouteContext extends AppDeps {
  readonly app: FastifyInstance;
  readonly auth: Authenticator;
}
