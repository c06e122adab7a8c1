/**
 * PATCH /api/emergency/alerts/:id/location — the reporter's newer location for their alert while it is open
 * or acknowledged (the panic page sends the best fix at once and better ones as they come). Recorded as a
 * `located` history event and pushed live as `alert.updated`.
 */
import { z } from 'zod';
import { alertDoc, locationInput, MAX_LOCATED_EVENTS, type LocationInput } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { limiter } from '../../rate-limit.js';
import { errorSchema, idParams, requestSchema, responseSchema, SIGNED_IN } from '../../schemas.js';

const locationBody = requestSchema(locationInput);
const updated = responseSchema(z.object({ status: z.string(), alert: alertDoc }));

export function locateAlert(ctx: RouteContext): void {
  const { app, auth, alerts, metrics, config } = ctx;
  const limits = limiter(app, metrics, [
    { name: 'locations-per-user', max: config.settings.RATE_LIMIT_LOCATIONS_PER_USER, key: (req) => principalOf(req).id },
  ]);
  app.patch<{ Params: { id: string }; Body: LocationInput }>(
    '/api/emergency/alerts/:id/location',
    {
      schema: {
        summary: "Update an alert's location",
        description:
          `The reporter's newer location (the same object as a raise's \`location\`) while the alert is open or acknowledged; 409 NABOOM_INVALID_TRANSITION after it is resolved or cancelled. Only the reporter: a responder or admin gets 403 NABOOM_NOT_REPORTER, another member 404. Recorded as a \`located\` history event (the newest ${MAX_LOCATED_EVENTS} are kept) and pushed live as \`alert.updated\`. Rate-limited per user (RATE_LIMIT_LOCATIONS_PER_USER).`,
        tags: ['alerts'],
        security: SIGNED_IN,
        params: idParams,
        body: locationBody,
        response: { 200: updated, '4xx': errorSchema, '5xx': errorSchema },
      },
      preValidation: auth.require(),
      preHandler: limits,
    },
    async (req) => {
      const alert = await alerts.locate(principalOf(req), req.params.id, req.body);
      return { status: 'success', alert };
    },
  );
}
