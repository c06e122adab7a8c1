/** POST /api/emergency/alerts — raise an alert; 201 once it is durably stored, 200 for an idempotent replay. */
import { ALERT_TYPES, SEVERITIES, type RaiseInput } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { limiter } from '../../rate-limit.js';
import { alertSchema, errorSchema, locationSchema } from '../../schemas.js';

const body = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'location'],
  properties: {
    type: { type: 'string', enum: ALERT_TYPES },
    severity: { type: 'string', enum: SEVERITIES },
    location: locationSchema,
    description: { type: 'string', maxLength: 2000 },
  },
} as const;

const created = {
  type: 'object',
  required: ['status', 'alert_id', 'stream', 'alert'],
  properties: { status: { type: 'string' }, alert_id: { type: 'string' }, stream: { type: 'string' }, replayed: { type: 'boolean' }, alert: alertSchema },
} as const;

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
        body,
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
