/** POST /api/emergency/alerts/:id/ack | resolve | cancel — lifecycle transitions (409 when not allowed). */
import type { TransitionName } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { alertSchema, errorSchema, idParams } from '../../schemas.js';

const ACTIONS: readonly TransitionName[] = ['ack', 'resolve', 'cancel'];

// One schema rather than anyOf, so a bad note is reported as `body/note …`, not as "body must be null".
const body = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 1000 } },
} as const;

export function alertLifecycle(ctx: RouteContext): void {
  const { app, auth, alerts } = ctx;
  for (const action of ACTIONS) {
    app.post<{ Params: { id: string }; Body: { note?: string } | null }>(
      `/api/emergency/alerts/:id/${action}`,
      {
        schema: { params: idParams, body, response: { 200: { type: 'object', properties: { status: { type: 'string' }, alert: alertSchema } }, '4xx': errorSchema } },
        preValidation: auth.require(),
      },
      async (req) => {
        const alert = await alerts.act(principalOf(req), req.params.id, action, req.body?.note);
        return { status: 'success', alert };
      },
    );
  }
}
