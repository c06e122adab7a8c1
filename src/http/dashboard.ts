/**
 * GET / — the operator dashboard, and GET /panic — the resident's panic page (docs/contract.md §6, README
 * "Panic page for residents"), its manifest and its service worker (`/sw.js`, scope `/`, revalidated on
 * every load as a worker script must be): static files built at `make` time into web/dist. Everything it loads comes
 * from this server, so the pages carry a CSP of `default-src 'self'` (no inline script, no other origin; images also from the
 * configured map tile server, if any).
 * Hashed bundles under /assets/ are cached for a year; index.html is revalidated on every load so a new
 * build is picked up at once.
 */
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { mapTilesOf } from '../config/map.js';
import type { RouteContext } from './deps.js';

/**
 * The dashboard's CSP. `tilesOrigin` (the origin of MAP_TILES_URL, checked at start by config/map.ts) is the
 * one other origin admitted, for images only: the basemap's tiles. Nothing else is widened.
 */
export function dashboardCsp(tilesOrigin?: string): string {
  return [
    "default-src 'self'",
    `img-src 'self' data:${tilesOrigin ? ` ${tilesOrigin}` : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The CSP without a tile source (the map draws its bundled outline). */
export const DASHBOARD_CSP = dashboardCsp();

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Naboom</title></head>
<body><h1>Naboom API is running</h1>
<p>The dashboard is not built: run <code>make build</code> (or <code>npm run build:web</code>) and restart <code>naboom serve</code>.</p>
</body></html>
`;

export async function registerDashboard(ctx: RouteContext): Promise<void> {
  const dir = ctx.dashboardDir;
  // Computed once at start from the configuration.
  const csp = dashboardCsp(mapTilesOf(ctx.config.settings)?.origin);
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    ctx.app.get('/', async (_req, reply) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', csp).header('cache-control', 'no-cache').send(NOT_BUILT),
    );
    return;
  }
  const assets = `${sep}assets${sep}`;
  await ctx.app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('content-security-policy', csp);
      reply.header('cache-control', path.includes(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (path.endsWith('.webmanifest')) reply.header('content-type', 'application/manifest+json; charset=utf-8');
    },
  });
  if (existsSync(join(dir, 'panic.html'))) {
    // The page's own address (the manifest's start_url); the file is also served as /panic.html.
    ctx.app.get('/panic', async (_req, reply) => reply.sendFile('panic.html'));
  }
}
