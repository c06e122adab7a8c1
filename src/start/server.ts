/**
 * The `serve` process: config → role clients → services → Fastify app → listen, and one graceful shutdown
 * (readiness turns 503, live clients are told and closed, in-flight requests finish, clients quit).
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Escalator } from '../alerts/escalator.js';
import { AlertFeed } from '../alerts/feed.js';
import { AlertService } from '../alerts/service.js';
import { AlertStore } from '../alerts/store.js';
import { UserStore } from '../auth/users.js';
import type { Config } from '../config/load.js';
import { RedisHealth } from '../health/redis-health.js';
import { buildApp } from '../http/app.js';
import { encodeEvent } from '../http/live/frames.js';
import type { Logger } from '../log/logger.js';
import { Metrics } from '../metrics/registry.js';
import { NotificationQueue } from '../queue/notifications.js';
import { RoleClients } from '../redis/connections.js';
import { DATABASES } from '../redis/databases.js';
import type { KeySpace } from '../redis/keys.js';

const CREDENTIAL_RELOAD_MS = 5000;

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface ServerOptions {
  readonly config: Config;
  /** The process's key space (`createKeySpace(layoutOf(config))`, built once at start). */
  readonly keys: KeySpace;
  readonly logger: Logger;
  /** Overrides HOST/PORT (tests use port 0). */
  readonly port?: number;
  readonly host?: string;
  readonly dashboardDir?: string;
  /** Escalation sweep interval (tests shorten it). */
  readonly escalationIntervalMs?: number;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly clients: RoleClients;
  readonly users: UserStore;
  readonly alerts: AlertService;
  /** Graceful stop; safe to call twice. */
  stop(): Promise<void>;
  /** Re-reads every role password from its source now (SIGHUP). */
  reloadCredentials(): void;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const { config, keys, logger } = o;
  const metrics = new Metrics({ defaultMetrics: true });
  const clients = new RoleClients(config, logger, { onNoPerm: (role) => metrics.redisNoPerm.inc({ role }) });
  const notifications = new NotificationQueue({ config, keys, logger, metrics, clients });
  const users = new UserStore(clients.get('app', 'command', DATABASES.accounts), keys);
  const store = new AlertStore(clients.get('realtime'), config, keys);
  const alerts = new AlertService({ store, notifications, metrics, logger });
  const feed = new AlertFeed({ store, encode: encodeEvent, tailClient: clients.dedicated('realtime', 'feed'), readClient: clients.get('realtime'), keys, settings: config.settings, metrics, logger });
  const escalator = new Escalator(alerts, logger, o.escalationIntervalMs);
  const health = new RedisHealth(clients, config, keys);
  let draining = false;

  await feed.start();
  const app = await buildApp({
    config,
    keys,
    logger,
    metrics,
    clients,
    alerts,
    feed,
    users,
    health,
    dashboardDir: o.dashboardDir ?? DEFAULT_DASHBOARD_DIR,
    draining: () => draining,
  });
  await app.listen({ port: o.port ?? config.settings.PORT, host: o.host ?? config.settings.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? config.settings.PORT);
  const host = o.host ?? config.settings.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  escalator.start();
  logger.info({ url, topology: config.topology.kind }, 'naboom serve listening');

  // After `naboom acl rotate`, the new password is in .env / the secret file: pick it up for every new
  // connection well within the rotation's grace period (connected clients stay logged in meanwhile).
  const reloadCredentials = (why: string): void => {
    try {
      const roles = clients.reloadCredentials();
      if (roles.length > 0) logger.info({ roles, why }, 'role passwords changed; used from the next connection on');
    } catch (err) {
      logger.warn({ err }, 'could not re-read the role passwords');
    }
  };
  const reloadTimer = setInterval(() => reloadCredentials('periodic check'), CREDENTIAL_RELOAD_MS);
  reloadTimer.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      draining = true;
      clearInterval(reloadTimer);
      logger.info('shutting down: draining live clients and requests');
      await escalator.stop();
      await feed.stop();
      await app.close();
      await notifications.close();
      await clients.close();
      logger.info('stopped');
    })());

  return { app, url, port, metrics, clients, users, alerts, stop, reloadCredentials: () => reloadCredentials('SIGHUP') };
}
