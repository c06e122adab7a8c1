/**
 * `buildApp(deps)` builds the Fastify application without listening, so tests drive it with `inject()` or
 * a real port, and `start/server.ts` owns `listen()` and shutdown.
 */
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerSessions } from '../sessions/sessions.js';
import { DATABASES } from '../redis/databases.js';
import { Authenticator } from './auth.js';
import type { AppDeps, RouteContext } from './deps.js';
import { registerDeadline } from './deadline.js';
import { installErrorHandling } from './errors.js';
import { sseRoute } from './live/sse.js';
import { wsRoute } from './live/ws.js';
import { registerRateLimits } from './rate-limit.js';
import { readAlerts } from './routes/alerts/read.js';
import { alertLifecycle } from './routes/alerts/lifecycle.js';
import { raiseAlert } from './routes/alerts/raise.js';
import { sessionRoutes } from './routes/auth/session.js';
import { healthRoutes } from './routes/health/health.js';
import { registerDashboard } from './dashboard.js';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    // No per-request lines (thousands of alerts a second); errors and domain events are logged explicitly.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.settings.BODY_LIMIT,
    trustProxy: config.settings.TRUST_PROXY,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  app.decorateRequest('principal', null);
  // JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);
  registerDeadline(app, config.settings.REQUEST_DEADLINE_MS);
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });

  await registerSessions(app, { config, clients: deps.clients });
  await registerRateLimits(app, deps.clients.get('app', 'command', DATABASES.cache), config.keys.rateLimitPrefix);
  // No permessage-deflate: live frames are framed once and written straight to each socket (live/ws.ts).
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096, perMessageDeflate: false } });

  const ctx: RouteContext = { ...deps, app, auth: new Authenticator(deps.users) };
  healthRoutes(ctx);
  sessionRoutes(ctx);
  raiseAlert(ctx);
  readAlerts(ctx);
  alertLifecycle(ctx);
  sseRoute(ctx);
  wsRoute(ctx);
  await registerDashboard(ctx);
  return app;
}
