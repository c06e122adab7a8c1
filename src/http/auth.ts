/**
 * Authentication for HTTP, WebSocket and SSE: a session cookie (from `POST /api/auth/login`) or an
 * `Authorization: Bearer <token>` header. Looked-up users are cached in-process for a few seconds so the
 * hot path (raising alerts) does not pay two Redis round trips per request; a removed user or token stops
 * working within that time. A session names the account's id as well as its name: a session of a removed
 * account is dead even when an account of the same name is added later.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import type { User, UserStore } from '../auth/users.js';
import { NaboomError } from '../errors/catalogue.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const TTL_MS = 5000;
const MAX_ENTRIES = 10_000;

export class Authenticator {
  readonly #users: Pick<UserStore, 'get' | 'byToken'>;
  readonly #cache = new Map<string, { user: User | undefined; until: number }>();

  constructor(users: Pick<UserStore, 'get' | 'byToken'>) {
    this.#users = users;
  }

  async #cached(key: string, load: () => Promise<User | undefined>): Promise<User | undefined> {
    const hit = this.#cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.user;
    const user = await load();
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(key, { user, until: now + TTL_MS });
    return user;
  }

  /** Forgets the cached lookups of one user (after their logout or removal in-process). */
  forget(username: string): void {
    this.#cache.delete(`u:${username}`);
    for (const [key, hit] of this.#cache) if (hit.user?.username === username) this.#cache.delete(key);
  }

  /** The principal of a request, or null. */
  async identify(req: FastifyRequest): Promise<Principal | null> {
    const header = req.headers.authorization;
    let user: User | undefined;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m?.[1]) throw new NaboomError('NABOOM_UNAUTHENTICATED', 'Malformed Authorization header; use "Bearer <token>"');
      const token = m[1];
      // Keyed by the token itself (process memory only): no hash per request on the hot path.
      user = await this.#cached(`t:${token}`, () => this.#users.byToken(token));
      if (!user) throw new NaboomError('NABOOM_UNAUTHENTICATED', 'Invalid or revoked API token');
    } else {
      const session = (req as { session?: { username?: string; userId?: string } }).session;
      const username = session?.username;
      if (!username) return null;
      user = await this.#cached(`u:${username}`, () => this.#users.get(username));
      if (!user || user.id !== session.userId) return null;
    }
    return { id: user.id, username: user.username, role: user.role };
  }

  /**
   * preValidation hook: 401 unless authenticated. No route is closed to a whole role: what a role may see
   * or do depends on the alert, so alerts/service.ts (with the rules in auth/principal.ts) and the live feed's
   * subscriptions decide it.
   */
  require() {
    return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      const p = await this.identify(req);
      if (!p) throw new NaboomError('NABOOM_UNAUTHENTICATED', 'Log in (POST /api/auth/login) or send Authorization: Bearer <token>');
      req.principal = p;
    };
  }
}

/** The authenticated principal (set by `require`). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new NaboomError('NABOOM_UNAUTHENTICATED');
  return req.principal;
}
