/**
 * `buildApp(services)` builds the Fastify application without opening a port, so tests drive it with
 * `inject()` (src/http/*.test.ts, with in-memory services) and `start/server.ts` owns `listen()` and shutdown.
 */
import type { Socket } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Settings } from '../config/schema.js';
import { NaboomError, type ErrorCode } from '../errors/catalogue.js';
import { registerSessions, SESSION_COOKIE } from '../sessions/sessions.js';
import { Authenticator } from './auth.js';
import type { AppDeps, RouteContext } from './deps.js';
import { registerDeadline, type CommonHeaders } from './deadline.js';
import { errorBody, installErrorHandling } from './errors.js';
import { liveSchemaRoute } from './live/schema.js';
import { sseRoute } from './live/sse.js';
import { wsRoute } from './live/ws.js';
import { registerOpenApi } from './openapi.js';
import { registerOriginCheck } from './origin.js';
import { registerRateLimits } from './rate-limit.js';
import { readAlerts } from './routes/alerts/read.js';
import { alertLifecycle } from './routes/alerts/lifecycle.js';
import { alertClaims } from './routes/alerts/claims.js';
import { alertThread } from './routes/alerts/thread.js';
import { locateAlert } from './routes/alerts/locate.js';
import { raiseAlert } from './routes/alerts/raise.js';
import { panicSettings } from './routes/panic/settings.js';
import { sessionRoutes } from './routes/auth/session.js';
import { pushRoutes } from './routes/push/subscriptions.js';
import { presenceRoutes } from './routes/presence/responders.js';
import { mapRoutes } from './routes/map/map.js';
import { healthRoutes } from './routes/health/health.js';
import { registerDashboard } from './dashboard.js';
import { validatorCompiler } from './validation.js';

/**
 * Fastify's `trustProxy` for TRUST_PROXY. A hop count becomes proxy-addr's "the n nearest hops" function:
 * Fastify itself treats a bare number as trusting nothing.
 */
export function trustProxyOption(setting: Settings['TRUST_PROXY']): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return setting === 0 ? false : (_address: string, hop: number) => hop < setting;
  return setting;
}

const CLIENT_ERRORS: Record<string, ErrorCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'NABOOM_REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'NABOOM_HEADERS_TOO_LARGE',
};

/**
 * Node's `clientError` (a request that never reached Fastify: headers over the limit, a malformed request
 * line, a request not received in time) answered in the API's error format, then the socket is closed.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = (err.code === undefined ? undefined : CLIENT_ERRORS[err.code]) ?? 'NABOOM_BAD_REQUEST';
  const e = new NaboomError(code, code === 'NABOOM_BAD_REQUEST' ? 'The request is not valid HTTP' : undefined);
  const body = JSON.stringify(errorBody(e));
  // As Node documents for 'clientError': answer on the raw socket while it is writable, then close it.
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${e.status === 408 ? 'Request Timeout' : e.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The security headers of every answer; `hsts` when the site is served over TLS (COOKIE_SECURE). */
function commonHeaders(hsts: boolean): CommonHeaders {
  return (req) => ({
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    // COOKIE_SECURE means the site is served over TLS: tell browsers never to try plain HTTP.
    ...(hsts ? { 'strict-transport-security': 'max-age=31536000' } : {}),
    // API answers carry addresses and names: no browser or proxy cache may keep them.
    ...(req.url.startsWith('/api/') ? { 'cache-control': 'no-store' } : {}),
  });
}

/** The API, the live feeds and the dashboard on one Fastify instance, not yet listening. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const { settings } = config;
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const receiveMs = settings.REQUEST_RECEIVE_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance,
    // No per-request lines (thousands of alerts a second); errors and domain events are logged explicitly.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.BODY_LIMIT,
    trustProxy: trustProxyOption(settings.TRUST_PROXY),
    return503OnClosing: true,
    // Slow clients: the whole request (headers and body) must arrive within REQUEST_RECEIVE_TIMEOUT_MS.
    // Node checks it every connectionsCheckingInterval, so that is a fraction of the timeout. This bounds
    // receiving only: an SSE response or an upgraded WebSocket is not a request still arriving. No idle
    // socket timeout (connectionTimeout): it would cut quiet SSE streams between heartbeats.
    requestTimeout: receiveMs,
    keepAliveTimeout: settings.KEEP_ALIVE_TIMEOUT_MS,
    // requestTimeout here too: Node checks headersTimeout against it when the server is created.
    http: { requestTimeout: receiveMs, headersTimeout: receiveMs, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(receiveMs / 4))) },
    clientErrorHandler,
  });
  // Bodies are validated strictly (`"lat": null` is not 0); only query strings coerce. See validation.ts.
  app.setValidatorCompiler(validatorCompiler());
  app.decorateRequest('principal', null);
  // JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app);
  const common = commonHeaders(settings.COOKIE_SECURE);
  registerDeadline(app, settings.REQUEST_DEADLINE_MS, common);
  app.addHook('onSend', async (req, reply) => {
    reply.headers(common(req));
  });
  if (!config.metricsToken) deps.logger.warn('METRICS_TOKEN is not set: /metrics is open to anyone who can reach this port (`naboom init` writes one)');

  await registerSessions(app, { config, store: deps.sessionStore });
  await registerRateLimits(app, deps.rateLimitStore, config.settings.RATE_LIMIT_WINDOW_S);
  // No permessage-deflate: live frames are framed once and written straight to each socket (live/ws.ts).
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096, perMessageDeflate: false } });
  // After the WebSocket plugin: its onRequest hook marks upgrades so a refused one has its socket closed.
  registerOriginCheck(app, { allowedOrigins: settings.ALLOWED_ORIGINS, cookieName: SESSION_COOKIE });

  await registerOpenApi(app);
  const ctx: RouteContext = { ...deps, app, auth: new Authenticator(deps.users) };
  healthRoutes(ctx);
  sessionRoutes(ctx);
  raiseAlert(ctx);
  readAlerts(ctx);
  alertLifecycle(ctx);
  alertClaims(ctx);
  alertThread(ctx);
  locateAlert(ctx);
  panicSettings(ctx);
  pushRoutes(ctx);
  presenceRoutes(ctx);
  mapRoutes(ctx);
  sseRoute(ctx);
  wsRoute(ctx);
  liveSchemaRoute(ctx);
  await registerDashboard(ctx);
  return app;
}
