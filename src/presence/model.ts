/**
 * The shapes of responder presence, defined once (zod): the report a responder sends, what the responder
 * list and the nearest-responder list return, and their limits. The HTTP schemas are derived from these
 * (`http/schemas.ts` `requestSchema` / `responseSchema`).
 */
import { z } from 'zod';

/** Most responders one nearest-responder request returns, and the largest radius it searches. */
export const NEAREST_LIMIT_MAX = 100;
export const NEAREST_LIMIT_DEFAULT = 10;
export const NEAREST_RADIUS_KM_MAX = 200;
export const NEAREST_RADIUS_KM_MIN = 0.01;

/** A responder's position as the browser's Geolocation API gives it (accuracy in metres). */
export const presenceLocation = z.strictObject({
  lat: z.number().min(-85.05112878).max(85.05112878).describe('Latitude (Redis GEO covers ±85.05112878°)'),
  lon: z.number().min(-180).max(180),
  accuracy_m: z.number().min(0).max(100_000).optional(),
});

/** `PUT /api/responders/me`. Strict: an unknown field is refused. */
export const presenceInput = z.strictObject({
  available: z.boolean().describe('Whether you take dispatches now; false keeps you out of the dispatch policy'),
  location: presenceLocation.optional().describe('Your position now; without it only availability changes (of a position that is still fresh)'),
});
export type PresenceInput = z.infer<typeof presenceInput>;

const isoTime = () => z.iso.datetime({ offset: true });

/** One responder as the dashboard map shows them (`GET /api/responders`). */
export const responderEntry = z.object({
  username: z.string(),
  lat: z.number(),
  lon: z.number(),
  accuracy_m: z.number().optional(),
  last_seen: isoTime(),
  available: z.boolean(),
});
export type ResponderEntry = z.infer<typeof responderEntry>;

export const responderList = z.object({ responders: z.array(responderEntry) });

/** `PUT /api/responders/me` answer: your presence as stored (`null`: no fresh position is stored). */
export const presenceState = z.object({
  available: z.boolean(),
  presence: responderEntry.nullable(),
});

/** `DELETE /api/responders/me` answer: whether a position was stored (false: there was none to forget). */
export const presenceRemoved = z.object({
  removed: z.boolean().describe('True when a position of yours was stored and is now deleted'),
});

/** One responder near an alert (`GET /api/emergency/alerts/:id/responders`). */
export const nearbyEntry = z.object({
  username: z.string(),
  distance_m: z.number(),
  last_seen: isoTime(),
  available: z.boolean(),
});
export type NearbyEntry = z.infer<typeof nearbyEntry>;

export const nearbyList = z.object({ responders: z.array(nearbyEntry) });

/** `…/responders` query string. */
export const nearbyQuery = z.strictObject({
  radius_km: z.number().min(NEAREST_RADIUS_KM_MIN).max(NEAREST_RADIUS_KM_MAX).optional().describe('Search radius; default DISPATCH_RADIUS_KM'),
  limit: z.number().int().min(1).max(NEAREST_LIMIT_MAX).optional().describe(`Most responders returned; default ${NEAREST_LIMIT_DEFAULT}`),
});
