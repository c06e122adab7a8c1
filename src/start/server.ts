/**
 * The `serve` process: createServices (config → role clients → services) → buildApp → listen, and one graceful shutdown
 * (readiness turns 503, live clients are told and closed, in-flight requests finish, clients quit).
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { AlertService } from '../alerts/service.js';
import type { UserStore } from '../auth/users.js';
import type { Config } from '../config/load.js';
import type { KeySpace } from '../redis/keys.js';
import { buildApp } from '../http/app.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RoleClients } from '../redis/connections.js';
import { createServices } from './services.js';

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

/** Builds the services and the app, listens, and returns the running server with its graceful stop. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const { config, keys, logger } = o;
  const services = await createServices(config, keys, logger, { ...(o.escalationIntervalMs === undefined ? {} : { escalationIntervalMs: o.escalationIntervalMs }) });
  const app = await buildApp({ ...services, dashboardDir: o.dashboardDir ?? DEFAULT_DASHBOARD_DIR });
  try {
    await app.listen({ port: o.port ?? config.settings.PORT, host: o.host ?? config.settings.HOST });
  } catch (err) {
    // A port in use: let the caller report it without the feed's loop and the clients keeping it alive.
    await services.drain();
    await app.close();
    await services.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? config.settings.PORT);
  const host = o.host ?? config.settings.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  services.escalator.start();
  logger.info({ url, topology: config.topology.kind }, 'naboom serve listening');

  // After `naboom acl rotate`, the new password is in .env / the secret file: pick it up for every new
  // connection well within the rotation's grace period (connected clients stay logged in meanwhile).
  const reloadCredentials = (why: string): void => {
    try {
      const roles = services.reloadCredentials();
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
      clearInterval(reloadTimer);
      logger.info('shutting down: draining live clients and requests');
      await services.drain();
      await app.close();
      await services.close();
      logger.info('stopped');
    })());

  const { metrics, clients, users, alerts } = services;
  return { app, url, port, metrics, clients, users, alerts, stop, reloadCredentials: () => reloadCredentials('SIGHUP') };
}
