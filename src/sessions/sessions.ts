/**
 * Session support for Fastify: @fastify/session with the maintained `fastify-session-redis-store` on the
 * app role (DB 3 on standalone), keys `naboom:sessions:sid:<id>`, SESSION_TTL_S (24 h), rolling. The cookie is HttpOnly,
 * SameSite=Strict, Secure when COOKIE_SECURE is set (behind TLS), signed with a key derived from SECRET_KEY (a key list rotates).
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { RedisStore } from 'fastify-session-redis-store';
import type { Config } from '../config/load.js';
import { deriveKeys } from '../crypto/derive.js';
import type { RoleClients } from '../redis/connections.js';
import { DATABASES } from '../redis/databases.js';
import type { KeySpace } from '../redis/keys.js';

export const SESSION_COOKIE = 'naboom_sid';

declare module 'fastify' {
  interface Session {
    userId?: string;
    username?: string;
    role?: string;
  }
}

export interface SessionDeps {
  readonly config: Config;
  readonly keys: KeySpace;
  readonly clients: RoleClients;
}

/** The store on its own, for tests and for tools that inspect sessions. */
export function createSessionStore(d: SessionDeps): RedisStore {
  return new RedisStore({
    client: d.clients.get('app', 'command', DATABASES.sessions),
    prefix: d.keys.sessionStorePrefix,
    ttl: d.config.settings.SESSION_TTL_S,
  });
}

/** Registers cookies and sessions on an app, kept in `store` (createSessionStore in production). Requires SECRET_KEY. */
export async function registerSessions(app: FastifyInstance, d: { readonly config: Config; readonly store: fastifySession.SessionStore }): Promise<void> {
  const secrets = deriveKeys(d.config.secretKeys, 'session-cookie').map((k) => k.toString('hex'));
  await app.register(fastifyCookie);
  const randomId = (): string => randomBytes(24).toString('base64url');
  const signer = new fastifyCookie.Signer(secrets);
  await app.register(fastifySession, {
    // The empty id of a bearer-token request (below) is never sent as a cookie: no HMAC for it.
    secret: { sign: (value: string) => (value === '' ? '' : signer.sign(value)), unsign: (input: string) => signer.unsign(input) },
    // A request authenticated with a bearer token never gets a cookie session: the empty id makes
    // @fastify/session skip saving (and the per-request session bookkeeping on the hottest path).
    idGenerator: (req?: FastifyRequest) => (req?.headers.authorization ? '' : randomId()),
    cookieName: SESSION_COOKIE,
    store: d.store,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'strict',
      // Not 'auto': @fastify/session downgrades SameSite to Lax on plain HTTP when secure is 'auto'.
      secure: d.config.settings.COOKIE_SECURE,
      path: '/',
      maxAge: d.config.settings.SESSION_TTL_S * 1000,
    },
  });
}
