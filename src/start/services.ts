/**
 * The services of a `serve` process, wired from the configuration: role clients, the stores, the alert
 * service and its live feed, the notification queue producer, escalation, health, and the Redis-backed
 * session and rate-limit stores. `buildApp` takes the result as it is; `startServer` listens and stops it.
 */
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type fastifySession from '@fastify/session';
import { Escalator } from '../alerts/escalator.js';
import { AlertFeed } from '../alerts/feed.js';
import { AlertService } from '../alerts/service.js';
import { AlertStore } from '../alerts/store.js';
import { UserStore } from '../auth/users.js';
import type { Config } from '../config/load.js';
import { RedisHealth } from '../health/redis-health.js';
import { encodeEvent, type LiveFrame } from '../http/live/frames.js';
import { redisRateLimitStore } from '../http/rate-limit.js';
import type { Logger } from '../log/logger.js';
import { Metrics } from '../metrics/registry.js';
import { NotificationQueue } from '../queue/notifications.js';
import { PushSubscriptionStore } from '../push/subscriptions.js';
import { DispatchPlanner } from '../presence/dispatch.js';
import { PresenceStore } from '../presence/store.js';
import { RoleClients } from '../redis/connections.js';
import { DATABASES } from '../redis/databases.js';
import type { KeySpace } from '../redis/keys.js';
import { createSessionStore } from '../sessions/sessions.js';

export interface ServicesOptions {
  /** Escalation sweep interval (tests shorten it). */
  readonly escalationIntervalMs?: number;
}

export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clients: RoleClients;
  readonly users: UserStore;
  readonly push: PushSubscriptionStore;
  readonly presence: PresenceStore;
  readonly alerts: AlertService;
  readonly feed: AlertFeed<LiveFrame>;
  readonly health: RedisHealth;
  readonly notifications: NotificationQueue;
  readonly escalator: Escalator;
  readonly sessionStore: fastifySession.SessionStore;
  readonly rateLimitStore: FastifyRateLimitStoreCtor;
  /** True once `drain()` was called (readiness turns 503). */
  readonly draining: () => boolean;
  /** Re-reads every role password; returns the roles whose password changed (the queue's counts as app). */
  reloadCredentials(): string[];
  /** First half of shutdown, before the HTTP server closes: not ready any more, escalation and feed stopped. */
  drain(): Promise<void>;
  /** Last half of shutdown, after the HTTP server closed: the queue producer and every Redis client. */
  close(): Promise<void>;
}

/** Builds every service and starts tailing the feed; nothing listens yet. */
export async function createServices(config: Config, keys: KeySpace, logger: Logger, o: ServicesOptions = {}): Promise<Services> {
  const metrics = new Metrics({ defaultMetrics: true });
  const clients = new RoleClients(config, logger, { onNoPerm: (role) => metrics.redisNoPerm.inc({ role }) });
  const notifications = new NotificationQueue({ config, keys, logger, metrics, clients });
  const users = new UserStore(clients.get('app', 'command', DATABASES.accounts), keys);
  // Beside the accounts (same client and database): removing a user deletes their subscriptions too.
  const push = new PushSubscriptionStore(clients.get('app', 'command', DATABASES.accounts), keys, config.settings.PUSH_MAX_SUBSCRIPTIONS_PER_USER);
  const store = new AlertStore(clients.get('realtime'), config, keys);
  // Presence on the realtime role (its selector on naboom:presence:*), the connection the alerts use.
  const presence = new PresenceStore(clients.get('realtime'), keys, config.settings);
  const dispatch = new DispatchPlanner(presence, config.settings, logger);
  const alerts = new AlertService({ store, notifications, metrics, logger, dispatch, positions: presence });
  const feed = new AlertFeed({ store, encode: encodeEvent, tailClient: clients.dedicated('realtime', 'feed'), readClient: clients.get('realtime'), keys, settings: config.settings, metrics, logger });
  const escalator = new Escalator(alerts, logger, o.escalationIntervalMs);
  const health = new RedisHealth(clients, config, keys);
  let draining = false;
  await feed.start();
  return {
    config,
    logger,
    metrics,
    clients,
    users,
    push,
    presence,
    alerts,
    feed,
    health,
    notifications,
    escalator,
    sessionStore: createSessionStore({ config, keys, clients }),
    rateLimitStore: redisRateLimitStore(clients.get('app', 'command', DATABASES.rateLimits), keys.rateLimitPrefix),
    draining: () => draining,
    // The queue producer's connections are RoleClients connections too: one reload reaches them.
    reloadCredentials: () => clients.reloadCredentials(),
    drain: async () => {
      draining = true;
      await escalator.stop();
      await feed.stop();
    },
    close: async () => {
      await notifications.close();
      await clients.close();
    },
  };
}
