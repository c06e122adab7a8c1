/**
 * The dispatch lookup runs beside the ingest, never before it: an alert is stored and on the live feed while
 * the presence lookup has not answered (a slow presence read must never hold an emergency back). Its
 * `dispatched` step is written into the stored history right after `raised` once the lookup answers, and the
 * notification job — which needs to know whom to push — waits for it. Real Redis; the policy is held by the
 * test so that "not answered yet" is a state, not a race.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchInfo } from '../../src/alerts/model.js';
import { AlertService, type DispatchPolicy } from '../../src/alerts/service.js';
import { AlertStore } from '../../src/alerts/store.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { RoleClients } from '../../src/redis/connections.js';
import { startStack, type Stack } from '../helpers/stack.js';

type Plan = Awaited<ReturnType<DispatchPolicy['plan']>>;

describe('dispatch beside the ingest', () => {
  let s: Stack;
  let clients: RoleClients;

  beforeAll(async () => {
    s = await startStack();
    clients = new RoleClients(s.redis.config, createLogger({ level: 'silent' }));
  });

  afterAll(async () => {
    await clients.close();
    await s.stop();
  });

  it('the alert is stored and on the feed before the lookup answers; the step and the job follow it', async () => {
    const store = new AlertStore(clients.get('realtime'), s.redis.config, s.redis.keys);
    const asked: unknown[] = [];
    let answer: ((plan: Plan) => void) | undefined;
    const held: DispatchPolicy = {
      plan: (point) => {
        asked.push(point);
        return new Promise<Plan>((resolve) => (answer = resolve));
      },
    };
    const jobs: { dispatch?: DispatchInfo }[] = [];
    const service = new AlertService({
      store,
      notifications: { enqueueEvent: (event) => (jobs.push(event), Promise.resolve()) },
      metrics: new Metrics(),
      logger: createLogger({ level: 'silent' }),
      dispatch: held,
    });
    const feed = s.redis.keys.alerts.feed;
    // The realtime role's own connection (its database): the one the feed tail reads with.
    const rt = clients.get('realtime');
    const before = await rt.xlen(feed);

    let settled = false;
    const raising = service.raise({ id: 'u_beside', username: 'beside', role: 'member' }, { type: 'fire', severity: 'high', location: { lat: -33.9249, lon: 18.4241 }, description: 'held lookup' });
    void raising.then(() => (settled = true));

    // On the feed (what every board tails) while the lookup is still held.
    const [[id] = []] = await waitFor('the alert on the feed', async () => ((await rt.xlen(feed)) > before ? await rt.xrevrange(feed, '+', '-', 'COUNT', 1) : undefined));
    expect(asked).toEqual([{ lat: -33.9249, lon: 18.4241 }]);
    expect(answer).toBeDefined();
    expect(settled).toBe(false);
    expect(jobs).toEqual([]);
    const stored = await store.get(String(id));
    expect(stored?.history.map((h) => h.event)).toEqual(['raised']);

    answer?.({ dispatch: { stage: 'nearest', reason: 'nearest', responders: ['rita'], radius_km: 10 }, note: 'sent first to the 1 nearest available responder within 10 km' });
    const result = await raising;
    expect(result.alert.id).toBe(id);
    expect(result.alert.history.map((h) => h.event)).toEqual(['raised', 'dispatched']);
    expect((await store.get(result.alert.id))?.history.map((h) => h.event)).toEqual(['raised', 'dispatched']);
    expect(jobs.map((j) => j.dispatch)).toEqual([{ stage: 'nearest', reason: 'nearest', responders: ['rita'], radius_km: 10 }]);
  });

  it('the step goes right after `raised` even when the alert changed meanwhile, and a missing alert is no error', async () => {
    const store = new AlertStore(clients.get('realtime'), s.redis.config, s.redis.keys);
    const raised = await store.raise({ type: 'medical', location: { lat: -33.9, lon: 18.4 } }, { id: 'u_note', username: 'note' });
    const acked = await store.transition(raised.alert.id, 'ack', { id: 'u_rita', username: 'rita' });
    expect(acked.kind).toBe('ok');
    const noted = await store.note(raised.alert.id, { event: 'dispatched', at: new Date().toISOString(), note: 'responder positions could not be read: sent to everyone' });
    expect(noted?.history.map((h) => h.event)).toEqual(['raised', 'dispatched', 'acknowledged']);
    expect(noted?.status).toBe('acknowledged');
    expect(await store.note('1-0', { event: 'dispatched', at: new Date().toISOString(), note: 'x' })).toBeUndefined();
  });
});
