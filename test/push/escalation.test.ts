/**
 * `alert.escalated` is pushed too: an alert still open after ESCALATE_AFTER_S gets a second push with the same
 * Topic (so the push service replaces the first if it still holds it) and the escalation's event name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEnv } from '../../src/config/generate.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationWorker } from '../../src/queue/worker.js';
import { auth, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';
import { MockPushService } from './mock-push-service.js';

const vapid = generateEnv(6380).vars;

describe('Web Push: escalations', () => {
  let s: Stack;
  let svc: MockPushService;
  let worker: NotificationWorker;

  beforeAll(async () => {
    s = await startStack({
      env: { VAPID_PUBLIC_KEY: vapid['VAPID_PUBLIC_KEY'] ?? '', VAPID_PRIVATE_KEY: vapid['VAPID_PRIVATE_KEY'] ?? '', VAPID_SUBJECT: 'https://ops.example.org/contact', ESCALATE_AFTER_S: '1' },
      escalationIntervalMs: 100,
    });
    svc = new MockPushService();
    await svc.start();
    worker = new NotificationWorker({ config: s.redis.config, keys: s.redis.keys, logger: createLogger({ level: 'silent' }), metrics: new Metrics() }, { summaryPattern: false });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop(1000);
    await svc?.stop();
    await s?.stop();
  });

  it('an alert left open is pushed again as alert.escalated, same Topic', async () => {
    const sub = await svc.subscribe(vapid['VAPID_PUBLIC_KEY'] ?? '');
    expect((await post(`${s.url}/api/push/subscriptions`, { endpoint: sub.endpoint, keys: sub.keys }, auth(s.responder))).status).toBe(201);
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ severity: 'medium' }), auth(s.member));
    const id = (r.body as { alert_id: string }).alert_id;
    const msgs = await waitFor('the raise and escalation pushes', async () => {
      const m = (await svc.messages(sub.clientHash)).map((x) => JSON.parse(x) as { event: string; id: string });
      return m.some((x) => x.event === 'alert.escalated') ? m : undefined;
    }, { timeoutMs: 10_000 });
    expect(msgs[0]).toMatchObject({ event: 'alert.raised', id });
    expect(msgs.find((x) => x.event === 'alert.escalated')).toMatchObject({ id });
    const topics = new Set(svc.requests.filter((q) => q.hash === sub.clientHash).map((q) => q.headers['topic']));
    expect([...topics]).toEqual([id]);
    expect(svc.requests.every((q) => q.headers['urgency'] === 'normal')).toBe(true);
  });
});
