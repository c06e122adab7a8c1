/**
 * GET /ws — WebSocket live feed. The client sends `{"type":"subscribe","severities":[…],"since"?}`; the server
 * answers `subscribed`, replays what was missed, then streams `{"type":"alert"|"alert.updated","id",…}` frames
 * and, every LIVE_HEARTBEAT_MS, a `heartbeat` with the server time and this process's feed position.
 * Protocol pings detect dead peers; a client that falls a whole queue behind is told and disconnected.
 *
 * Subscribes on one socket run one at a time: a new one replaces the current subscription only once that
 * is fully torn down, and a burst collapses to its last message. Each subscribe counts against the user's
 * LIVE_SUBSCRIBES_PER_MIN; over it the client gets an error frame and the socket stays open.
 */
import type {} from '@fastify/websocket';
import { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { EndReason, FeedSink, Frame } from '../../alerts/feed.js';
import { SEVERITIES } from '../../alerts/model.js';
import { isStreamId } from '../../alerts/stream-id.js';
import { principalOf } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { credentialOf, liveGuard } from './guard.js';

const PING_MS = 20_000;
const HIGH_WATER = 256 * 1024;

const subscribeMsg = z.object({
  type: z.literal('subscribe'),
  severities: z.array(z.enum(SEVERITIES)).min(1).max(4).optional(),
  since: z.string().max(41).refine(isStreamId, '"since" must be a stream id <ms>-<seq>, each part at most 18446744073709551615').optional(),
});

/**
 * ws keeps the TCP socket it frames onto in `_socket` (not in its types). Live frames are framed once per
 * alert (`Frame.ws`) and written to it directly: one write per client instead of ws framing the same bytes
 * again and writing header and payload separately. That is sound only because this server never negotiates
 * permessage-deflate and never fragments, so ws's sender has nothing queued that such a write could
 * overtake; anything else (notices, pings, close) still goes through ws, in call order.
 */
export function rawSocketOf(ws: WebSocket): Writable | undefined {
  const raw = (ws as unknown as { _socket?: unknown })._socket;
  return raw instanceof Writable ? raw : undefined;
}

/** Close codes and error frames for each way the server ends a connection. */
const END: Record<EndReason, { code: number; reason: string; frame: Record<string, string> }> = {
  slow: { code: 1013, reason: 'slow consumer', frame: { type: 'error', code: 'NABOOM_SLOW_CONSUMER', message: 'Too slow: reconnect with "since" set to your last id' } },
  shutdown: { code: 1012, reason: 'server restarting', frame: { type: 'shutdown' } },
  unavailable: { code: 1013, reason: 'feed unavailable', frame: { type: 'error', code: 'NABOOM_UNAVAILABLE', message: 'The feed could not be read; reconnect shortly with "since"' } },
  invalid: { code: 1011, reason: 'replay refused', frame: { type: 'error', code: 'NABOOM_VALIDATION', message: 'The replay position was refused' } },
  unauthenticated: { code: 4401, reason: 'credentials no longer valid', frame: { type: 'error', code: 'NABOOM_UNAUTHENTICATED', message: 'The session or token is no longer valid: log in again' } },
};

/** WebSocket close code for "too many live connections for this user" (4000–4999: application codes). */
export const WS_CLOSE_TOO_MANY = 4429;

class WsSink implements FeedSink {
  readonly transport = 'ws' as const;
  readonly #raw: Writable | undefined;
  constructor(private readonly socket: WebSocket) {
    this.#raw = rawSocketOf(socket);
  }

  #send(data: string | Buffer): Promise<void> {
    const s = this.socket;
    if (s.readyState !== s.OPEN) return Promise.reject(new Error('client gone'));
    // Always a text frame: shared frames arrive as UTF-8 bytes, already encoded once for every socket.
    if (s.bufferedAmount < HIGH_WATER) {
      s.send(data, { binary: false });
      return Promise.resolve();
    }
    // Over the high-water mark: wait until this frame is flushed, so a slow reader backs up into its
    // (bounded) queue instead of into process memory.
    return new Promise((resolve, reject) => s.send(data, { binary: false }, (err) => (err ? reject(err) : resolve())));
  }

  tryWrite(frame: Frame): boolean {
    const s = this.socket;
    if (s.readyState !== s.OPEN || s.bufferedAmount >= HIGH_WATER) return false;
    if (this.#raw) this.#raw.write(frame.ws);
    else s.send(frame.bytes, { binary: false });
    return true;
  }

  async write(frame: Frame): Promise<void> {
    if (this.tryWrite(frame)) return;
    await this.#send(frame.bytes);
  }

  async notice(type: string, data: Record<string, unknown>): Promise<void> {
    await this.#send(JSON.stringify({ type, ...data }));
  }

  close(reason: EndReason): void {
    const s = this.socket;
    if (s.readyState !== s.OPEN) return;
    const end = END[reason];
    s.send(JSON.stringify(end.frame));
    s.close(end.code, end.reason);
  }
}

interface SubscribeRequest {
  readonly severities: (typeof SEVERITIES)[number][];
  readonly since: string | undefined;
}

export function wsRoute(ctx: RouteContext): void {
  const { app, auth, feed, logger, metrics, users } = ctx;
  const guard = liveGuard(ctx);
  app.get('/ws', { websocket: true, preValidation: auth.require() }, (socket, req) => {
    // The plugin's own listener logs every socket error with its stack: an oversized frame is the client's
    // doing (ws already answers it with close 1009), so it is counted, not logged as a server error.
    socket.removeAllListeners('error');
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        metrics.liveOversizedFrames.inc();
        logger.debug({ user: req.principal?.username }, 'websocket frame over the size limit: closed with 1009');
        return;
      }
      logger.warn({ err: { message: err.message, code: err.code }, user: req.principal?.username }, 'websocket error');
      socket.terminate();
    });
    const principal = principalOf(req);
    // Control and error frames answer the client's own frames: one that floods without reading them is cut
    // off at the high-water mark, so it cannot make this process buffer without bound.
    const send = (frame: Record<string, unknown>): void => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount >= HIGH_WATER) {
        metrics.liveRefused.inc({ reason: 'not_reading' });
        socket.terminate();
        return;
      }
      socket.send(JSON.stringify(frame));
    };
    const release = guard.admit(principal.id);
    if (!release) {
      metrics.liveRefused.inc({ reason: 'connection_cap' });
      send({ type: 'error', code: 'NABOOM_RATE_LIMITED', message: `At most ${ctx.config.settings.LIVE_MAX_CONNECTIONS_PER_USER} live connections per user; close one first` });
      socket.close(WS_CLOSE_TOO_MANY, 'too many live connections');
      return;
    }
    const sink = new WsSink(socket);
    let open = true;
    let current: (() => Promise<void>) | undefined;
    let next: SubscribeRequest | undefined;
    let working = false;
    const unwatch = guard.watch(credentialOf(req, principal, users), () => {
      metrics.liveRefused.inc({ reason: 'credential' });
      sink.close('unauthenticated');
    });

    /** Runs the latest requested subscribe once the previous subscription is fully torn down. */
    const work = async (): Promise<void> => {
      working = true;
      try {
        while (next !== undefined && open) {
          const request: SubscribeRequest = next;
          next = undefined;
          const previous = current;
          current = undefined;
          await previous?.();
          // A newer subscribe arrived during the teardown: it wins, this one never starts.
          if (next !== undefined || !open) continue;
          send({ type: 'subscribed', severities: request.severities, since: request.since ?? null });
          current = await feed.subscribe(principal, { severities: request.severities, ...(request.since ? { since: request.since } : {}) }, sink);
        }
        if (!open) {
          const last = current;
          current = undefined;
          await last?.();
        }
      } finally {
        working = false;
      }
    };

    let alive = true;
    const ping = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, PING_MS);
    ping.unref();
    socket.on('pong', () => (alive = true));
    socket.on('message', (data) => {
      let parsed: ReturnType<typeof subscribeMsg.safeParse>;
      try {
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
        parsed = subscribeMsg.safeParse(JSON.parse(text));
      } catch {
        send({ type: 'error', code: 'NABOOM_BAD_REQUEST', message: 'Frames must be JSON' });
        return;
      }
      if (!parsed.success) {
        send({ type: 'error', code: 'NABOOM_VALIDATION', message: parsed.error.issues[0]?.message ?? 'invalid subscribe message' });
        return;
      }
      if (!guard.allowSubscribe(principal.id)) {
        metrics.liveRefused.inc({ reason: 'subscribe_rate' });
        send({ type: 'error', code: 'NABOOM_RATE_LIMITED', message: `At most ${ctx.config.settings.LIVE_SUBSCRIBES_PER_MIN} subscribes per minute; the current subscription stays` });
        return;
      }
      next = { severities: parsed.data.severities ?? [...SEVERITIES], since: parsed.data.since };
      if (working) return;
      work().catch((err: unknown) => {
        logger.warn({ err, user: principal.username }, 'websocket subscribe failed');
        sink.close(err instanceof Error && 'code' in err && err.code === 'NABOOM_VALIDATION' ? 'invalid' : 'unavailable');
      });
    });
    socket.on('close', () => {
      open = false;
      next = undefined;
      clearInterval(ping);
      release();
      unwatch();
      if (!working) {
        const last = current;
        current = undefined;
        void last?.();
      }
    });
  });
}
