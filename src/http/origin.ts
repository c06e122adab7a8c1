/**
 * Cross-site request refusal for cookie sessions. SameSite=Strict alone is one browser feature away from a
 * forged POST or a cross-site WebSocket (which SameSite does not cover on every browser), so a request that
 * a session cookie would authenticate — a state-changing method or a WebSocket upgrade — must come from a
 * page of this server's own origin or one listed in ALLOWED_ORIGINS.
 *
 * Bearer-token requests are not checked: a browser never attaches a token on its own, so they cannot be
 * forged cross-site. A cookie request without `Origin` is accepted unless `Sec-Fetch-Site` says it is
 * cross-site: every current browser sends `Origin` on POST/PUT/PATCH/DELETE and on WebSocket handshakes, so
 * its absence means a non-browser client that holds the cookie itself (nothing to forge). `Origin: null`
 * (sandboxed frames, some redirects) is refused.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NaboomError } from '../errors/catalogue.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOGIN_PATH = '/api/auth/login';

export interface OriginOptions {
  /** Extra origins (`scheme://host[:port]`) whose pages may use the session cookie. */
  readonly allowedOrigins: readonly string[];
  /** Name of the session cookie. */
  readonly cookieName: string;
}

const isUpgrade = (req: FastifyRequest): boolean => req.method === 'GET' && /\bwebsocket\b/i.test(req.headers.upgrade ?? '');

/** This server's origin as the browser sees it (`X-Forwarded-Proto`/`-Host` only from trusted proxies). */
export const ownOrigin = (req: FastifyRequest): string => `${req.protocol}://${req.host}`.toLowerCase();

/** True when the request carries the named cookie (whether or not its session is still valid). */
function hasCookie(req: FastifyRequest, name: string): boolean {
  const header = req.headers.cookie;
  if (!header) return false;
  return header.split(';').some((part) => part.trimStart().startsWith(`${name}=`));
}

/** Whether a request that needs the check comes from an acceptable page. */
export function originAccepted(req: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) {
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  }
  const o = origin.trim().toLowerCase();
  return o !== 'null' && (o === ownOrigin(req) || allowed.has(o));
}

/** Registers the check as an onRequest hook: 403 NABOOM_FORBIDDEN_ORIGIN before any route work. */
export function registerOriginCheck(app: FastifyInstance, opts: OriginOptions): void {
  const allowed = new Set(opts.allowedOrigins.map((o) => o.toLowerCase()));
  app.addHook('onRequest', async (req) => {
    if (req.headers.authorization !== undefined) return;
    if (!STATE_CHANGING.has(req.method) && !isUpgrade(req)) return;
    // The login is checked even without a cookie: a forged login would sign the victim into the forger's account.
    const path = req.url.split('?')[0];
    if (!hasCookie(req, opts.cookieName) && path !== LOGIN_PATH) return;
    if (originAccepted(req, allowed)) return;
    throw new NaboomError('NABOOM_FORBIDDEN_ORIGIN', undefined, { details: { origin: req.headers.origin ?? null, expected: ownOrigin(req) } });
  });
}
