import { describe, expect, it } from 'vitest';
import { untilAborted } from './feed.js';

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
