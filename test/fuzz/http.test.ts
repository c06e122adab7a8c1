/**
 * Property test of the HTTP API against hostile input (real server, real Redis with the generated ACL):
 * generated bodies, headers, query strings and path parameters for every route. Properties: no answer is a
 * 5xx, the server stays healthy, and a request refused at parsing, validation or authentication (400, 401,
 * 413, 415) or answered 404 leaves every key of every database exactly as it was.
 *
 * The hostile values live in hostile.ts, shared with the WebSocket property test (ws.test.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';
import { hostileJson, hostileRaiseBody, mostly, snapshot, text, trickyString } from './hostile.js';

/** Raw body texts: JSON of a hostile value, or text that is not JSON (or only almost). */
const bodyText = (value: fc.Arbitrary<unknown>): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 4, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        '',
        '{',
        '{"type":"panic",}',
        '{"__proto__":{"admin":true},"type":"panic","location":{"lat":1,"lon":2}}',
        '{"constructor":{"prototype":{"polluted":true}},"type":"panic","location":{"lat":1,"lon":2}}',
        '{"type":"panic","type":"fire","location":{"lat":1,"lon":2}}',
        '{"type":"panic","location":{"lat":1e999,"lon":2}}',
        '{"type":"panic","location":{"lat":NaN,"lon":2}}',
        '"\\ud800"',
        '{"note":"\\udc00"}',
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `{"description":"${'x'.repeat(70 * 1024)}"}`,
      ),
    },
  );

/** Header values as a client can send them (visible ASCII; fetch refuses CR, LF and non-Latin-1). */
const headerText = fc.stringMatching(/^[\x20-\x7e]{0,300}$/);

const contentType = fc.oneof(
  { weight: 3, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/merge-patch+json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/plain',
  'application/octet-stream',
  '',
  'application/json; charset=',
  ),
);

/** Query-string values: printable text and raw percent-encoded bytes (invalid UTF-8 included). */
const queryValue = fc.oneof(
  trickyString.map((v) => {
    try {
      return encodeURIComponent(v);
    } catch {
      return encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
    }
  }),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 12 }).map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
);

const queryString = fc
  .array(fc.tuple(fc.constantFrom('since', 'before', 'limit', 'severity', 'status', 'severities', '__proto__', 'constructor', 'x', 'limit[]', 'since[0]'), queryValue), { maxLength: 5 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

/** Path parameters: ids, near-ids and junk, percent-encoded as a client would. */
const idParam = fc.oneof(
  fc.constantFrom('0-0', '1-0', '18446744073709551615-18446744073709551615', '99999999999999999999-0', '..', '%2e%2e', '%00', '%ED%A0%80', 'a'.repeat(2000), '1-0%20', '-1-0'),
  trickyString.map((v) => {
    try {
      return encodeURIComponent(v) || '0';
    } catch {
      return '%ED%A0%80';
    }
  }),
);

type Who = 'member' | 'responder' | 'admin' | 'none' | 'junk';
const who = fc.oneof({ weight: 3, arbitrary: fc.constantFrom<Who>('member', 'responder', 'admin') }, fc.constantFrom<Who>('none', 'junk'));

interface FuzzRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string | undefined;
  readonly contentType?: string;
  readonly who: Who;
  readonly authorization?: string;
  readonly idempotencyKey?: string;
}

describe('HTTP API under hostile input (property test)', () => {
  let s: Stack;
  let alertId = '';
  /** Answers seen, by route and status: the generators must reach past validation too. */
  const statuses = new Map<string, number>();

  beforeAll(async () => {
    s = await startStack({
      env: { RATE_LIMIT_ALERTS_PER_USER: '100000', RATE_LIMIT_ALERTS_PER_IP: '100000', RATE_LIMIT_LOGINS: '100000' },
      escalationIntervalMs: 3_600_000,
    });
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
    alertId = (r.body as { alert_id: string }).alert_id;
  });
  afterAll(async () => {
    await s?.stop();
  });

  const headersFor = (r: FuzzRequest): Record<string, string> => {
    const h: Record<string, string> = {};
    const tokens = { member: s.member.token, responder: s.responder.token, admin: s.admin_.token };
    if (r.authorization !== undefined) h['authorization'] = r.authorization;
    else if (r.who === 'junk') h['authorization'] = 'Bearer nbm_notarealtokennotarealtokennotarealtokennotare';
    else if (r.who !== 'none') h['authorization'] = `Bearer ${tokens[r.who]}`;
    if (r.contentType !== undefined && r.body !== undefined) h['content-type'] = r.contentType;
    if (r.idempotencyKey !== undefined) h['idempotency-key'] = r.idempotencyKey;
    return h;
  };

  /** Sends one request; a 200 event stream is read no further than its status. */
  async function send(r: FuzzRequest): Promise<{ status: number; code: string | undefined }> {
    const abort = new AbortController();
    const res = await fetch(`${s.url}${r.path}`, { method: r.method, headers: headersFor(r), signal: abort.signal, ...(r.body !== undefined ? { body: r.body } : {}) });
    const seen = `${r.method} ${r.path.replace(/\?.*/, '').replace(/\/alerts\/[^/]+/, '/alerts/:id')} ${res.status}`;
    statuses.set(seen, (statuses.get(seen) ?? 0) + 1);
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      abort.abort();
      return { status: res.status, code: undefined };
    }
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code };
  }

  /** Refused at parsing, validation or authentication, or not found: such a request must not have written anything. */
  const refusedEarly = (status: number, code: string | undefined): boolean =>
    status === 400 || status === 404 || status === 413 || status === 415 || code === 'NABOOM_UNAUTHENTICATED';

  async function check(r: FuzzRequest): Promise<void> {
    const before = await snapshot(s.admin);
    const { status, code } = await send(r);
    expect(status, JSON.stringify(r).slice(0, 500)).toBeLessThan(500);
    if (refusedEarly(status, code)) expect(await snapshot(s.admin), `${status} ${code ?? ''} ${JSON.stringify(r).slice(0, 300)}`).toBe(before);
  }

  const runs = { numRuns: 40, endOnFailure: true } as const;

  it('raise: hostile bodies, content types, Idempotency-Key and Authorization headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyText(hostileRaiseBody),
        contentType,
        who,
        fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/), headerText),
        // Mostly the account's own token (so bodies reach validation), sometimes a hostile Authorization header.
        fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, headerText, fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'bearer nbm_x', `Bearer ${'a'.repeat(4000)}`)),
        async (body, ct, w, idem, authorization) => {
          await check({ method: 'POST', path: '/api/emergency/alerts', body, contentType: ct, who: w, ...(idem !== undefined ? { idempotencyKey: idem } : {}), ...(authorization !== undefined ? { authorization } : {}) });
        },
      ),
      // One plain valid alert first, so the coverage check below never depends on the seed.
      { ...runs, numRuns: 60, examples: [[JSON.stringify(sampleAlert()), 'application/json', 'member', undefined, undefined]] },
    );
  });

  it('list, stream and me: hostile query strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/emergency/alerts', '/api/emergency/stream', '/api/auth/me'), queryString, who, async (path, qs, w) => {
        await check({ method: 'GET', path: `${path}${qs}`, who: w });
      }),
      { ...runs, numRuns: 60, examples: [['/api/emergency/alerts', '?limit=5', 'responder']] },
    );
  });

  it('get, cap and lifecycle: hostile ids and bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(idParam, fc.constant('<real>')),
        fc.constantFrom('', '/cap', '/ack', '/resolve', '/cancel'),
        bodyText(fc.oneof(hostileJson, fc.constant(null), fc.record({ note: mostly(text(0, 60)) }, { requiredKeys: [] }))),
        contentType,
        who,
        async (id, action, body, ct, w) => {
          const path = `/api/emergency/alerts/${id === '<real>' ? alertId : id}${action}`;
          const isPost = action !== '' && action !== '/cap';
          await check({ method: isPost ? 'POST' : 'GET', path, who: w, ...(isPost ? { body, contentType: ct } : {}) });
        },
      ),
      runs,
    );
  });

  it('login and logout: hostile credentials and bodies', async () => {
    const credentials = fc.record(
      { username: mostly(fc.oneof(fc.constantFrom('mia', 'MIA', 'rita', 'nobody'), text(0, 70))), password: mostly(fc.oneof(fc.constantFrom('mia-Passw0rd-123'), text(0, 80))) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/auth/login', '/api/auth/logout'), bodyText(fc.oneof(credentials, hostileJson)), contentType, who, async (path, body, ct, w) => {
        await check({ method: 'POST', path, body, contentType: ct, who: w });
      }),
      runs,
    );
  });

  it('is still healthy afterwards and answered with no 5xx at all', async () => {
    const seen = [...statuses.keys()];
    expect(seen.filter((k) => / 5\d\d$/.test(k))).toEqual([]);
    // The generators reached past validation too, not only refusals.
    for (const k of ['POST /api/emergency/alerts 201', 'POST /api/emergency/alerts 400', 'GET /api/emergency/alerts 200', 'GET /api/emergency/alerts 400']) {
      expect(seen, k).toContain(k);
    }
    // Whatever was stored stays actionable (a lone surrogate once made every later ack a 500).
    const listed = await fetch(`${s.url}/api/emergency/alerts?status=open&limit=500`, { headers: auth(s.responder) });
    expect(listed.status).toBe(200);
    for (const a of ((await listed.json()) as { alerts: { id: string }[] }).alerts) {
      expect((await post(`${s.url}/api/emergency/alerts/${a.id}/ack`, null, auth(s.responder))).status, a.id).toBe(200);
    }
    const ready = await fetch(`${s.url}/health/ready`);
    expect(ready.status).toBe(200);
    const raised = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
    expect(raised.status).toBe(201);
    const ack = await post(`${s.url}/api/emergency/alerts/${(raised.body as { alert_id: string }).alert_id}/ack`, null, auth(s.responder));
    expect(ack.status).toBe(200);
  });
});
