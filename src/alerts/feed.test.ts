import { describe, expect, it } from 'vitest';
import { Metrics } from '../metrics/registry.js';
import { inSlices, LatencySampler, untilAborted } from './feed.js';

describe('LatencySampler', () => {
  const countOf = async (m: Metrics, transport: string): Promise<number> => {
    const values = (await m.deliveryLatency.get()).values;
    return values.find((v) => v.metricName === 'naboom_live_delivery_seconds_count' && v.labels['transport'] === transport)?.value ?? 0;
  };

  it('observes one delivery per transport per feed read, however many sockets and alerts it had', async () => {
    const m = new Metrics();
    const sampler = new LatencySampler(m, () => 5_000);
    sampler.begin();
    for (let socket = 0; socket < 1000; socket++) for (const id of ['4000-0', '4500-0']) sampler.note('ws', id);
    sampler.note('sse', '4900-0');
    expect(await countOf(m, 'ws')).toBe(0);
    sampler.end();
    expect(await countOf(m, 'ws')).toBe(1);
    expect(await countOf(m, 'sse')).toBe(1);
    // The read's first alert, measured when the read's writes are out: 1 s here.
    expect((await m.deliveryLatency.get()).values.find((v) => v.metricName === 'naboom_live_delivery_seconds_sum' && v.labels['transport'] === 'ws')?.value).toBe(1);
    sampler.end();
    expect(await countOf(m, 'ws')).toBe(1);
  });

  it('outside a read (a backed-up socket sending its queue), observes each alert once per transport', async () => {
    const m = new Metrics();
    const sampler = new LatencySampler(m, () => 5_000);
    for (const id of ['1-0', '1-0', '1-0', '2-0', '2-0']) sampler.note('ws', id);
    expect(await countOf(m, 'ws')).toBe(2);
  });
});

describe('untilAborted', () => {
  it('leaves no unhandled rejection when the subscriber is already gone', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const gone = new AbortController();
      gone.abort();
      // A write to a socket that closed mid-replay rejects; the replay already stopped waiting for it.
      await untilAborted(Promise.reject(new Error('client gone')), gone.signal);
      // Unhandled rejections are reported after the microtask queue drains: give it a macrotask.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('passes a write failure on while the subscriber is still there, and returns at abort', async () => {
    const live = new AbortController();
    await expect(untilAborted(Promise.reject(new Error('client gone')), live.signal)).rejects.toThrow('client gone');
    let resolveWrite: () => void = () => undefined;
    const pending = untilAborted(new Promise<void>((r) => (resolveWrite = r)), live.signal);
    live.abort();
    await pending;
    resolveWrite();
  });
});

describe('inSlices (heartbeats to every live connection)', () => {
  it('writes one slice per turn of the event loop, so I/O waiting meanwhile is served between slices', async () => {
    const seen: string[] = [];
    const items = Array.from({ length: 300 }, (_, i) => i);
    // Stands for a feed read that arrived while the beat was going out.
    setImmediate(() => seen.push('io'));
    await inSlices(items, 128, new AbortController().signal, (slice) => seen.push(`${slice[0]}..${slice.at(-1)}`));
    expect(seen).toEqual(['0..127', 'io', '128..255', '256..299']);
  });

  it('stops at the next slice once aborted (shutdown)', async () => {
    const stop = new AbortController();
    const slices: number[] = [];
    await inSlices([1, 2, 3, 4, 5], 2, stop.signal, (slice) => {
      slices.push(slice.length);
      stop.abort();
    });
    expect(slices).toEqual([2]);
  });
});
