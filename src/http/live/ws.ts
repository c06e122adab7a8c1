/**
 * GET /ws — WebSocket live feed. The client sends `{"type":"subscribe","severities":[…],"since"?}`; the server
 * answers `subscribed`, replays what was missed, then streams `{"type":"alert"|"alert.updated"|"alert.message","id",…}` frames
 * and, every LIVE_HEARTBEAT_MS, a `heartbeat` with the server time and this process's feed position.
 * Protocol pings detect dead peers; a client that falls a whole queue behind is told and disconnected.
 *
 * Subscribes on one socket run one at a time: a new one replaces the current subscription only once that
 * is fully torn down, and a burst collapses to its last message. Each subscribe counts against the user's
 * LIVE_SUBSCRIBES_PER_MIN; over it the client gets an error frame and the socket stays open.
 */
import type {} from '@fastify/websocket';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { EndReason, FeedSink, Frame, NoticeData, NoticeType } from '../../alerts/feed.js';
import { SEVERITIES } from '../../alerts/model.js';
import { principalOf } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { noticeFrame, wsText, type LiveFrame } from './frames.js';
import { credentialOf, liveGuard } from './guard.js';
import { ConnectionLifecycle } from './lifecycle.js';
import { clientMessage, type ErrorMessage, type ServerMessage, type SubscribeMessage } from './protocol.js';
import { WsSocket, type PreFramed, type SharedBlock } from './ws-socket.js';

const PING_MS = 20_000;
const HIGH_WATER = 256 * 1024;

/** Close codes and the last message for each way the server ends a connection. */
const END: Record<EndReason, { code: number; reason: string; message: ServerMessage }> = {
  slow: { code: 1013, reason: 'slow consumer', message: { type: 'error', code: 'NABOOM_SLOW_CONSUMER', message: 'Too slow: reconnect with "since" set to your last id' } },
  shutdown: { code: 1012, reason: 'server restarting', message: { type: 'shutdown' } },
  unavailable: { code: 1013, reason: 'feed unavailable', message: { type: 'error', code: 'NABOOM_UNAVAILABLE', message: 'The feed could not be read; reconnect shortly with "since"' } },
  invalid: { code: 1011, reason: 'replay refused', message: { type: 'error', code: 'NABOOM_VALIDATION', message: 'The replay position was refused' } },
  unauthenticated: { code: 4401, reason: 'credentials no longer valid', message: { type: 'error', code: 'NABOOM_UNAUTHENTICATED', message: 'The session or token is no longer valid: log in again' } },
};

/**
 * The shared block of the last batch: every socket of this process uncorked at the end of one batch gets the
 * same list of frames, so its frames are joined into one buffer once, not once per socket.
 */
let lastBatch: { readonly frames: readonly Frame<LiveFrame>[]; readonly shared: SharedBlock } | undefined;
function sharedBlockOf(frames: readonly Frame<LiveFrame>[]): SharedBlock {
  if (lastBatch?.frames === frames) return lastBatch.shared;
  const payloads = frames.map((f) => f.payload);
  let block: Buffer | undefined;
  const shared: SharedBlock = { frames: payloads, block: () => (block ??= Buffer.concat(payloads.map((p) => p.ws))) };
  lastBatch = { frames, shared };
  return shared;
}

/** WebSocket close code for "too many live connections for this user" (4000–4999: application codes). */
export const WS_CLOSE_TOO_MANY = 4429;

class WsSink implements FeedSink<LiveFrame> {
  readonly transport = 'ws' as const;
  constructor(
    private readonly socket: WsSocket,
    private readonly life: ConnectionLifecycle,
  ) {}

  #send(data: string | Buffer): Promise<void> {
    const s = this.socket;
    if (!s.open) return Promise.reject(new Error('client gone'));
    if (s.buffered < HIGH_WATER) {
      s.sendText(data);
      return Promise.resolve();
    }
    // Over the high-water mark: wait until this frame is flushed, so a slow reader backs up into its
    // (bounded) queue instead of into process memory.
    return new Promise((resolve, reject) => s.sendText(data, (err) => (err ? reject(err) : resolve())));
  }

  /** A pre-framed message straight out while the socket is below the high-water mark; false otherwise. */
  #tryFramed(framed: PreFramed): boolean {
    const s = this.socket;
    if (!s.canTake(HIGH_WATER)) return false;
    s.sendFramed(framed);
    return true;
  }

  tryWrite(frame: Frame<LiveFrame>): boolean {
    return this.#tryFramed(frame.payload);
  }

  async write(frame: Frame<LiveFrame>): Promise<void> {
    if (this.tryWrite(frame)) return;
    await this.#send(frame.payload.bytes);
  }

  /** A notice's shared frame (one per beat for every socket) goes out like a live frame; else #send waits. */
  async notice<T extends NoticeType>(type: T, data: NoticeData<T>): Promise<void> {
    const frame = noticeFrame(type, data);
    if (this.#tryFramed(frame)) return;
    await this.#send(frame.bytes);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(batch: readonly Frame<LiveFrame>[]): void {
    this.socket.uncork(batch.length > 1 ? sharedBlockOf(batch) : undefined);
  }

  close(reason: EndReason): void {
    const s = this.socket;
    // Told once: a second reason (slow, revoked, shutdown at once) finds the connection already closing.
    if (!s.open || !this.life.offer('end')) return;
    const end = END[reason];
    s.sendText(wsText(end.message));
    s.close(end.code, end.reason);
  }
}

/** The text of a client frame, whatever form ws delivered it in. */
function textOf(data: WebSocket.RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}

interface SubscribeRequest {
  readonly severities: (typeof SEVERITIES)[number][];
  readonly since: string | undefined;
}

const requestOf = (m: SubscribeMessage): SubscribeRequest => ({ severities: m.severities ?? [...SEVERITIES], since: m.since });

/**
 * The response object @fastify/websocket routes each upgrade request with. It is never sent, and it stays
 * assigned to the TCP socket for the socket's life — and through its `finish` listener it holds Fastify's
 * reply, request and session (≈ 5 KiB per connection). The handler detaches it once the socket is upgraded.
 */
const upgradeResponses = new WeakMap<IncomingMessage, ServerResponse>();

export function wsRoute(ctx: RouteContext): void {
  const { app, auth, feed, logger, metrics, users } = ctx;
  const guard = liveGuard(ctx);
  const remember = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    upgradeResponses.set(req.raw, reply.raw);
    done();
  };
  app.get('/ws', { websocket: true, preValidation: auth.require(), preHandler: remember }, (ws, req) => {
    const response = upgradeResponses.get(req.raw);
    upgradeResponses.delete(req.raw);
    if (response) response.detachSocket(req.raw.socket);
    // No closure below may capture `req`: it would keep the request, its reply and session alive for as long
    // as the socket lives (months). Take what the connection needs from it now.
    const principal = principalOf(req);
    const credential = credentialOf(req, principal, users);
    const username = principal.username;
    // The plugin's own listener logs every socket error with its stack: an oversized frame is the client's
    // doing (ws already answers it with close 1009), so it is counted, not logged as a server error.
    ws.removeAllListeners('error');
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        metrics.liveOversizedFrames.inc();
        logger.debug({ user: username }, 'websocket frame over the size limit: closed with 1009');
        return;
      }
      logger.warn({ err: { message: err.message, code: err.code }, user: username }, 'websocket error');
      ws.terminate();
    });
    const socket = new WsSocket(ws, req.raw.socket);
    const life = new ConnectionLifecycle();
    // Control and error frames answer the client's own frames: one that floods without reading them is cut
    // off at the high-water mark, so it cannot make this process buffer without bound.
    const send = (message: ServerMessage): void => {
      if (!socket.open) return;
      if (socket.buffered >= HIGH_WATER) {
        metrics.liveRefused.inc({ reason: 'not_reading' });
        socket.terminate();
        return;
      }
      socket.sendText(wsText(message));
    };
    const refuse = (code: ErrorMessage['code'], message: string): void => send({ type: 'error', code, message });
    const release = guard.admit(principal.id);
    if (!release) {
      metrics.liveRefused.inc({ reason: 'connection_cap' });
      life.fire('end');
      refuse('NABOOM_RATE_LIMITED', `At most ${ctx.config.settings.LIVE_MAX_CONNECTIONS_PER_USER} live connections per user; close one first`);
      socket.close(WS_CLOSE_TOO_MANY, 'too many live connections');
      return;
    }
    const sink = new WsSink(socket, life);
    let current: (() => Promise<void>) | undefined;
    let next: SubscribeRequest | undefined;
    let working = false;
    const unwatch = guard.watch(credential, () => {
      metrics.liveRefused.inc({ reason: 'credential' });
      sink.close('unauthenticated');
    });

    /** Runs the latest requested subscribe once the previous subscription is fully torn down. */
    const work = async (): Promise<void> => {
      working = true;
      try {
        while (next !== undefined && life.accepting) {
          const request: SubscribeRequest = next;
          next = undefined;
          const previous = current;
          current = undefined;
          await previous?.();
          // A newer subscribe arrived during the teardown, or the connection is ending: this one never starts.
          if (next !== undefined || !life.accepting) continue;
          life.fire('subscribe');
          send({ type: 'subscribed', severities: request.severities, since: request.since ?? null });
          current = await feed.subscribe(principal, { severities: request.severities, ...(request.since ? { since: request.since } : {}) }, sink);
        }
        if (!life.accepting) {
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
    ws.on('pong', () => (alive = true));
    ws.on('message', (data) => {
      let parsed: ReturnType<typeof clientMessage.safeParse>;
      try {
        parsed = clientMessage.safeParse(JSON.parse(textOf(data)));
      } catch {
        refuse('NABOOM_BAD_REQUEST', 'Frames must be JSON');
        return;
      }
      if (!parsed.success) {
        refuse('NABOOM_VALIDATION', parsed.error.issues[0]?.message ?? 'invalid subscribe message');
        return;
      }
      if (!life.accepting) return;
      if (!guard.allowSubscribe(principal.id)) {
        metrics.liveRefused.inc({ reason: 'subscribe_rate' });
        refuse('NABOOM_RATE_LIMITED', `At most ${ctx.config.settings.LIVE_SUBSCRIBES_PER_MIN} subscribes per minute; the current subscription stays`);
        return;
      }
      next = requestOf(parsed.data);
      if (working) return;
      work().catch((err: unknown) => {
        logger.warn({ err, user: principal.username }, 'websocket subscribe failed');
        sink.close(err instanceof Error && 'code' in err && err.code === 'NABOOM_VALIDATION' ? 'invalid' : 'unavailable');
      });
    });
    ws.on('close', () => {
      life.offer('closed');
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
