/** POST /api/emergency/alerts/:id/claim | unclaim — one responder takes an alert (409 naming who has it). */
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { alertSchema, errorSchema, idParams, SIGNED_IN } from '../../schemas.js';

export function alertClaims(ctx: RouteContext): void {
  const { app, auth, alerts } = ctx;
  app.post<{ Params: { id: string } }>(
    '/api/emergency/alerts/:id/claim',
    {
      schema: {
        summary: 'Claim an alert',
        description:
          'Responders and admins: takes the alert (`assignee`, a `claimed` history event, an `alert.updated` feed entry); claiming an open alert also acknowledges it. 409 `NABOOM_ALERT_CLAIMED` with `details.assignee` when another responder holds it; 200 unchanged when the caller already holds it; 409 `NABOOM_INVALID_TRANSITION` once resolved or cancelled.',
        tags: ['alerts'],
        security: SIGNED_IN,
        params: idParams,
        response: { 200: alertSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req) => await alerts.claim(principalOf(req), req.params.id),
  );
  app.post<{ Params: { id: string } }>(
    '/api/emergency/alerts/:id/unclaim',
    {
      schema: {
        summary: 'Give up the claim on an alert',
        description:
          'The responder holding the claim, or an admin: removes `assignee` and records an `unclaimed` history event (the status stays). 403 for anyone else, 409 `NABOOM_CONFLICT` when nobody holds it.',
        tags: ['alerts'],
        security: SIGNED_IN,
        params: idParams,
        response: { 200: alertSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req) => await alerts.unclaim(principalOf(req), req.params.id),
  );
}
