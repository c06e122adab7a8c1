/**
 * The dashboard's connection state machine (web/src/feed.ts) with an injected clock and fake sockets:
 * "Live" only while frames keep arriving, "Connection stale" after two missed heartbeat intervals, then a
 * resubscribe with `since` = the last id seen.
 */
import { describe, expect, it } from 'vitest';
import type { ThreadMessage } from '../../web/src/dispatch.js';
import { LiveFeed, type ConnectionState, type FeedEnvironment, type FeedSocket } from '../../web/src/feed.js';

class FakeSocket implements FeedSocket {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { readonly data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000;
  }
  open(): void {
    this.onopen?.({});
  }
  frame(f: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
}

/** A manual clock: timers fire only when the test advances time. */
class FakeClock {
  t = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown): void => void this.#timers.delete(h as number);
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

async function setup(onMessage?: (m: ThreadMessage) => void) {
  const clock = new FakeClock();
  const sockets: FakeSocket[] = [];
  const states: ConnectionState['kind'][] = [];
  const env: FeedEnvironment = {
    now: () => clock.t,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    openSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
  };
  const feed = new LiveFeed(
    {
      onAlerts: () => undefined,
      ...(onMessage ? { onMessage } : {}),
      onState: (s) => states.push(s.kind),
      onGap: () => undefined,
      onSignedOut: () => undefined,
      resync: () => Promise.resolve('100-0'),
      signedIn: () => Promise.resolve(true),
    },
    env,
  );
  feed.start();
  // resync() resolves on a microtask; then the first socket exists.
  await Promise.resolve();
  await Promise.resolve();
  return { clock, sockets, states, feed };
}

describe('dashboard connection state', () => {
  it('stays Live while heartbeats arrive, turns stale after two missed intervals, then resubscribes with since', async () => {
    const { clock, sockets, states, feed } = await setup();
    const first = sockets[0];
    expect(first).toBeDefined();
    if (!first) return;
    first.open();
    expect(first.sent[0]).toMatchObject({ type: 'subscribe', since: '100-0' });
    first.frame({ type: 'live', last_id: '100-0', interval_ms: 1000 });
    expect(states.at(-1)).toBe('live');
    for (let i = 0; i < 5; i++) {
      clock.advance(900);
      first.frame({ type: 'heartbeat', server_time: new Date(clock.t).toISOString(), position: '100-0', interval_ms: 1000 });
    }
    expect(states.at(-1)).toBe('live');
    first.frame({ type: 'alert', id: '150-0', alert: null });
    clock.advance(1999);
    expect(states.at(-1)).toBe('live');
    expect(first.closedWith).toBeUndefined();
    clock.advance(1);
    expect(states.at(-1)).toBe('stale');
    expect(first.closedWith).toBe(4000);
    // A late close event of the dropped socket changes nothing.
    first.onclose?.({});
    expect(states.at(-1)).toBe('stale');
    clock.advance(10_000);
    const second = sockets[1];
    expect(second).toBeDefined();
    second?.open();
    expect(second?.sent[0]).toMatchObject({ type: 'subscribe', since: '150-0' });
    second?.frame({ type: 'live', last_id: '150-0', interval_ms: 1000 });
    expect(states.at(-1)).toBe('live');
    expect(sockets).toHaveLength(2);
    feed.stop();
  });

  it('is not Live before the server said so, and a silent socket never stays Live', async () => {
    const { clock, sockets, states, feed } = await setup();
    sockets[0]?.open();
    expect(states).not.toContain('live');
    sockets[0]?.frame({ type: 'live', last_id: null });
    // Without interval_ms the default (15 s) applies: stale after 30 s of silence.
    clock.advance(29_999);
    expect(states.at(-1)).toBe('live');
    clock.advance(1);
    expect(states.at(-1)).toBe('stale');
    feed.stop();
  });

  it('passes thread messages on (alert.message), drops malformed ones, and moves the cursor past both', async () => {
    const got: ThreadMessage[] = [];
    const { clock, sockets, feed } = await setup((m) => got.push(m));
    const first = sockets[0];
    first?.open();
    first?.frame({ type: 'live', last_id: '100-0', interval_ms: 1000 });
    const message = { id: '160-0', alert_id: '150-0', at: '2026-01-01T10:00:00.000Z', by: { id: 'u-rita', username: 'rita' }, text: 'On my way' };
    first?.frame({ type: 'alert.message', id: '160-0', alert_id: '150-0', message });
    first?.frame({ type: 'alert.message', id: '170-0', alert_id: '150-0', message: { ...message, id: '170-0', by: null } });
    expect(got).toEqual([message]);
    expect(feed.cursor).toBe('170-0');
    // The reconnect replays from after the last message.
    clock.advance(2000);
    clock.advance(10_000);
    sockets[1]?.open();
    expect(sockets[1]?.sent[0]).toMatchObject({ type: 'subscribe', since: '170-0' });
    feed.stop();
  });
});
