/** POST / GET /api/emergency/alerts/:id/messages — the alert's thread (reporter, responders, admins). */
import { z } from 'zod';
import { messageInput, threadMessage, type MessageInput } from '../../../alerts/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { limiter } from '../../rate-limit.js';
import { errorSchema, idParams, requestSchema, responseSchema, SIGNED_IN } from '../../schemas.js';

const posted = responseSchema(z.object({ message: threadMessage }));
const thread = responseSchema(z.object({ messages: z.array(threadMessage) }));
const messageBodySchema = requestSchema(messageInput);

export function alertThread(ctx: RouteContext): void {
  const { app, auth, alerts, metrics, config } = ctx;
  const limits = limiter(app, metrics, [{ name: 'messages-per-user', max: config.settings.RATE_LIMIT_MESSAGES_PER_USER, key: (req) => principalOf(req).id }]);
  app.post<{ Params: { id: string }; Body: MessageInput }>(
    '/api/emergency/alerts/:id/messages',
    {
      schema: {
        summary: "Post a message in an alert's thread",
        description:
          "The alert's reporter, responders and admins (403 for other members): `{text}` of 1–1,000 characters of well-formed Unicode. 201 with the message; it also goes live as `alert.message`. A thread holds THREAD_MAX_MESSAGES messages (409 `NABOOM_THREAD_FULL` after that); RATE_LIMIT_MESSAGES_PER_USER per window (429).",
        tags: ['alerts'],
        security: SIGNED_IN,
        params: idParams,
        body: messageBodySchema,
        response: { 201: posted, '4xx': errorSchema, '5xx': errorSchema },
      },
      preValidation: auth.require(),
      preHandler: limits,
    },
    async (req, reply) => {
      const message = await alerts.postMessage(principalOf(req), req.params.id, req.body.text);
      return reply.code(201).send({ message });
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/emergency/alerts/:id/messages',
    {
      schema: {
        summary: "Read an alert's thread",
        description: "Every message of the alert's thread, oldest first. The reporter, responders and admins; 403 for other members.",
        tags: ['alerts'],
        security: SIGNED_IN,
        params: idParams,
        response: { 200: thread, '4xx': errorSchema, '5xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req) => ({ messages: await alerts.messages(principalOf(req), req.params.id) }),
  );
}
