/**
 * GET /api/emergency/stream — Server-Sent Events. `id:` is the feed id, so a reconnecting EventSource sends
 * `Last-Event-ID` and resumes exactly where it stopped (or `?since=` for clients that cannot set headers).
 * Every LIVE_HEARTBEAT_MS an `event: heartbeat` carries the server time and this process's feed position.
 */
import type { FastifyReply } from 'fastify';
import type { EndReason, FeedSink, Frame, NoticeData, NoticeType } from '../../alerts/feed.js';
import { SEVERITIES } from '../../alerts/model.js';
import { commaList } from '../../config/schema.js';
import { isStreamId } from '../../alerts/stream-id.js';
import { NaboomError } from '../../errors/catalogue.js';
import type { Severity } from '../../redis/keys.js';
import { principalOf } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { errorSchema, streamIdSchema } from '../schemas.js';
import { noticeFrame, SSE_PREAMBLE, sseEvent, type LiveFrame } from './frames.js';
import { credentialOf, liveGuard } from './guard.js';
import { ConnectionLifecycle } from './lifecycle.js';
import type { ServerMessage } from './protocol.js';

/** Parses `?severities=`; absent means all, a list that is empty after trimming is refused. */
export function parseSeverities(raw: string | undefined): Severity[] {
  if (raw === undefined || raw === '') return [...SEVERITIES];
  const list = commaList(raw);
  if (list.length === 0) throw new NaboomError('NABOOM_VALIDATION', `"severities" lists no severity; use a comma-separated list of ${SEVERITIES.join(', ')}`);
  for (const s of list) if (!(SEVERITIES as readonly string[]).includes(s)) throw new NaboomError('NABOOM_VALIDATION', `Unknown severity "${s.slice(0, 20)}"`);
  return list as Severity[];
}

/** The last event for each way the server ends a stream. */
const END: Record<EndReason, ServerMessage> = {
  slow: { type: 'error', code: 'NABOOM_SLOW_CONSUMER', message: 'Too slow: reconnect with Last-Event-ID to resume' },
  shutdown: { type: 'shutdown', message: 'The server is restarting' },
  unavailable: { type: 'error', code: 'NABOOM_UNAVAILABLE', message: 'The feed could not be read; reconnect shortly' },
  invalid: { type: 'error', code: 'NABOOM_VALIDATION', message: 'The replay position was refused' },
  unauthenticated: { type: 'error', code: 'NABOOM_UNAUTHENTICATED', message: 'The session or token is no longer valid: log in again' },
};

class SseSink implements FeedSink<LiveFrame> {
  readonly transport = 'sse' as const;
  constructor(
    private readonly reply: FastifyReply,
    private readonly life: ConnectionLifecycle,
  ) {}

  async #write(chunk: string | Buffer): Promise<void> {
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded) throw new Error('client gone');
    if (!raw.write(chunk)) await new Promise<void>((resolve) => raw.once('drain', resolve));
  }

  tryWrite(frame: Frame<LiveFrame>): boolean {
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded || raw.writableNeedDrain) return false;
    raw.write(frame.payload.sse);
    return true;
  }

  async write(frame: Frame<LiveFrame>): Promise<void> {
    await this.#write(frame.payload.sse);
  }

  async notice<T extends NoticeType>(type: T, data: NoticeData<T>): Promise<void> {
    await this.#write(noticeFrame(type, data).sse);
  }

  cork(): void {
    this.reply.raw.cork();
  }

  /** SSE events are small and few per read: the held writes leave as one `writev`, no shared block. */
  uncork(): void {
    this.reply.raw.uncork();
  }

  close(reason: EndReason): void {
    const raw = this.reply.raw;
    // Told once: a second reason (slow, revoked, shutdown at once) finds the stream already ending.
    if (raw.writableEnded || !this.life.offer('end')) return;
    raw.end(sseEvent(END[reason]));
  }
}

export function sseRoute(ctx: RouteContext): void {
  const { app, auth, feed, users } = ctx;
  const guard = liveGuard(ctx);
  app.get<{ Querystring: { since?: string; severities?: string } }>(
    '/api/emergency/stream',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { since: streamIdSchema, severities: { type: 'string', maxLength: 100 } },
        },
        response: { '4xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req, reply) => {
      const principal = principalOf(req);
      const severities = parseSeverities(req.query.severities);
      const header = req.headers['last-event-id'];
      // A browser resends whatever id it last saw; one that is not a valid id is ignored, not an error.
      const lastEventId = typeof header === 'string' && isStreamId(header) ? header : undefined;
      const since = lastEventId ?? req.query.since;
      const release = guard.admit(principal.id);
      if (!release) {
        ctx.metrics.liveRefused.inc({ reason: 'connection_cap' });
        reply.header('retry-after', '30');
        throw new NaboomError('NABOOM_RATE_LIMITED', `At most ${ctx.config.settings.LIVE_MAX_CONNECTIONS_PER_USER} live connections per user; close one first`);
      }
      // Each SSE connection is a subscribe: it counts against the same per-user budget as a WebSocket's.
      if (!guard.allowSubscribe(principal.id)) {
        release();
        ctx.metrics.liveRefused.inc({ reason: 'subscribe_rate' });
        reply.header('retry-after', '60');
        throw new NaboomError('NABOOM_RATE_LIMITED', `At most ${ctx.config.settings.LIVE_SUBSCRIBES_PER_MIN} live subscribes per minute`);
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write(SSE_PREAMBLE);
      const life = new ConnectionLifecycle();
      const sink = new SseSink(reply, life);
      let unsubscribe: (() => Promise<void>) | undefined;
      const unwatch = guard.watch(credentialOf(req, principal, users), () => sink.close('unauthenticated'));
      reply.raw.on('close', () => {
        life.offer('closed');
        release();
        unwatch();
        void unsubscribe?.();
      });
      try {
        // An SSE connection subscribes once, with its request; it never resubscribes.
        life.fire('subscribe');
        unsubscribe = await feed.subscribe(principal, { severities, ...(since ? { since } : {}) }, sink);
        if (life.state === 'closed') void unsubscribe();
      } catch (err) {
        req.log.warn({ err, user: principal.username }, 'live subscribe failed');
        sink.close(err instanceof NaboomError && err.code === 'NABOOM_VALIDATION' ? 'invalid' : 'unavailable');
      }
    },
  );
}
