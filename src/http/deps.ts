/** What the HTTP layer is built from; `start/server.ts` wires it, tests build it with real services. */
import type { FastifyInstance } from 'fastify';
import type { AlertFeed } from '../alerts/feed.js';
import type { AlertService } from '../alerts/service.js';
import type { UserStore } from '../auth/users.js';
import type { Config } from '../config/load.js';
import type { RedisHealth } from '../health/redis-health.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RoleClients } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import type { Authenticator } from './auth.js';
import type { LiveFrame } from './live/frames.js';

export interface AppDeps {
  readonly config: Config;
  readonly keys: KeySpace;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clients: RoleClients;
  readonly alerts: AlertService;
  readonly feed: AlertFeed<LiveFrame>;
  readonly users: UserStore;
  readonly health: RedisHealth;
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
