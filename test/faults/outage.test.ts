/**
 * Redis unreachable (the process frozen with SIGSTOP, so packets go unanswered): the API answers 503
 * NABOOM_UNAVAILABLE with Retry-After within the request deadline instead of hanging, /health/redis says
 * unhealthy, and everything recovers by itself once Redis is back. With a command timeout longer than the
 * deadline, the deadline answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { attemptRequest, describeAttempts, summarizeAttempts, type Attempt } from '../helpers/load.js';
import { auth, get, post, sampleAlert, SseClient, startStack, WsClient, type Stack } from '../helpers/stack.js';

/** Loopback and a loaded test machine: how much later than the server's deadline an answer may arrive. */
const TRANSPORT_MARGIN_MS = 500;
const NO_LIMITS = { RATE_LIMIT_ALERTS_PER_USER: '100000', RATE_LIMIT_ALERTS_PER_IP: '100000' };

async function frozen<T>(s: Stack, run: () => Promise<T>): Promise<T> {
  process.kill(s.redis.server.pid, 'SIGSTOP');
  try {
    return await run();
  } finally {
    process.kill(s.redis.server.pid, 'SIGCONT');
  }
}

describe('Redis outage', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { ...NO_LIMITS, REDIS_COMMAND_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers 503 with Retry-After within the deadline during a 10 s outage and recovers by itself', async () => {
    expect((await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member))).status).toBe(201);
    const attempts: Attempt[] = [];
    let health: { status: number; overall?: string } = { status: 0 };
    await frozen(s, async () => {
      const frozenAt = Date.now();
      while (Date.now() - frozenAt < 10_000) {
        attempts.push(await attemptRequest('POST', `${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member)));
        if (!health.status) {
          const h = await get(`${s.url}/health/redis`);
          health = { status: h.status, overall: (h.body as { overall_status: string }).overall_status };
        }
      }
    });
    const resumedAt = Date.now();
    let recoveredAfter = -1;
    while (Date.now() - resumedAt < 15_000) {
      const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
      if (r.status === 201) {
        recoveredAfter = Date.now() - resumedAt;
        break;
      }
    }
    const answers = summarizeAttempts(attempts, s.redis.config.settings.REQUEST_DEADLINE_MS + TRANSPORT_MARGIN_MS);
    expect(new Set(attempts.map((a) => `${a.status} ${a.code}`))).toEqual(new Set(['503 NABOOM_UNAVAILABLE']));
    expect(answers.errors, describeAttempts(answers)).toEqual([]);
    expect(answers.slow, describeAttempts(answers)).toEqual([]);
    expect(answers.refusalsWithoutRetryAfter, describeAttempts(answers)).toEqual([]);
    expect(health).toEqual({ status: 503, overall: 'unhealthy' });
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    const h = await get(`${s.url}/health/redis`);
    expect(h.status).toBe(200);
    expect((await get(`${s.url}/health/ready`)).status).toBe(200);
    process.stdout.write(`[outage] 10 s unreachable: ${describeAttempts(answers)}, health ${health.status} ${health.overall}; first 201 ${recoveredAfter} ms after Redis came back\n`);
  }, 60_000);
});

describe('Request deadline', () => {
  const DEADLINE_MS = 1500;
  let s: Stack;
  beforeAll(async () => {
    // Commands would wait 20 s: only the deadline can answer in time.
    s = await startStack({ env: { ...NO_LIMITS, REDIS_COMMAND_TIMEOUT_MS: '20000', REQUEST_DEADLINE_MS: String(DEADLINE_MS) } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers 503 + Retry-After at the deadline while Redis is frozen; a retry with the same Idempotency-Key stores one alert', async () => {
    const key = `deadline-${Date.now()}`;
    const alerts = `${s.url}/api/emergency/alerts`;
    // Tokens known to the process: the GET and the ack reach their handlers, which then wait on Redis.
    expect((await get(alerts, auth(s.responder))).status).toBe(200);
    expect((await get(alerts, auth(s.member))).status).toBe(200);
    const logsBefore = s.logs.length;
    const attempts = await frozen(s, async () =>
      Promise.all([
        attemptRequest('POST', alerts, sampleAlert({ description: key }), { ...auth(s.member), 'idempotency-key': key }),
        attemptRequest('GET', alerts, undefined, auth(s.responder)),
        attemptRequest('POST', `${alerts}/1-0/ack`, null, auth(s.responder)),
      ]),
    );
    for (const a of attempts) {
      expect(a.status, a.code).toBe(503);
      expect(a.code).toBe('NABOOM_UNAVAILABLE');
      expect(a.retryAfter).toBe(true);
      expect(a.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(a.ms).toBeLessThan(DEADLINE_MS + TRANSPORT_MARGIN_MS);
    }
    expect((attempts[0]?.body as { error: { message: string } }).error.message).toMatch(/not answered in time.*same Idempotency-Key/);

    // Redis is back: the late handlers finish without a second answer or a log line each. Redis answers one
    // connection in order, so once the list below is answered the late handlers' commands were answered too.
    const retried = await waitFor(
      'the retry with the same Idempotency-Key to be answered 200 or 201',
      async () => {
        const r = await post(alerts, sampleAlert({ description: key }), { ...auth(s.member), 'idempotency-key': key });
        return r.status === 200 || r.status === 201 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 0 },
    );
    expect([200, 201]).toContain(retried.status);
    const list = await get(`${alerts}?limit=100`, auth(s.responder));
    const items = (list.body as { alerts: { description?: string }[] }).alerts;
    expect(items.filter((a) => a.description === key)).toHaveLength(1);
    const newLogs = s.logs.slice(logsBefore).join('');
    expect(newLogs).not.toMatch(/Reply was already sent|Promise errored|request failed/);
    expect(newLogs.match(/not answered within the deadline/g)?.length ?? 0).toBeLessThanOrEqual(1);
    process.stdout.write(`[deadline] Redis frozen, command timeout 20 s, deadline ${DEADLINE_MS} ms: ${attempts.map((a) => `${a.status} ${a.code} in ${Math.round(a.ms)} ms`).join(', ')}\n`);
  }, 60_000);

  it('does not cut the live feeds: SSE and WebSocket receive an alert raised after the deadline', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const sse = new SseClient(`${s.url}/api/emergency/stream`, auth(s.responder));
    await sse.open();
    expect(sse.status).toBe(200);
    await sse.until((e) => e.some((x) => x.event === 'live'));
    const logsBefore = s.logs.length;
    const openedAt = Date.now();
    // The duration itself is under test: both feeds must outlive the request deadline.
    await new Promise((r) => setTimeout(r, Math.max(0, DEADLINE_MS + 300 - (Date.now() - openedAt))));
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
    expect(r.status).toBe(201);
    const id = (r.body as { alert_id: string }).alert_id;
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === id));
    await sse.until((e) => e.some((x) => x.event === 'alert' && x.id === id));
    expect(ws.closed).toBeUndefined();
    // Neither feed was treated as a late request.
    expect(s.logs.slice(logsBefore).join('')).not.toMatch(/not answered within the deadline|already sent/);
    ws.close();
    await sse.close();
  }, 30_000);
});
