/** GET /api/emergency/alerts (list / replay), GET …/:id, GET …/:id/cap. */
import { toCap } from '../../../alerts/cap.js';
import { z } from 'zod';
import { alertDoc, type AlertStatus, type Severity } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { alertSchema, errorSchema, idParams, responseSchema, severitySchema, SIGNED_IN, statusSchema, streamIdSchema } from '../../schemas.js';

const page = responseSchema(
  z.object({
    alerts: z.array(alertDoc),
    next: z.string().nullable().describe('The cursor of the next page (as `since` ascending, `before` descending), or null at the end'),
  }),
);

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
        summary: 'List alerts',
        description:
          'Newest first, or oldest first after `since` (replay). Members see only their own alerts; responders and admins see all.',
        tags: ['alerts'],
        security: SIGNED_IN,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: streamIdSchema,
            before: streamIdSchema,
            severity: severitySchema,
            status: statusSchema,
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: { 200: page, '4xx': errorSchema },
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
    {
      schema: { summary: 'Get one alert', tags: ['alerts'], security: SIGNED_IN, params: idParams, response: { 200: alertSchema, '4xx': errorSchema } },
      preValidation: auth.require(),
    },
    async (req) => await alerts.get(principalOf(req), req.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/api/emergency/alerts/:id/cap',
    {
      schema: {
        summary: 'Get one alert as CAP 1.2',
        description: 'The alert as an OASIS Common Alerting Protocol 1.2 XML document (`application/cap+xml`).',
        tags: ['alerts'],
        security: SIGNED_IN,
        params: idParams,
        response: { 200: { description: 'CAP 1.2 XML', content: { 'application/cap+xml': { schema: { type: 'string' } } } }, '4xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req, reply) => {
      const alert = await alerts.get(principalOf(req), req.params.id);
      return reply.type('application/cap+xml; charset=utf-8').send(toCap(alert, { sender: config.settings.CAP_SENDER }));
    },
  );
}
