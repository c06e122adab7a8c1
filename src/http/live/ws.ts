/**
 * GET /ws — WebSocket live feed. The client sends `{"type":"subscribe","severities":[…],"since"?}`; the server
 * answers `subscribed`, replays what was missed, then streams `{"type":"alert"|"alert.updated","id",…}` frames.
 * Protocol pings detect dead peers; a client that falls a whole channel behind is told and disconnected.
 */
import type {} from '@fastify/websocket';
import { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { FeedSink, Frame } from '../../alerts/feed.js';
import { SEVERITIES } from '../../alerts/model.js';
import { principalOf } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { streamIdPattern } from '../schemas.js';

const PING_MS = 20_000;
const HIGH_WATER = 256 * 1024;

const subscribeMsg = z.object({
  type: z.literal('subscribe'),
  severities: z.array(z.enum(SEVERITIES)).min(1).max(4).optional(),
  since: z.string().regex(new RegExp(streamIdPattern)).optional(),
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
    // (bounded) channel instead of into process memory.
    return new Promise((resolve, reject) => s.send(data, { binary: false }, (err) => (err ? reject(err) : resolve())));
  }

  async write(frame: Frame): Promise<void> {
    const s = this.socket;
    if (this.#raw && s.readyState === s.OPEN && s.bufferedAmount < HIGH_WATER) {
      this.#raw.write(frame.ws);
      return;
    }
    await this.#send(frame.bytes);
  }

  async notice(type: string, data: Record<string, unknown>): Promise<void> {
    await this.#send(JSON.stringify({ type, ...data }));
  }

  close(code: 'slow' | 'shutdown'): void {
    const s = this.socket;
    if (s.readyState !== s.OPEN) return;
    if (code === 'slow') {
      s.send(JSON.stringify({ type: 'error', code: 'NABOOM_SLOW_CONSUMER', message: 'Too slow: reconnect with "since" set to your last id' }));
      s.close(1013, 'slow consumer');
    } else {
      s.send(JSON.stringify({ type: 'shutdown' }));
      s.close(1012, 'server restarting');
    }
  }
}

export function wsRoute(ctx: RouteContext): void {
  const { app, auth, feed, logger } = ctx;
  app.get('/ws', { websocket: true, preValidation: auth.require() }, (socket, req) => {
    const principal = principalOf(req);
    const sink = new WsSink(socket);
    let unsubscribe: (() => Promise<void>) | undefined;
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
        socket.send(JSON.stringify({ type: 'error', code: 'NABOOM_BAD_REQUEST', message: 'Frames must be JSON' }));
        return;
      }
      if (!parsed.success) {
        socket.send(JSON.stringify({ type: 'error', code: 'NABOOM_VALIDATION', message: parsed.error.issues[0]?.message ?? 'invalid subscribe message' }));
        return;
      }
      const severities = parsed.data.severities ?? [...SEVERITIES];
      const since = parsed.data.since;
      void (async () => {
        await unsubscribe?.();
        socket.send(JSON.stringify({ type: 'subscribed', severities, since: since ?? null }));
        unsubscribe = await feed.subscribe(principal, { severities, ...(since ? { since } : {}) }, sink);
      })().catch((err: unknown) => {
        logger.warn({ err, user: principal.username }, 'websocket subscribe failed');
        socket.close(1011, 'subscribe failed');
      });
    });
    socket.on('close', () => {
      clearInterval(ping);
      void unsubscribe?.();
    });
  });
}
