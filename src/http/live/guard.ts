/**
 * What every live connection of one serve process shares: the per-user connection cap (WebSocket and SSE
 * together), the per-user subscribe rate, and the re-check of each connection's credential. A live
 * connection outlives the request that authenticated it, so its credential is checked again every
 * LIVE_AUTH_RECHECK_MS straight from the stores (not the Authenticator's cache): logout, `users remove`,
 * a revoked token or a changed role close that user's feeds within a few seconds.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/principal.js';
import type { Settings } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { AccountLookup, LiveFeed, RouteContext } from '../deps.js';

const MINUTE_MS = 60_000;

type GuardSettings = Pick<Settings, 'LIVE_MAX_CONNECTIONS_PER_USER' | 'LIVE_SUBSCRIBES_PER_MIN' | 'LIVE_AUTH_RECHECK_MS'>;

/** How to ask again whether a connection's credential still names the same account with the same role. */
export interface Credential {
  /** One key per distinct credential: many sockets on one token or session cost one check. */
  readonly key: string;
  /** Resolves true while the credential is valid for the principal. */
  check(): Promise<boolean>;
}

interface Watched {
  readonly credential: Credential;
  readonly closers: Set<() => void>;
  checking: boolean;
}

export class LiveGuard {
  readonly #settings: GuardSettings;
  readonly #logger: Logger;
  readonly #connections = new Map<string, number>();
  readonly #subscribes = new Map<string, number[]>();
  readonly #watched = new Map<string, Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(settings: GuardSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Counts a new live connection for the user; undefined when the user is at the cap, else its release. */
  admit(userId: string): (() => void) | undefined {
    const n = this.#connections.get(userId) ?? 0;
    if (n >= this.#settings.LIVE_MAX_CONNECTIONS_PER_USER) return undefined;
    this.#connections.set(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#connections.get(userId) ?? 1) - 1;
      if (left <= 0) this.#connections.delete(userId);
      else this.#connections.set(userId, left);
    };
  }

  /** Counts one subscribe against the user's budget per minute (sliding window); false when over it. */
  allowSubscribe(userId: string, now = Date.now()): boolean {
    const times = (this.#subscribes.get(userId) ?? []).filter((t) => t > now - MINUTE_MS);
    const ok = times.length < this.#settings.LIVE_SUBSCRIBES_PER_MIN;
    if (ok) times.push(now);
    if (times.length > 0) this.#subscribes.set(userId, times);
    else this.#subscribes.delete(userId);
    return ok;
  }

  /** Re-checks the credential periodically and calls `close` once it is no longer valid; returns the unwatch. */
  watch(credential: Credential, close: () => void): () => void {
    let w = this.#watched.get(credential.key);
    if (!w) this.#watched.set(credential.key, (w = { credential, closers: new Set(), checking: false }));
    const entry = w;
    entry.closers.add(close);
    this.#timer ??= setInterval(() => this.#recheck(), this.#settings.LIVE_AUTH_RECHECK_MS);
    this.#timer.unref();
    return () => {
      entry.closers.delete(close);
      if (entry.closers.size === 0 && this.#watched.get(credential.key) === entry) this.#watched.delete(credential.key);
      if (this.#watched.size === 0) this.stop();
    };
  }

  #recheck(): void {
    for (const [key, w] of this.#watched) {
      if (w.checking) continue;
      w.checking = true;
      w.credential.check().then(
        (ok) => {
          w.checking = false;
          if (ok || this.#watched.get(key) !== w) return;
          this.#watched.delete(key);
          for (const close of [...w.closers]) close();
        },
        (err: unknown) => {
          // An outage is not a revocation: keep the connection and ask again next interval.
          w.checking = false;
          this.#logger.debug({ err }, 'live credential re-check failed; retrying');
        },
      );
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const guards = new WeakMap<LiveFeed, LiveGuard>();

/** The guard of the process that owns this feed (one per app, shared by the WebSocket and SSE routes). */
export function liveGuard(ctx: RouteContext): LiveGuard {
  let g = guards.get(ctx.feed);
  if (!g) {
    const guard = new LiveGuard(ctx.config.settings, ctx.logger);
    guards.set(ctx.feed, guard);
    ctx.app.addHook('onClose', async () => guard.stop());
    g = guard;
  }
  return g;
}

const sameAccount = (p: Principal, u: { id: string; role: string } | undefined): boolean => u !== undefined && u.id === p.id && u.role === p.role;

/** The credential a live request authenticated with: its bearer token, or its session as stored now. */
export function credentialOf(req: FastifyRequest, principal: Principal, users: AccountLookup): Credential {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const token = m?.[1];
  if (token !== undefined) {
    return { key: `t:${token}`, check: async () => sameAccount(principal, await users.byToken(token)) };
  }
  const store = req.sessionStore;
  const sessionId = req.session.sessionId;
  return {
    key: `s:${sessionId}`,
    check: async () => {
      const session = await new Promise<{ userId?: string; username?: string } | null>((resolve, reject) =>
        store.get(sessionId, (err, s) => (err ? reject(err as Error) : resolve((s as { userId?: string; username?: string } | null | undefined) ?? null))),
      );
      if (!session?.username || session.userId !== principal.id) return false;
      return sameAccount(principal, await users.get(session.username));
    },
  };
}
