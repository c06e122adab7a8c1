/** POST /api/emergency/alerts/:id/claim | unclaim — one responder takes an alert (409 naming who has it). */
import type { Principal } from '../../../auth/principal.js';
import type { AlertDoc } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { alertSchema, errorSchema, idParams, SIGNED_IN } from '../../schemas.js';

export function alertClaims(ctx: RouteContext): void {
  const { app, auth, alerts } = ctx;
  const routes: readonly { path: string; summary: string; description: string; run: (p: Principal, id: string) => Promise<AlertDoc> }[] = [
    {
      path: 'claim',
      summary: 'Claim an alert',
      description:
        'Responders and admins: takes the alert (`assignee`, a `claimed` history event, an `alert.updated` feed entry); claiming an open alert also acknowledges it. 409 `NABOOM_ALERT_CLAIMED` with `details.assignee` when another responder holds it; 200 unchanged when the caller already holds it; 409 `NABOOM_INVALID_TRANSITION` once resolved or cancelled.',
      run: (p, id) => alerts.claim(p, id),
    },
    {
      path: 'unclaim',
      summary: 'Give up the claim on an alert',
      description:
        'The responder holding the claim, or an admin: removes `assignee` and records an `unclaimed` history event (the status stays). 403 for anyone else, 409 `NABOOM_CONFLICT` when nobody holds it.',
      run: (p, id) => alerts.unclaim(p, id),
    },
  ];
  for (const r of routes) {
    app.post<{ Params: { id: string } }>(
      `/api/emergency/alerts/:id/${r.path}`,
      {
        schema: {
          summary: r.summary,
          description: r.description,
          tags: ['alerts'],
          security: SIGNED_IN,
          params: idParams,
          response: { 200: alertSchema, '4xx': errorSchema, '5xx': errorSchema },
        },
        preValidation: auth.require(),
      },
      async (req) => await r.run(principalOf(req), req.params.id),
    );
  }
}
