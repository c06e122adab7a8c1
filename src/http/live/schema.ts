/**
 * GET /api/live/schema — the live protocol's JSON Schema (the same document as docs/live-protocol.schema.json),
 * without login: it describes messages, not data, and client authors need it before they have an account.
 */
import type { RouteContext } from '../deps.js';
import { liveProtocolSchemaText } from './protocol.js';

/** Registers the schema route; the document is generated once, from the protocol's zod union. */
export function liveSchemaRoute({ app }: Pick<RouteContext, 'app'>): void {
  const text = liveProtocolSchemaText();
  app.get(
    '/api/live/schema',
    {
      schema: {
        summary: 'The live protocol (JSON Schema)',
        description: 'Every WebSocket and SSE message, both directions, as one JSON Schema document (docs/live-protocol.schema.json). No login.',
        tags: ['live'],
      },
    },
    async (_req, reply) => reply.type('application/schema+json; charset=utf-8').send(text),
  );
}
