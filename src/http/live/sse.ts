/**
 * GET /api/emergency/stream — Server-Sent Events. `id:` is the feed id, so a reconnecting EventSource sends
 * `Last-Event-ID` and resumes exactly where it stopped (or `?since=` for clients that cannot set headers).
 */
import type { FastifyReply } from 'fastify';
import { SEVERITIES } from '../../alerts/model.js';
import type { FeedSink, Frame } from '../../alerts/feed.js';
import { NaboomError } from '../../errors/catalogue.js';
import type { Severity } from '../../redis/keys.js';
import { principalOf } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { errorSchema, streamIdPattern } from '../schemas.js';

const HEARTBEAT_MS = 15_000;
const ID = new RegExp(streamIdPattern);

export function parseSeverities(raw: string | undefined): Severity[] {
  if (!raw) return [...SEVERITIES];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) if (!(SEVERITIES as readonly string[]).includes(s)) throw new NaboomError('NABOOM_VALIDATION', `Unknown severity "${s.slice(0, 20)}"`);
  return list as Severity[];
}

class SseSink implements FeedSink {
  readonly transport = 'sse' as const;
  constructor(private readonly reply: FastifyReply) {}

  async #write(chunk: string | Buffer): Promise<void> {
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded) throw new Error('client gone');
    if (!raw.write(chunk)) await new Promise<void>((resolve) => raw.once('drain', resolve));
  }

  async write(frame: Frame): Promise<void> {
    await this.#write(frame.sse);
  }

  async notice(type: string, data: Record<string, unknown>): Promise<void> {
    await this.#write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  }

  close(code: 'slow' | 'shutdown'): void {
    const raw = this.reply.raw;
    if (raw.writableEnded) return;
    const data = code === 'slow' ? { type: 'error', code: 'NABOOM_SLOW_CONSUMER' } : { type: 'shutdown' };
    raw.end(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}

export function sseRoute(ctx: RouteContext): void {
  const { app, auth, feed } = ctx;
  app.get<{ Querystring: { since?: string; severities?: string } }>(
    '/api/emergency/stream',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { since: { type: 'string', pattern: streamIdPattern }, severities: { type: 'string', maxLength: 100 } },
        },
        response: { '4xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req, reply) => {
      const severities = parseSeverities(req.query.severities);
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && ID.test(header) ? header : undefined;
      const since = lastEventId ?? req.query.since;
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 2000\n\n');
      const sink = new SseSink(reply);
      const unsubscribe = await feed.subscribe(principalOf(req), { severities, ...(since ? { since } : {}) }, sink);
      const heartbeat = setInterval(() => {
        if (!reply.raw.writableEnded) reply.raw.write(': keepalive\n\n');
      }, HEARTBEAT_MS);
      heartbeat.unref();
      reply.raw.on('close', () => {
        clearInterval(heartbeat);
        void unsubscribe();
      });
    },
  );
}
