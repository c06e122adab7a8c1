/**
 * Web Push for responders: the VAPID public key, and a responder's or admin's push subscriptions (one per
 * browser). Login is required for all three: only responders and admins are pushed to, so only they need the
 * key, and nobody learns from an anonymous request whether this server pushes. Members get 403. When no VAPID
 * key pair is configured, all three answer 404 NABOOM_PUSH_DISABLED (the feature is not there; retrying
 * cannot help, unlike a 503).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { canSeeAll } from '../../../auth/principal.js';
import { NaboomError } from '../../../errors/catalogue.js';
import { pushHostAllowed, pushSubscriptionInput, pushUnsubscribeInput, type PushSubscriptionInput } from '../../../push/model.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { errorSchema, requestSchema, responseSchema, SIGNED_IN } from '../../schemas.js';

const subscribeBody = requestSchema(pushSubscriptionInput);
const unsubscribeBody = requestSchema(pushUnsubscribeInput);

const saved = responseSchema(
  z.object({
    created: z.boolean().describe('False when this endpoint was already registered for you (its keys were refreshed)'),
    evicted: z.number().int().describe('Your oldest subscriptions removed to stay within PUSH_MAX_SUBSCRIPTIONS_PER_USER'),
  }),
);

export function pushRoutes(ctx: RouteContext): void {
  const { app, auth, config, push } = ctx;
  const signedIn = auth.require();
  /** 401 first (as every route), then 404 when push is off, then 403 for members: before the body is validated. */
  const gate = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await signedIn(req, reply);
    if (!config.vapid || !push) throw new NaboomError('NABOOM_PUSH_DISABLED');
    if (!canSeeAll(principalOf(req))) throw new NaboomError('NABOOM_FORBIDDEN', 'Push notifications are for responders and admins');
  };

  app.get(
    '/api/push/vapid-public-key',
    {
      schema: {
        summary: 'The VAPID public key for push subscriptions',
        description: 'The `applicationServerKey` a browser passes to `pushManager.subscribe` (base64url, 65 bytes). Responders and admins only.',
        tags: ['push'],
        security: SIGNED_IN,
        response: { 200: responseSchema(z.object({ publicKey: z.string() })), '4xx': errorSchema },
      },
      preValidation: gate,
    },
    async () => ({ publicKey: config.vapid?.publicKey ?? '' }),
  );

  app.post<{ Body: PushSubscriptionInput }>(
    '/api/push/subscriptions',
    {
      schema: {
        summary: 'Register this browser for push notifications',
        description:
          "The browser's `PushSubscription` JSON (`endpoint`: an https URL, plain http only on a loopback host, on a host in PUSH_SERVICE_HOSTS — by default the browsers' push services; `keys.p256dh`, `keys.auth`). Idempotent per endpoint: 201 when new, 200 when already registered. Beyond PUSH_MAX_SUBSCRIPTIONS_PER_USER your oldest subscription is removed.",
        tags: ['push'],
        security: SIGNED_IN,
        body: subscribeBody,
        response: { 200: saved, 201: saved, '4xx': errorSchema },
      },
      preValidation: gate,
    },
    async (req, reply) => {
      if (!pushHostAllowed(req.body.endpoint, config.settings.PUSH_SERVICE_HOSTS)) {
        const host = new URL(req.body.endpoint).hostname;
        throw new NaboomError('NABOOM_VALIDATION', `${host} is not a push service this server sends to (PUSH_SERVICE_HOSTS)`, { details: { host } });
      }
      const result = await push!.save(principalOf(req).username, req.body);
      return reply.code(result.created ? 201 : 200).send({ created: result.created, evicted: result.evicted.length });
    },
  );

  app.delete<{ Body: { endpoint: string } }>(
    '/api/push/subscriptions',
    {
      schema: {
        summary: 'Stop push notifications to a browser',
        description: 'Removes your subscription with this endpoint; `removed` is false when there was none.',
        tags: ['push'],
        security: SIGNED_IN,
        body: unsubscribeBody,
        response: { 200: responseSchema(z.object({ removed: z.boolean() })), '4xx': errorSchema },
      },
      preValidation: gate,
    },
    async (req) => ({ removed: await push!.remove(principalOf(req).username, req.body.endpoint) }),
  );
}
