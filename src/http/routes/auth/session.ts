/** POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me. */
import { WorkGate } from '../../../auth/gate.js';
import { NaboomError } from '../../../errors/catalogue.js';
import { SESSION_COOKIE } from '../../../sessions/sessions.js';
import { principalOf } from '../../auth.js';
import type { RouteContext } from '../../deps.js';
import { limiter } from '../../rate-limit.js';
import { errorSchema, SIGNED_IN, userSchema } from '../../schemas.js';

interface LoginBody {
  username: string;
  password: string;
}

export function sessionRoutes(ctx: RouteContext): void {
  const { app, auth, users, metrics, config } = ctx;
  // Keyed by the name as login looks it up (lower-cased): `ALIce` shares `alice`'s budget.
  const limits = limiter(app, metrics, [
    { name: 'logins', max: config.settings.RATE_LIMIT_LOGINS, key: (req) => `${(req.body as LoginBody).username.toLowerCase()}@${req.ip}` },
    { name: 'logins-per-ip', max: config.settings.RATE_LIMIT_LOGINS_PER_IP, key: (req) => req.ip },
  ]);
  // Bounds the scrypt work of this process: a flood of logins gets fast 503s instead of slowing every login.
  const verifications = new WorkGate(config.settings.LOGIN_CONCURRENCY, config.settings.LOGIN_QUEUE);

  app.post<{ Body: LoginBody }>(
    '/api/auth/login',
    {
      schema: {
        summary: 'Log in',
        description: 'Checks the password and starts a session: the answer sets the session cookie (a new session id at every login).',
        tags: ['auth'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: { username: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: { type: 'object', properties: { user: userSchema } }, '4xx': errorSchema },
      },
      preHandler: limits,
    },
    async (req, reply) => {
      const username = req.body.username.toLowerCase();
      const user = await verifications.run(() => users.authenticate(username, req.body.password)).catch((err: unknown) => {
        if (err instanceof NaboomError && err.code === 'NABOOM_UNAVAILABLE') reply.header('retry-after', '1');
        throw err;
      });
      if (!user) throw new NaboomError('NABOOM_BAD_CREDENTIALS');
      // A new session id at login: a session id planted before login is worthless afterwards.
      await req.session.regenerate();
      req.session.userId = user.id;
      req.session.username = user.username;
      req.session.role = user.role;
      req.log.info({ user: user.username }, 'login');
      return { user: { id: user.id, username: user.username, role: user.role } };
    },
  );

  const logout = { summary: 'Log out', description: 'Ends the session, if any, and clears its cookie.', tags: ['auth'] };
  app.post('/api/auth/logout', { schema: { ...logout, response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async (req, reply) => {
    const username = req.session.username;
    if (username) {
      await req.session.destroy();
      // Only this user's cached lookups: an anonymous logout must not cost everyone else a cache miss.
      auth.forget(username);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: config.settings.COOKIE_SECURE });
    return { status: 'logged out' };
  });

  app.get(
    '/api/auth/me',
    {
      schema: {
        summary: 'The signed-in user',
        description: 'Who the credential belongs to, and whether it is a `token` or a `session`.',
        tags: ['auth'],
        security: SIGNED_IN,
        response: { 200: { type: 'object', properties: { user: userSchema, via: { type: 'string' } } }, '4xx': errorSchema },
      },
      preValidation: auth.require(),
    },
    async (req) => ({ user: principalOf(req), via: req.headers.authorization ? 'token' : 'session' }),
  );
}
