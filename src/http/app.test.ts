/**
 * The HTTP layer without Redis: `buildApp` with in-memory stand-ins for the domain services, driven by
 * `app.inject()`. Who may call which route (401/403/allowed), and how every kind of error is answered.
 */
import { Writable } from 'node:stream';
import fastifySession from '@fastify/session';
import type { FastifyInstance } from 'fastify';
import { ReplyError as IoredisReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedSink } from '../alerts/feed.js';
import { TRANSITIONS, type AlertDoc, type AlertStatus, type RaiseInput, type TransitionName } from '../alerts/model.js';
import { AlertService } from '../alerts/service.js';
import type { Principal, UserRole } from '../auth/principal.js';
import type { AlertStore, ListPage, ListQuery, RaiseResult, TransitionOutcome } from '../alerts/store.js';
import type { User } from '../auth/users.js';
import { generateEnv } from '../config/generate.js';
import { loadConfig, type Config } from '../config/load.js';
import { ERRORS, NaboomError, type ErrorCode } from '../errors/catalogue.js';
import { liveBody } from '../health/live.js';
import { createLogger, type Logger } from '../log/logger.js';
import { Metrics } from '../metrics/registry.js';
import { RoleClients } from '../redis/connections.js';
import { ROLE_NAMES } from '../redis/roles.js';
import { startMetricsServer } from '../start/metrics-server.js';
import { buildApp } from './app.js';
import type { AccountLookup, AlertOperations, AppDeps, LiveFeed } from './deps.js';

/** ioredis types its reply error loosely; it is an Error built from the server's reply text. */
const ReplyError = IoredisReplyError as new (message: string) => Error;

const METRICS_TOKEN = 'metrics-token-for-inject-tests-0123456789';

/** A configuration that names a Redis nobody connects to: these tests must never need one. */
function offlineConfig(): Config {
  return loadConfig({ env: { ...generateEnv(6399).vars, METRICS_TOKEN }, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true });
}

function capturingLogger(lines: string[]): Logger {
  return createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
}

/** The four methods AlertService calls on its store, kept in a Map with the same outcomes as the Lua scripts. */
class InMemoryAlertStore {
  readonly #alerts = new Map<string, AlertDoc>();
  #seq = 0;

  seed(reporter: Principal, status: AlertStatus = 'open'): AlertDoc {
    const now = new Date().toISOString();
    const id = `${Date.now()}-${this.#seq++}`;
    const doc: AlertDoc = {
      id,
      type: 'panic',
      severity: 'high',
      status,
      location: { lat: -33.9, lon: 18.4 },
      reporter: { id: reporter.id, username: reporter.username },
      created_at: now,
      updated_at: now,
      escalations: 0,
      history: [{ event: 'raised', at: now, by: { id: reporter.id, username: reporter.username } }],
    };
    this.#alerts.set(id, doc);
    return doc;
  }

  async raise(input: RaiseInput, reporter: { id: string; username: string }): Promise<RaiseResult> {
    const doc = this.seed({ ...reporter, role: 'member' });
    const alert: AlertDoc = { ...doc, type: input.type, severity: input.severity ?? 'high', location: input.location };
    this.#alerts.set(alert.id, alert);
    return { alert, created: true, stream: `panic:alerts:${alert.severity}` };
  }

  async get(id: string): Promise<AlertDoc | undefined> {
    return this.#alerts.get(id);
  }

  async list(q: ListQuery): Promise<ListPage> {
    const all = [...this.#alerts.values()].filter((a) => q.reporterId === undefined || a.reporter.id === q.reporterId);
    return { alerts: all.slice(0, q.limit), next: null };
  }

  async transition(id: string, name: TransitionName, by: { id: string; username: string }, opts: { reporterOnly?: string; from?: readonly AlertStatus[] } = {}): Promise<TransitionOutcome> {
    const doc = this.#alerts.get(id);
    if (!doc) return { kind: 'missing' };
    if (opts.reporterOnly !== undefined && doc.reporter.id !== opts.reporterOnly) return { kind: 'forbidden' };
    const t = TRANSITIONS[name];
    if (!(opts.from ?? t.from).includes(doc.status)) return { kind: 'conflict', status: doc.status };
    const at = new Date().toISOString();
    const alert: AlertDoc = { ...doc, status: t.to, updated_at: at, history: [...doc.history, { event: t.event, at, by }] };
    this.#alerts.set(id, alert);
    return { kind: 'ok', alert, feedId: `${Date.now()}-${this.#seq++}` };
  }
}

interface Account {
  readonly user: User;
  readonly token: string;
  readonly password: string;
}

const account = (username: string, role: UserRole): Account => ({
  user: { id: `id-${username}`, username, role, createdAt: new Date(0).toISOString() },
  token: `nbm_${username.padEnd(43, 'x')}`,
  password: `${username}-password`,
});

function accountLookup(accounts: readonly Account[]): AccountLookup {
  return {
    get: async (username) => accounts.find((a) => a.user.username === username)?.user,
    byToken: async (token) => accounts.find((a) => a.token === token)?.user,
    authenticate: async (username, password) => accounts.find((a) => a.user.username === username && a.password === password)?.user,
  };
}

/** A feed with nothing to replay: a subscriber is told the server is restarting, which ends an SSE response. */
const closingFeed: LiveFeed = {
  healthy: true,
  subscribe: async (_p: Principal, _opts: unknown, sink: FeedSink) => {
    sink.close('shutdown');
    return async () => undefined;
  },
};

interface Harness {
  readonly app: FastifyInstance;
  readonly logs: string[];
  close(): Promise<void>;
}

async function harness(alerts: (metrics: Metrics, logger: Logger) => AlertOperations, accounts: readonly Account[]): Promise<Harness> {
  const config = offlineConfig();
  const logs: string[] = [];
  const logger = capturingLogger(logs);
  const metrics = new Metrics();
  // Created lazily on first use, and nothing here uses it: no connection is ever opened.
  const clients = new RoleClients(config, logger);
  const deps: AppDeps = {
    config,
    logger,
    metrics,
    clients,
    alerts: alerts(metrics, logger),
    feed: closingFeed,
    users: accountLookup(accounts),
    health: { report: async () => ({ overall_status: 'healthy', redis_acl_health: {}, timestamp: new Date().toISOString() }) },
    sessionStore: new fastifySession.MemoryStore(),
    draining: () => false,
  };
  const app = await buildApp(deps);
  return {
    app,
    logs,
    close: async () => {
      await app.close();
      await clients.close();
    },
  };
}

type Who = 'anonymous' | UserRole;
const WHO: readonly Who[] = ['anonymous', 'member', 'responder', 'admin'];

describe('authorisation matrix (inject, no Redis)', () => {
  const accounts: Record<UserRole, Account> = { member: account('mia', 'member'), responder: account('rita', 'responder'), admin: account('ada', 'admin') };
  const store = new InMemoryAlertStore();
  let h: Harness;
  beforeAll(async () => {
    // The real service (its rules are what is under test) over the in-memory store.
    h = await harness((metrics, logger) => new AlertService({ store: store as unknown as AlertStore, notifications: { enqueueEvent: async () => undefined }, metrics, logger }), Object.values(accounts));
  });
  afterAll(async () => {
    await h.close();
  });

  const headers = (who: Who): Record<string, string> => (who === 'anonymous' ? {} : { authorization: `Bearer ${accounts[who].token}` });
  const member = (): Principal => accounts.member.user;
  const json = { 'content-type': 'application/json' };
  const raise = { type: 'panic', severity: 'high', location: { lat: -33.9, lon: 18.4 } };

  /** route → the status each caller gets; each request runs against an alert of its own where it needs one. */
  const routes: readonly { name: string; request: () => { method: 'GET' | 'POST'; url: string; payload?: unknown }; expect: Record<Who, number> }[] = [
    { name: 'POST /api/emergency/alerts', request: () => ({ method: 'POST', url: '/api/emergency/alerts', payload: raise }), expect: { anonymous: 401, member: 201, responder: 201, admin: 201 } },
    { name: 'GET /api/emergency/alerts', request: () => ({ method: 'GET', url: '/api/emergency/alerts' }), expect: { anonymous: 401, member: 200, responder: 200, admin: 200 } },
    { name: 'GET /api/emergency/alerts/:id', request: () => ({ method: 'GET', url: `/api/emergency/alerts/${store.seed(member()).id}` }), expect: { anonymous: 401, member: 200, responder: 200, admin: 200 } },
    { name: 'GET /api/emergency/alerts/:id/cap', request: () => ({ method: 'GET', url: `/api/emergency/alerts/${store.seed(member()).id}/cap` }), expect: { anonymous: 401, member: 200, responder: 200, admin: 200 } },
    { name: 'POST …/:id/ack', request: () => ({ method: 'POST', url: `/api/emergency/alerts/${store.seed(member()).id}/ack` }), expect: { anonymous: 401, member: 403, responder: 200, admin: 200 } },
    { name: 'POST …/:id/resolve', request: () => ({ method: 'POST', url: `/api/emergency/alerts/${store.seed(member(), 'acknowledged').id}/resolve` }), expect: { anonymous: 401, member: 403, responder: 200, admin: 200 } },
    { name: 'POST …/:id/cancel (the member reported it)', request: () => ({ method: 'POST', url: `/api/emergency/alerts/${store.seed(member()).id}/cancel` }), expect: { anonymous: 401, member: 200, responder: 200, admin: 200 } },
    { name: 'GET /api/emergency/stream', request: () => ({ method: 'GET', url: '/api/emergency/stream' }), expect: { anonymous: 401, member: 200, responder: 200, admin: 200 } },
    { name: 'GET /api/auth/me', request: () => ({ method: 'GET', url: '/api/auth/me' }), expect: { anonymous: 401, member: 200, responder: 200, admin: 200 } },
    { name: 'POST /api/auth/logout', request: () => ({ method: 'POST', url: '/api/auth/logout' }), expect: { anonymous: 200, member: 200, responder: 200, admin: 200 } },
    // The metrics token, not an account, opens /metrics.
    { name: 'GET /metrics', request: () => ({ method: 'GET', url: '/metrics' }), expect: { anonymous: 401, member: 401, responder: 401, admin: 401 } },
    { name: 'GET /health/live', request: () => ({ method: 'GET', url: '/health/live' }), expect: { anonymous: 200, member: 200, responder: 200, admin: 200 } },
    { name: 'GET /health/redis', request: () => ({ method: 'GET', url: '/health/redis' }), expect: { anonymous: 200, member: 200, responder: 200, admin: 200 } },
  ];

  for (const route of routes) {
    it(`${route.name}: ${WHO.map((w) => `${w} ${route.expect[w]}`).join(', ')}`, async () => {
      for (const who of WHO) {
        const r = route.request();
        const res = await h.app.inject({ method: r.method, url: r.url, headers: { ...headers(who), ...(r.payload === undefined ? {} : json) }, ...(r.payload === undefined ? {} : { payload: JSON.stringify(r.payload) }) });
        expect(res.statusCode, `${who}: ${res.body}`).toBe(route.expect[who]);
        if (res.statusCode === 401) expect(res.json<{ error: { code: string } }>().error.code).toBe('NABOOM_UNAUTHENTICATED');
        if (res.statusCode === 403) expect(res.json<{ error: { code: string } }>().error.code).toBe('NABOOM_FORBIDDEN');
      }
    });
  }

  it('push routes without a subscription store (push off): 401 anonymous, else 404 NABOOM_PUSH_DISABLED', async () => {
    const requests = [
      { method: 'GET' as const, url: '/api/push/vapid-public-key' },
      { method: 'POST' as const, url: '/api/push/subscriptions', payload: '{}' },
      { method: 'DELETE' as const, url: '/api/push/subscriptions', payload: '{}' },
    ];
    for (const r of requests) {
      for (const who of WHO) {
        const res = await h.app.inject({ ...r, headers: { ...headers(who), ...(r.payload === undefined ? {} : json) } });
        expect(res.statusCode, `${r.method} ${r.url} ${who}`).toBe(who === 'anonymous' ? 401 : 404);
        if (who !== 'anonymous') expect(res.json<{ error: { code: string } }>().error.code).toBe('NABOOM_PUSH_DISABLED');
      }
    }
  });

  it('another member’s alert is 404 to a member (no existence oracle), and a revoked token is 401', async () => {
    const other = store.seed({ id: 'id-someone', username: 'someone', role: 'member' });
    const res = await h.app.inject({ method: 'GET', url: `/api/emergency/alerts/${other.id}`, headers: headers('member') });
    expect(res.statusCode).toBe(404);
    const revoked = await h.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer nbm_${'r'.repeat(43)}` } });
    expect(revoked.statusCode).toBe(401);
  });

  it("the worker's /health/live answers the API's body", async () => {
    const api = await h.app.inject({ method: 'GET', url: '/health/live' });
    const worker = await startMetricsServer({ metrics: new Metrics(), token: METRICS_TOKEN, host: '127.0.0.1', port: 0, logger: createLogger({ level: 'silent' }) });
    try {
      const res = await fetch(`${worker.url}/health/live`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(api.json());
      expect(api.json()).toEqual(liveBody());
    } finally {
      await worker.close();
    }
  });

  it('GET /metrics answers with the metrics token', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('naboom_');
  });

  it('a login sets a session cookie that authenticates /api/auth/me (sessions in memory)', async () => {
    const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: json, payload: JSON.stringify({ username: 'rita', password: accounts.responder.password }) });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'naboom_sid');
    expect(cookie?.value).toBeTruthy();
    const me = await h.app.inject({ method: 'GET', url: '/api/auth/me', cookies: { naboom_sid: cookie?.value ?? '' } });
    expect(me.statusCode).toBe(200);
    expect(me.json<{ user: { username: string }; via: string }>()).toMatchObject({ user: { username: 'rita' }, via: 'session' });
    const wrong = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: json, payload: JSON.stringify({ username: 'rita', password: 'nope' }) });
    expect(wrong.statusCode).toBe(401);
  });
});

describe('error mapping (inject, no Redis)', () => {
  const caller = account('rita', 'responder');
  let failure: unknown;
  let h: Harness;
  beforeAll(async () => {
    const failing: AlertOperations = {
      get: async () => {
        throw failure;
      },
      list: async () => ({ alerts: [], next: null }),
      raise: async () => {
        throw failure;
      },
      act: async () => {
        throw failure;
      },
      locate: async () => {
        throw failure;
      },
      claim: async () => {
        throw failure;
      },
      unclaim: async () => {
        throw failure;
      },
      postMessage: async () => {
        throw failure;
      },
      messages: async () => {
        throw failure;
      },
    };
    h = await harness(() => failing, [caller]);
  });
  afterAll(async () => {
    await h.close();
  });

  async function answer(err: unknown): Promise<{ status: number; code: string; message: string; details?: unknown; retryAfter: string | undefined }> {
    failure = err;
    const res = await h.app.inject({ method: 'GET', url: '/api/emergency/alerts/1-0', headers: { authorization: `Bearer ${caller.token}` } });
    const body = res.json<{ error: { code: string; message: string; details?: unknown } }>();
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, ...body.error, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined };
  }

  /** Codes meant for the CLI and what the API answers instead. */
  const API_EQUIVALENT: Partial<Record<ErrorCode, ErrorCode>> = { NABOOM_REDIS_UNAVAILABLE: 'NABOOM_UNAVAILABLE', NABOOM_REDIS_AUTH: 'NABOOM_UNAVAILABLE', NABOOM_REDIS_NOPERM: 'NABOOM_INTERNAL' };

  it('answers every catalogue error with its status and code; 503s carry Retry-After; internal ones a generic message', async () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const sent = API_EQUIVALENT[code] ?? code;
      const a = await answer(new NaboomError(code, `detail of ${code}`, { details: { which: code } }));
      expect(a.status, code).toBe(ERRORS[sent].status);
      expect(a.code, code).toBe(sent);
      expect(a.retryAfter, code).toBe(ERRORS[sent].status === 503 ? '1' : undefined);
      if (sent === 'NABOOM_INTERNAL') {
        expect(a.message, code).toMatch(/\(error id [0-9a-f-]{36}\)$/);
        expect(a.message, code).not.toContain('detail of');
        expect(a.details, code).toBeUndefined();
      } else if (sent === code) {
        expect(a.message, code).toBe(`detail of ${code}`);
        expect(a.details, code).toEqual({ which: code });
      }
    }
  });

  it('a Redis that cannot serve is 503 NABOOM_UNAVAILABLE with Retry-After, whatever shape ioredis reports it in', async () => {
    const outages: Error[] = [new Error('Connection is closed.'), new Error('Command timed out'), new MaxRetriesPerRequestError(1) as unknown as Error, new ReplyError('LOADING Redis is loading the dataset in memory'), new ReplyError('WRONGPASS invalid username-password pair or user is disabled.')];
    for (const err of outages) {
      expect(await answer(err), err.message).toMatchObject({ status: 503, code: 'NABOOM_UNAVAILABLE', retryAfter: '1' });
    }
    // An internal error wrapping an outage is the outage.
    expect(await answer(new NaboomError('NABOOM_INTERNAL', 'reply unusable', { cause: new Error('Connection is closed.') }))).toMatchObject({ status: 503, code: 'NABOOM_UNAVAILABLE', retryAfter: '1' });
    expect(await answer(new ReplyError('NOREPLICAS Not enough good replicas to write.'))).toMatchObject({ status: 503, code: 'NABOOM_NOT_REPLICATED', retryAfter: '1' });
  });

  it('NOPERM (a missing grant: a bug) is a generic 500 whose detail is only in the log, under the error id', async () => {
    const noperm = new ReplyError("NOPERM User app_user has no permissions to run the 'xadd' command");
    for (const err of [noperm, new NaboomError('NABOOM_UNAVAILABLE', 'enqueue refused', { cause: noperm })]) {
      const before = h.logs.length;
      const a = await answer(err);
      expect(a).toMatchObject({ status: 500, code: 'NABOOM_INTERNAL', retryAfter: undefined });
      expect(a.message).not.toMatch(/NOPERM|xadd/);
      const id = /error id ([0-9a-f-]{36})/.exec(a.message)?.[1];
      const logged = h.logs.slice(before).join('');
      expect(logged).toContain(id);
      expect(logged).toContain('request failed');
    }
  });

  it('an unknown error is a generic 500: the message stays in the log, never in the answer', async () => {
    const before = h.logs.length;
    const a = await answer(new TypeError('secret internals: cannot read x of undefined'));
    expect(a).toMatchObject({ status: 500, code: 'NABOOM_INTERNAL', retryAfter: undefined });
    expect(a.message).toMatch(new RegExp(`^${ERRORS.NABOOM_INTERNAL.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(error id [0-9a-f-]{36}\\)$`));
    expect(a.message).not.toContain('secret internals');
    const id = /error id ([0-9a-f-]{36})/.exec(a.message)?.[1] ?? 'missing';
    const line = h.logs.slice(before).find((l) => l.includes(id));
    expect(line).toContain('secret internals');
  });

  it('malformed JSON is 400, an unknown route 404, a text/plain body 415, all in the same error shape', async () => {
    const auth = { authorization: `Bearer ${caller.token}` };
    const bad = await h.app.inject({ method: 'POST', url: '/api/emergency/alerts', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"type":' });
    expect([bad.statusCode, bad.json<{ error: { code: string } }>().error.code]).toEqual([400, 'NABOOM_BAD_REQUEST']);
    const missing = await h.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect([missing.statusCode, missing.json<{ error: { code: string } }>().error.code]).toEqual([404, 'NABOOM_NOT_FOUND']);
    const text = await h.app.inject({ method: 'POST', url: '/api/emergency/alerts', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' });
    expect([text.statusCode, text.json<{ error: { code: string } }>().error.code]).toEqual([415, 'NABOOM_UNSUPPORTED_MEDIA_TYPE']);
  });
});
