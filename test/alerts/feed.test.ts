/**
 * The feed and escalation at the service level (real Redis, the feed's own fan-out): a live client that stops
 * reading is told and disconnected instead of growing memory; escalation fires once per interval until
 * acknowledged, even with two processes sweeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { AlertFeed, REPLAY_CONCURRENCY, type EndReason, type FeedSink, type Frame } from '../../src/alerts/feed.js';
import { DATABASES } from '../../src/redis/databases.js';
import { AlertService } from '../../src/alerts/service.js';
import { ALERT_EVENTS, LEGACY_RAISED_EVENT } from '../../src/alerts/model.js';
import { encodeEvent } from '../../src/http/live/frames.js';
import { AlertStore } from '../../src/alerts/store.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { NotificationQueue } from '../../src/queue/notifications.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });
const reporter = { id: 'u_test', username: 'tess' };
const responder = { id: 'u_resp', username: 'rita', role: 'responder' as const };
const location = { lat: -26.2, lon: 28.04 };

/** A sink whose reader never reads: every write after the first `free` hangs, like a stalled TCP peer. */
class StalledSink implements FeedSink {
  readonly transport = 'ws' as const;
  writes = 0;
  closedWith: string | undefined;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  constructor(readonly free = 1) {
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }
  /** Always backed up: every frame takes the queued path. */
  tryWrite(): boolean {
    return false;
  }
  async write(_frame: Frame): Promise<void> {
    this.writes += 1;
    if (this.writes > this.free) await new Promise(() => undefined);
  }
  async notice(): Promise<void> {}
  cork(): void {}
  uncork(): void {}
  close(code: 'slow' | 'shutdown'): void {
    this.closedWith = code;
    this.#resolveClosed();
  }
}

/** Records every frame and how the feed ended the connection. */
class RecordingSink implements FeedSink {
  readonly transport = 'sse' as const;
  readonly notices: { type: string; data: Record<string, unknown> }[] = [];
  closedWith: string | undefined;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  constructor() {
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }
  tryWrite(): boolean {
    return true;
  }
  async write(_frame: Frame): Promise<void> {}
  async notice(type: string, data: Record<string, unknown>): Promise<void> {
    this.notices.push({ type, data });
  }
  cork(): void {}
  uncork(): void {}
  close(code: EndReason): void {
    this.closedWith = code;
    this.#resolveClosed();
  }
}

describe('feed and escalation', () => {
  let t: TestRedis;
  const open: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    t = await startTestRedis({ env: { CHANNEL_CAPACITY: '5', ESCALATE_AFTER_S: '1' } });
  });
  afterAll(async () => {
    for (const o of open.reverse()) await o.close();
    await t.stop();
  });

  function services(opts: { replayClient?: 'denied' } = {}) {
    const metrics = new Metrics();
    const clients = new RoleClients(t.config, logger);
    // The app role may not read the feed: every replay read is refused by Redis (NOPERM).
    const readClient = opts.replayClient === 'denied' ? clients.get('app', 'command', DATABASES.cache) : clients.get('realtime');
    const notifications = new NotificationQueue({ config: t.config, keys: t.keys, logger, metrics });
    const store = new AlertStore(clients.get('realtime'), t.config, t.keys);
    const service = new AlertService({ store, notifications, metrics, logger });
    const feed = new AlertFeed({ store, encode: encodeEvent, tailClient: clients.dedicated('realtime', 'feed'), readClient, keys: t.keys, settings: t.config.settings, metrics, logger });
    open.push({
      close: async () => {
        await feed.stop();
        await notifications.close();
        await clients.close();
      },
    });
    return { metrics, clients, store, service, feed, notifications };
  }

  it('disconnects a live client that stops reading once its queue (capacity 5) is full', async () => {
    const { feed, service, metrics } = services();
    await feed.start();
    const sink = new StalledSink();
    await feed.subscribe(responder, { severities: ['high'] }, sink);
    for (let i = 0; i < 12; i++) await service.raise({ ...reporter, role: 'member' }, { type: 'panic', location });
    await sink.closed;
    expect(sink.closedWith).toBe('slow');
    expect(await metrics.registry.getSingleMetricAsString('naboom_live_slow_clients_total')).toMatch(/transport="ws"\} 1/);
  });

  it('a replay Redis refuses ends the connection with an error instead of replay.start and silence', async () => {
    const { feed, service } = services({ replayClient: 'denied' });
    await feed.start();
    const raised = await service.raise({ ...reporter, role: 'member' }, { type: 'panic', location });
    for (const who of [responder, { ...reporter, role: 'member' as const }]) {
      const sink = new RecordingSink();
      await feed.subscribe(who, { severities: ['high'], since: '0-0' }, sink);
      await sink.closed;
      expect(sink.closedWith, who.role).toBe('unavailable');
      expect(sink.notices.map((n) => n.type), who.role).not.toContain('live');
    }
    expect(raised.created).toBe(true);
    expect(feed.subscribers).toBe(0);
  });

  it('runs at most REPLAY_CONCURRENCY replays at once; a stalled one gives its slot up when it unsubscribes', async () => {
    const { feed, service } = services();
    await feed.start();
    await service.raise({ ...reporter, role: 'member' }, { type: 'panic', location });
    const sinks = Array.from({ length: REPLAY_CONCURRENCY + 1 }, () => new StalledSink(0));
    const unsubscribes: (() => Promise<void>)[] = [];
    for (const sink of sinks) unsubscribes.push(await feed.subscribe(responder, { severities: ['high'], since: '0-0' }, sink));
    const started = (): number => sinks.filter((k) => k.writes > 0).length;
    await waitFor(`${REPLAY_CONCURRENCY} replays to start`, () => started() >= REPLAY_CONCURRENCY, { timeoutMs: 5000, intervalMs: 0 });
    expect(started()).toBe(REPLAY_CONCURRENCY);
    const last = sinks[REPLAY_CONCURRENCY];
    expect(last?.writes).toBe(0);
    await unsubscribes[0]?.();
    await waitFor('the queued replay to start', () => last?.writes !== 0, { timeoutMs: 5000, intervalMs: 0 });
    expect(last?.writes).toBe(1);
    for (const u of unsubscribes) await u();
    expect(feed.subscribers).toBe(0);
  });

  it('writes a raised alert to the feed as alert.raised, and still replays entries written as alert.created', async () => {
    const { store } = services();
    const raised = await store.raise({ type: 'fire', severity: 'low', location }, reporter);
    const id = raised.alert.id;
    const admin = await connectAdmin(t.config);
    try {
      await admin.select(DATABASES.realtime);
      const feedKey = t.keys.alerts.feed;
      const [entry] = await admin.xrange(feedKey, id, id);
      expect(entry?.[1].slice(0, 2)).toEqual(['event', ALERT_EVENTS.raised]);
      // An entry as releases before the rename wrote it: same fields, the old event name.
      const legacyId = await admin.xadd(feedKey, '*', 'event', LEGACY_RAISED_EVENT, 'severity', 'low', 'data', entry?.[1][5] ?? '');
      const replayed = await store.feedAfter(raised.alert.id, 10);
      expect(replayed).toEqual([{ id: legacyId, type: 'alert', alert: { ...raised.alert, id: legacyId } }]);
      const before = (await admin.xrevrange(feedKey, `(${id}`, '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      expect((await store.feedAfter(before, 10)).map((e) => [e.id, e.type])).toEqual([
        [id, 'alert'],
        [legacyId, 'alert'],
      ]);
    } finally {
      admin.disconnect();
    }
  });

  it('escalates an open alert once per interval across two sweeping processes, and stops after ack', async () => {
    const a = services();
    const b = services();
    const raised = await a.service.raise({ ...reporter, role: 'member' }, { type: 'medical', severity: 'critical', location });
    const id = raised.alert.id;
    const due = Date.parse(raised.alert.created_at) + 1000;
    // Both processes sweep at the same instant, twice per interval: only one claim may win each time.
    await Promise.all([a.service.escalateDue(due + 10), b.service.escalateDue(due + 10), a.service.escalateDue(due + 20), b.service.escalateDue(due + 20)]);
    expect((await a.store.get(id))?.escalations).toBe(1);
    await b.service.escalateDue(due + 1010);
    const doc = await a.store.get(id);
    expect(doc?.escalations).toBe(2);
    expect(doc?.history.map((h) => h.event)).toEqual(['raised', 'escalated', 'escalated']);
    await a.service.act(responder, id, 'ack');
    await a.service.escalateDue(due + 5000);
    expect((await a.store.get(id))?.escalations).toBe(2);
    // Each escalation enqueued one notification job (log notifier), deduplicated per level.
    const admin = await connectAdmin(t.config);
    await admin.select(2);
    const jobKeys = (await admin.keys('naboom:queue:notifications:*')).filter((k) => /:log\.[A-Za-z0-9._-]+$/.test(k));
    const payloads = await Promise.all(jobKeys.map((k) => admin.hget(k, 'data')));
    const escalated = payloads.filter((p) => p?.includes('alert.escalated') && p.includes(id));
    expect(escalated).toHaveLength(2);
    admin.disconnect();
  });
});
