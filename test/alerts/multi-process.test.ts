/**
 * Two real `naboom serve` processes share one feed: an alert raised through either reaches live clients of
 * both — even when the process that answered 201 is killed (SIGKILL) right after answering — and a client
 * of a dead process reconnects to the other and replays without a gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { RoleClients } from '../../src/redis/connections.js';
import { UserStore } from '../../src/auth/users.js';
import { spawnServe, type ServeProcess } from '../helpers/processes.js';
import { addMemberAndResponder, startTestRedis, type TestRedis } from '../helpers/redis.js';
import { post, sampleAlert, WsClient } from '../helpers/stack.js';

describe('several serve processes', () => {
  let t: TestRedis;
  let a: ServeProcess;
  let b: ServeProcess;
  let member = '';
  let responder = '';
  beforeAll(async () => {
    t = await startTestRedis();
    ({ member, responder } = await addMemberAndResponder(t));
    [a, b] = await Promise.all([spawnServe(t.envFile), spawnServe(t.envFile)]);
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await t.stop();
  });

  it('delivers an alert accepted by a process killed right after its 201 to the other process’s clients', async () => {
    const onB = new WsClient(b.url, { authorization: `Bearer ${responder}` });
    const onA = new WsClient(a.url, { authorization: `Bearer ${responder}` });
    await Promise.all([onA.open(), onB.open()]);
    onA.subscribe();
    onB.subscribe();
    await Promise.all([onA.until((f) => f.some((x) => x.type === 'live')), onB.until((f) => f.some((x) => x.type === 'live'))]);

    const viaB = await post(`${b.url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${member}` });
    const idB = (viaB.body as { alert_id: string }).alert_id;
    await Promise.all([onA.until((f) => f.some((x) => x.id === idB)), onB.until((f) => f.some((x) => x.id === idB))]);

    const viaA = await post(`${a.url}/api/emergency/alerts`, sampleAlert({ severity: 'critical' }), { authorization: `Bearer ${member}` });
    expect(viaA.status).toBe(201);
    await a.kill();
    const idA = (viaA.body as { alert_id: string }).alert_id;
    await onB.until((f) => f.some((x) => x.id === idA));

    // The dead process's client reconnects to the survivor with its last id and misses nothing.
    const last = onA.alerts().at(-1)?.id ?? '0-0';
    const missed = await post(`${b.url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${member}` });
    const again = new WsClient(b.url, { authorization: `Bearer ${responder}` });
    await again.open();
    again.subscribe({ since: last });
    const idMissed = (missed.body as { alert_id: string }).alert_id;
    await again.until((f) => f.some((x) => x.id === idMissed));
    const ids = again.alerts().map((x) => x.id);
    // Between what the client saw before its server died and what it replayed, nothing is missing …
    const seen = new Set([...onA.alerts().map((x) => x.id), ...ids]);
    for (const id of [idB, idA, idMissed]) expect(seen).toContain(id);
    // … and nothing arrives twice.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain(last);
    onB.close();
    again.close();
  });

  it('shares one rate-limit budget: the 31st alert of a user within a minute is refused by either process', async () => {
    const other = await (async () => {
      const clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
      const users = new UserStore(clients.get('app'), t.keys);
      await users.add('lee', 'member', 'member-password-2');
      const tok = await users.issueToken('lee');
      await clients.close();
      return tok;
    })();
    // The first process was killed above; a fresh one joins the survivor.
    const c = await spawnServe(t.envFile);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await post(`${(i % 2 ? b : c).url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${other}` })).status);
      expect(statuses.every((st) => st === 201)).toBe(true);
      expect((await post(`${b.url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${other}` })).status).toBe(429);
      expect((await post(`${c.url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${other}` })).status).toBe(429);
    } finally {
      await c.stop();
    }
  });

  it('counts concurrent requests exactly: 40 at once across two processes store 30 alerts and refuse 10', async () => {
    const clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    const users = new UserStore(clients.get('app'), t.keys);
    await users.add('kit', 'member', 'member-password-3');
    const kit = await users.issueToken('kit');
    await clients.close();
    const c = await spawnServe(t.envFile);
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => post(`${(i % 2 ? b : c).url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${kit}` })),
      );
      const created = replies.filter((r) => r.status === 201);
      const refused = replies.filter((r) => r.status === 429);
      expect(created).toHaveLength(30);
      expect(refused).toHaveLength(10);
      for (const r of refused) expect((r.body as { error: { code: string } }).error.code).toBe('NABOOM_RATE_LIMITED');
      expect(new Set(created.map((r) => (r.body as { alert_id: string }).alert_id)).size).toBe(30);
      const mine = await fetch(`${b.url}/api/emergency/alerts?limit=100`, { headers: { authorization: `Bearer ${kit}` } });
      expect(((await mine.json()) as { alerts: unknown[] }).alerts).toHaveLength(30);
    } finally {
      await c.stop();
    }
  });
});
