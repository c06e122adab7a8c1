/**
 * GET /api/map — what the dashboard's map draws underneath the alerts: the operator's tile source
 * (MAP_TILES_URL with its attribution and maximum zoom; README "Map configuration"), or `tiles: null`, and
 * the dashboard draws its bundled offline outline of South Africa. Any signed-in user: nothing here is
 * personal, but /api/* answers only with a login (docs/contract.md §5).
 */
import { z } from 'zod';
import { mapTilesOf } from '../../../config/map.js';
import type { RouteContext } from '../../deps.js';
import { errorSchema, responseSchema, SIGNED_IN } from '../../schemas.js';

export const mapSettingsBody = z.object({
  tiles: z
    .object({
      url: z.string().describe('XYZ raster template with {z} {x} {y} (and optionally {r})'),
      attribution: z.string().describe('Plain text the map must show (the tile data licence); never HTML'),
      max_zoom: z.number().int(),
    })
    .nullable()
    .describe('null: no tile source is configured; the dashboard draws its bundled outline'),
});
export type MapSettingsBody = z.infer<typeof mapSettingsBody>;

export function mapRoutes(ctx: RouteContext): void {
  const { app, auth, config } = ctx;
  const tiles = mapTilesOf(config.settings);
  const body: MapSettingsBody = { tiles: tiles ? { url: tiles.url, attribution: tiles.attribution, max_zoom: tiles.maxZoom } : null };
  app.get(
    '/api/map',
    {
      schema: {
        summary: "The dashboard map's basemap",
        description: 'The tile source configured with MAP_TILES_URL, its attribution and maximum zoom; `tiles: null` when none is configured.',
        tags: ['dashboard'],
        security: SIGNED_IN,
        response: { 200: responseSchema(mapSettingsBody), '4xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async () => body,
  );
}
