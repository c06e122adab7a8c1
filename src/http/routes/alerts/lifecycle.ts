/** POST /api/emergency/alerts/:id/ack | resolve | cancel — lifecycle transitions (409 when not allowed). */
import { z } from 'zod';
import { alertDoc, TRANSITIONS, type TransitionInput, type TransitionName } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { errorSchema, idParams, responseSchema, SIGNED_IN, transitionBodySchema } from '../../schemas.js';

const ACTIONS: readonly TransitionName[] = ['ack', 'resolve', 'cancel'];

const SUMMARY: Record<TransitionName, string> = { ack: 'Acknowledge an alert', resolve: 'Resolve an alert', cancel: 'Cancel an alert' };

const updated = responseSchema(z.object({ status: z.string(), alert: alertDoc }));

export function alertLifecycle(ctx: RouteContext): void {
  const { app, auth, alerts } = ctx;
  for (const action of ACTIONS) {
    const t = TRANSITIONS[action];
    app.post<{ Params: { id: string }; Body: TransitionInput | null }>(
      `/api/emergency/alerts/:id/${action}`,
      {
        schema: {
          summary: SUMMARY[action],
          description: `Moves the alert from ${t.from.join(' or ')} to ${t.to} and records a \`${t.event}\` history event (409 from any other status).`,
          tags: ['alerts'],
        security: SIGNED_IN,
          params: idParams,
          body: transitionBodySchema,
          response: { 200: updated, '4xx': errorSchema },
        },
        preValidation: auth.require(),
      },
      async (req) => {
        const alert = await alerts.act(principalOf(req), req.params.id, action, req.body?.note);
        return { status: 'success', alert };
      },
    );
  }
}
