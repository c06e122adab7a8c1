import { describe, expect, it } from 'vitest';
import { LocalChannels, LocalQueue } from './local.js';
import { Deque } from './waiters.js';

const m = (i: number) => ({ type: 't', i });

describe('local channels in memory', () => {
  it('Deque keeps order across compaction', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 5000; i++) d.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(d.shift()!);
    for (let i = 5000; i < 6000; i++) d.push(i);
    expect(d.length).toBe(3000);
    expect(out.concat(d.drain())).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(d.shift()).toBeUndefined();
  });

  it('a queue is bounded, hands messages to waiting receives first, and drops expired ones', async () => {
    const q = new LocalQueue(2);
    const waiting = q.take({}, 0);
    expect(q.offer(m(0), 100, 0)).toBe(true);
    expect(await waiting).toEqual(m(0));
    expect(q.offer(m(1), 100, 0)).toBe(true);
    expect(q.offer(m(2), 200, 0)).toBe(true);
    expect(q.offer(m(3), 200, 0)).toBe(false);
    // Once the head has expired it makes room instead of blocking the channel.
    expect(q.offer(m(4), 300, 150)).toBe(true);
    expect(await q.take({}, 150)).toEqual(m(2));
    expect(await q.take({}, 250)).toEqual(m(4));
    await expect(q.take({ timeoutMs: 10 }, 250)).rejects.toThrow(/No message within 10 ms/);
    const ac = new AbortController();
    const pending = q.take({ signal: ac.signal }, 0);
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // A cancelled receive does not swallow the next message.
    expect(q.offer(m(5), 1000, 0)).toBe(true);
    expect(await q.take({}, 0)).toEqual(m(5));
  });

  it('group delivery skips expired memberships and closed channels, and reports full ones', () => {
    const local = new LocalChannels({ capacity: 1, groupExpiryMs: 1000 });
    for (const c of ['a', 'b', 'c']) local.open(c);
    expect(local.join('g', 'a', 0)).toBe(true);
    expect(local.join('g', 'b', 500)).toBe(true);
    expect(local.join('g', 'c', 500)).toBe(true);
    expect(local.join('g', 'nope', 500)).toBe(false);
    local.discard('c', new Error('closed'));
    expect(local.deliverGroup('g', m(1), 9999, 1200)).toEqual({ delivered: 1, skipped: [] });
    expect(local.deliverGroup('g', m(2), 9999, 1200)).toEqual({ delivered: 0, skipped: ['b'] });
    expect(local.leave('g', 'b')).toBe(true);
    expect(local.hasMembers('g')).toBe(false);
  });
});
