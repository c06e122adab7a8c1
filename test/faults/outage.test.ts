/**
 * Redis unreachable for 10 s (the process frozen with SIGSTOP, so packets go unanswered): the API answers 503
 * NABOOM_UNAVAILABLE quickly instead of hanging, /health/redis says unhealthy, and everything recovers by
 * itself once Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, get, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

describe('Redis outage', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '100000', RATE_LIMIT_ALERTS_PER_IP: '100000', REDIS_COMMAND_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers 503 with a clear code during a 10 s outage and recovers by itself', async () => {
    expect((await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member))).status).toBe(201);
    const pid = s.redis.server.pid;
    process.kill(pid, 'SIGSTOP');
    const frozenAt = Date.now();
    const slowest: number[] = [];
    const codes = new Map<string, number>();
    let health: { status: number; overall?: string } = { status: 0 };
    try {
      while (Date.now() - frozenAt < 10_000) {
        const t0 = Date.now();
        const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
        slowest.push(Date.now() - t0);
        const code = (r.body as { error?: { code: string } }).error?.code ?? String(r.status);
        codes.set(`${r.status} ${code}`, (codes.get(`${r.status} ${code}`) ?? 0) + 1);
        if (r.status === 503) expect(r.headers.get('retry-after')).toBe('1');
        if (!health.status) {
          const h = await get(`${s.url}/health/redis`);
          health = { status: h.status, overall: (h.body as { overall_status: string }).overall_status };
        }
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    let recoveredAfter = -1;
    while (Date.now() - resumedAt < 15_000) {
      const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
      if (r.status === 201) {
        recoveredAfter = Date.now() - resumedAt;
        break;
      }
    }
    expect([...codes.keys()]).toEqual(['503 NABOOM_UNAVAILABLE']);
    expect(Math.max(...slowest)).toBeLessThan(5000);
    expect(health).toEqual({ status: 503, overall: 'unhealthy' });
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    const h = await get(`${s.url}/health/redis`);
    expect(h.status).toBe(200);
    expect((await get(`${s.url}/health/ready`)).status).toBe(200);
    process.stdout.write(
      `[outage] 10 s unreachable: ${[...codes].map(([k, n]) => `${n}× ${k}`).join(', ')}, slowest answer ${Math.max(...slowest)} ms, health ${health.status} ${health.overall}; first 201 ${recoveredAfter} ms after Redis came back\n`,
    );
  }, 60_000);
});
