/** GET /api/emergency/alerts (list / replay), GET …/:id, GET …/:id/cap. */
import { toCap } from '../../../alerts/cap.js';
import { ALERT_STATUSES, SEVERITIES, type AlertStatus } from '../../../alerts/model.js';
import type { Severity } from '../../../redis/keys.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { alertSchema, errorSchema, idParams, streamIdSchema } from '../../schemas.js';

interface ListQs {
  since?: string;
  before?: string;
  severity?: Severity;
  status?: AlertStatus;
  limit: number;
}

export function readAlerts(ctx: RouteContext): void {
  const { app, auth, alerts, config } = ctx;

  app.get<{ Querystring: ListQs }>(
    '/api/emergency/alerts',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: streamIdSchema,
            before: streamIdSchema,
            severity: { type: 'string', enum: SEVERITIES },
            status: { type: 'string', enum: ALERT_STATUSES },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: {
          200: { type: 'object', properties: { alerts: { type: 'array', items: alertSchema }, next: { type: ['string', 'null'] } } },
          '4xx': errorSchema,
        },
      },
      preValidation: auth.require(),
    },
    async (req) => {
      const q = req.query;
      return await alerts.list(principalOf(req), {
        limit: q.limit,
        ...(q.since ? { since: q.since } : {}),
        ...(q.before ? { before: q.before } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        ...(q.status ? { status: q.status } : {}),
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/emergency/alerts/:id',
    { schema: { params: idParams, response: { 200: alertSchema, '4xx': errorSchema } }, preValidation: auth.require() },
    async (req) => await alerts.get(principalOf(req), req.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/api/emergency/alerts/:id/cap',
    { schema: { params: idParams, response: { '4xx': errorSchema } }, preValidation: auth.require() },
    async (req, reply) => {
      const alert = await alerts.get(principalOf(req), req.params.id);
      return reply.type('application/cap+xml; charset=utf-8').send(toCap(alert, { sender: config.settings.CAP_SENDER }));
    },
  );
}
