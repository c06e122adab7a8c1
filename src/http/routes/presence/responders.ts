/**
 * Responder presence (README "Responder presence and privacy"): `PUT /api/responders/me` (a responder's
 * availability and position), `DELETE /api/responders/me` (forget it now), `GET /api/responders` (the dashboard
 * map), and `GET /api/emergency/alerts/:id/responders` (who is nearest to an alert). Responders and admins
 * only: positions are personal data, so members get 403 on every one of them, before anything else is looked at.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canSeeAll } from '../../../auth/principal.js';
import { NaboomError } from '../../../errors/catalogue.js';
import { hasCoordinates } from '../../../alerts/model.js';
import { NEAREST_LIMIT_DEFAULT, nearbyList, nearbyQuery, presenceInput, presenceRemoved, presenceState, responderList, type PresenceInput } from '../../../presence/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { limiter } from '../../rate-limit.js';
import { errorSchema, idParams, requestSchema, responseSchema, SIGNED_IN } from '../../schemas.js';

const putBody = requestSchema(presenceInput);
const nearQuery = requestSchema(nearbyQuery);

export function presenceRoutes(ctx: RouteContext): void {
  const { app, auth, alerts, config, metrics, presence, users } = ctx;
  const limits = limiter(app, metrics, [
    { name: 'presence-per-user', max: config.settings.RATE_LIMIT_PRESENCE_PER_USER, key: (req) => principalOf(req).id },
  ]);
  const signedIn = auth.require();
  const forbidden = (): NaboomError => new NaboomError('NABOOM_FORBIDDEN', 'Responder positions are for responders and admins only');
  /**
   * 401 first (as every route), then 403 for members, before the body or query is validated. The role is
   * read again from the account (the authenticator caches lookups for a few seconds): someone just demoted
   * to member or removed must not read positions, nor store one again after the demotion deleted it.
   */
  const gate = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await signedIn(req, reply);
    const p = principalOf(req);
    if (!canSeeAll(p)) throw forbidden();
    const fresh = await users.get(p.username);
    if (!fresh || !canSeeAll({ ...p, role: fresh.role })) throw forbidden();
    if (!presence) throw new NaboomError('NABOOM_UNAVAILABLE', 'Responder presence is not available in this process');
  };

  app.put<{ Body: PresenceInput }>(
    '/api/responders/me',
    {
      schema: {
        summary: 'Report your availability and position',
        description:
          'Responders and admins. With `location`, your position is stored (GEO) with the time of this report; a position older than RESPONDER_STALE_S no longer counts and is deleted. Without `location`, only your availability changes (of a position that is still fresh). `available: false` keeps you out of the dispatch policy; you still appear, marked unavailable, until your position goes stale. Rate-limited per user (RATE_LIMIT_PRESENCE_PER_USER).',
        tags: ['responders'],
        security: SIGNED_IN,
        body: putBody,
        response: { 200: responseSchema(presenceState), '4xx': errorSchema },
      },
      preValidation: gate,
      preHandler: limits,
    },
    async (req) => {
      const stored = await presence!.update(principalOf(req).username, req.body);
      return { available: req.body.available, presence: stored };
    },
  );

  app.delete(
    '/api/responders/me',
    {
      schema: {
        summary: 'Forget your position now',
        description:
          'Responders and admins. Deletes your stored position and availability at once (instead of when it goes stale after RESPONDER_STALE_S): you leave the map and the nearest lists, and the dispatch policy no longer counts you. `removed` is false when nothing was stored. A later PUT with a location stores a new one. Counted in the same per-user limit as PUT (RATE_LIMIT_PRESENCE_PER_USER).',
        tags: ['responders'],
        security: SIGNED_IN,
        response: { 200: responseSchema(presenceRemoved), '4xx': errorSchema },
      },
      preValidation: gate,
      preHandler: limits,
    },
    async (req) => ({ removed: await presence!.remove(principalOf(req).username) }),
  );

  app.get(
    '/api/responders',
    {
      schema: {
        summary: 'Responders with a fresh position',
        description: 'Every responder and admin whose last position is younger than RESPONDER_STALE_S, available or not (for the dashboard map). Responders and admins only.',
        tags: ['responders'],
        security: SIGNED_IN,
        response: { 200: responseSchema(responderList), '4xx': errorSchema },
      },
      preValidation: gate,
    },
    async () => ({ responders: await presence!.list() }),
  );

  app.get<{ Params: { id: string }; Querystring: { radius_km?: number; limit?: number } }>(
    '/api/emergency/alerts/:id/responders',
    {
      schema: {
        summary: 'Responders nearest to an alert',
        description: `Responders with a fresh position within \`radius_km\` (default DISPATCH_RADIUS_KM) of the alert, nearest first (at most \`limit\`, default ${NEAREST_LIMIT_DEFAULT}), each with \`available\`. An address-only alert (no coordinates) has no nearest responders: the list is empty. Responders and admins only (403 for members); 404 for an unknown alert.`,
        tags: ['responders'],
        security: SIGNED_IN,
        params: idParams,
        querystring: nearQuery,
        response: { 200: responseSchema(nearbyList), '4xx': errorSchema },
      },
      preValidation: gate,
    },
    async (req) => {
      const alert = await alerts.get(principalOf(req), req.params.id);
      // An address-only alert has no position to measure from: nobody is "nearest" (the list is empty).
      if (!hasCoordinates(alert.location)) return { responders: [] };
      const responders = await presence!.nearest({
        lat: alert.location.lat,
        lon: alert.location.lon,
        radiusKm: req.query.radius_km ?? config.settings.DISPATCH_RADIUS_KM,
        limit: req.query.limit ?? NEAREST_LIMIT_DEFAULT,
        availableOnly: false,
      });
      return { responders };
    },
  );
}
