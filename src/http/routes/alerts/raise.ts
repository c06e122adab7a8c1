/** POST /api/emergency/alerts — raise an alert; 201 once it is durably stored, 200 for an idempotent replay. */
import { z } from 'zod';
import { alertDoc, type RaiseInput } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { limiter } from '../../rate-limit.js';
import { errorSchema, raiseBodySchema, responseSchema, SIGNED_IN } from '../../schemas.js';

const created = responseSchema(
  z.object({
    status: z.string(),
    alert_id: alertDoc.shape.id,
    stream: z.string().describe('The severity stream the alert was added to'),
    replayed: z.boolean().describe('True when an Idempotency-Key retry found the alert already stored (200)'),
    alert: alertDoc,
  }),
);

export function raiseAlert(ctx: RouteContext): void {
  const { app, auth, alerts, metrics, config } = ctx;
  const limits = limiter(app, metrics, [
    { name: 'alerts-per-user', max: config.settings.RATE_LIMIT_ALERTS_PER_USER, key: (req) => principalOf(req).id },
    { name: 'alerts-per-ip', max: config.settings.RATE_LIMIT_ALERTS_PER_IP, key: (req) => req.ip },
  ]);
  app.post<{ Body: RaiseInput; Headers: { 'idempotency-key'?: string } }>(
    '/api/emergency/alerts',
    {
      schema: {
        summary: 'Raise an alert',
        description:
          'Stores the alert durably (201), announces it on the live feed and queues its notifications. A retry with the same Idempotency-Key answers 200 with the alert already stored; the same key with another body is a 422.',
        tags: ['alerts'],
        security: SIGNED_IN,
        body: raiseBodySchema,
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: created, 201: created, '4xx': errorSchema, '5xx': errorSchema },
      },
      preValidation: auth.require(),
      preHandler: limits,
    },
    async (req, reply) => {
      const p = principalOf(req);
      const result = await alerts.raise(p, req.body, req.headers['idempotency-key']);
      return reply
        .code(result.created ? 201 : 200)
        .header('location', `/api/emergency/alerts/${result.alert.id}`)
        .send({ status: 'success', alert_id: result.alert.id, stream: result.stream, replayed: !result.created, alert: result.alert });
    },
  );
}
