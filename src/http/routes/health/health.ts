/** GET /health/redis, /health/live, /health/ready and /metrics: no login (probes, Prometheus), no secrets. */
import { liveBody } from '../../../health/live.js';
import { metricsAuthorized } from '../../../metrics/registry.js';
import { NaboomError } from '../../../errors/catalogue.js';
import type { RouteContext } from '../../deps.js';
import { errorSchema } from '../../schemas.js';

const roleHealth = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    connected_clients: { type: ['integer', 'null'] },
    used_memory_human: { type: ['string', 'null'] },
    db_keys: { type: ['integer', 'null'] },
    operations: { type: 'array', items: { type: 'string' } },
    response_time_ms: { type: 'number' },
    error: { type: 'string' },
  },
} as const;

const healthBody = {
  type: 'object',
  properties: {
    overall_status: { type: 'string' },
    redis_acl_health: { type: 'object', additionalProperties: roleHealth },
    timestamp: { type: 'string' },
  },
} as const;

export function healthRoutes(ctx: RouteContext): void {
  const { app, health, feed, metrics, config, clients, draining } = ctx;

  const redisHealth = { summary: 'Redis health per role', description: 'Probes every client role; 503 when one is unhealthy.', tags: ['health'] };
  app.get('/health/redis', { schema: { ...redisHealth, response: { 200: healthBody, 503: healthBody } } }, async (_req, reply) => {
    const report = await health.report();
    return reply.code(report.overall_status === 'healthy' ? 200 : 503).send(report);
  });

  app.get('/health/live', { schema: { summary: 'Liveness probe', tags: ['health'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => liveBody());

  app.get(
    '/health/ready',
    {
      schema: {
        summary: 'Readiness probe',
        description: '503 while draining, when the feed reader is unhealthy or Redis does not answer.',
        tags: ['health'],
        response: { '2xx': { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'boolean' } } } }, '5xx': {} },
      },
    },
    async (_req, reply) => {
      const ping = async (role: 'app' | 'realtime'): Promise<boolean> => {
        try {
          return (await clients.get(role).ping()) === 'PONG';
        } catch {
          return false;
        }
      };
      const checks = { not_draining: !draining(), feed: feed.healthy, redis_app: await ping('app'), redis_realtime: await ping('realtime') };
      const ok = Object.values(checks).every(Boolean);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
    },
  );

  const metricsDoc = {
    summary: 'Prometheus metrics',
    description: 'The text exposition format. With METRICS_TOKEN set, send it as a bearer token.',
    tags: ['health'],
    response: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
      401: { description: 'METRICS_TOKEN is set and was not sent', ...errorSchema },
    },
  };
  app.get('/metrics', { schema: metricsDoc }, async (req, reply) => {
    if (!metricsAuthorized(req.headers.authorization, config.metricsToken?.reveal())) {
      throw new NaboomError('NABOOM_UNAUTHENTICATED', 'Send the METRICS_TOKEN as a bearer token');
    }
    return reply.type(metrics.registry.contentType).send(await metrics.text());
  });
}
