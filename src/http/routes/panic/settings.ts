/** GET /api/panic/settings — what the resident's panic page needs from the server's configuration. */
import { z } from 'zod';
import type { RouteContext } from '../../deps.js';
import { errorSchema, responseSchema, SIGNED_IN } from '../../schemas.js';

const settings = responseSchema(
  z.object({
    countdown_s: z.number().int().min(0).max(30).describe('Seconds the page counts down, with Cancel, before it sends an alert (PANIC_COUNTDOWN_S)'),
  }),
);

export function panicSettings(ctx: RouteContext): void {
  const { app, auth, config } = ctx;
  app.get(
    '/api/panic/settings',
    {
      schema: {
        summary: "The panic page's settings",
        description: 'The countdown before a press is sent (PANIC_COUNTDOWN_S). Any signed-in user.',
        tags: ['alerts'],
        security: SIGNED_IN,
        response: { 200: settings, '4xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async () => ({ countdown_s: config.settings.PANIC_COUNTDOWN_S }),
  );
}
