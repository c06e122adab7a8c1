/** GET / — the operator dashboard (static files built at `make` time), when it has been built. */
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { RouteContext } from './deps.js';

export async function registerDashboard(ctx: RouteContext): Promise<void> {
  const dir = ctx.dashboardDir;
  if (!dir || !existsSync(dir)) {
    ctx.app.get('/', async (_req, reply) =>
      reply.type('text/plain; charset=utf-8').send('Naboom API is running. The dashboard is not built: run `make build`.\n'),
    );
    return;
  }
  await ctx.app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], wildcard: false });
}
