import { describe, expect, it } from 'vitest';
import { TurnBatcher } from './batch.js';

describe('TurnBatcher', () => {
  it('runs the calls of one turn as one batch and answers each caller with its own result', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number, string>(async (items) => {
      batches.push([...items]);
      return items.map((i) => `r${i}`);
    });
    const first = await Promise.all([b.submit(1), b.submit(2), b.submit(3)]);
    const second = await b.submit(4);
    expect(first).toEqual(['r1', 'r2', 'r3']);
    expect(second).toBe('r4');
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('splits at maxBatch', async () => {
    const sizes: number[] = [];
    const b = new TurnBatcher<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((i) => b.submit(i)))).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('rejects every caller of a failed batch, and the next batch still runs', async () => {
    let fail = true;
    const b = new TurnBatcher<number, number>(async (items) => {
      if (fail) throw new Error('redis down');
      return items;
    });
    const results = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : ''))).toEqual(['redis down', 'redis down']);
    fail = false;
    expect(await b.submit(3)).toBe(3);
  });

  it('rejects a runner that throws synchronously or answers the wrong number of results', async () => {
    const sync = new TurnBatcher<number, number>(() => {
      throw new Error('bad arguments');
    });
    await expect(sync.submit(1)).rejects.toThrow('bad arguments');
    const short = new TurnBatcher<number, number>(async () => [1]);
    await expect(Promise.all([short.submit(1), short.submit(2)])).rejects.toThrow('1 results for 2 items');
  });

  it('refuses a nonsensical batch size', () => {
    expect(() => new TurnBatcher(async (i: readonly number[]) => i, 0)).toThrow(RangeError);
  });
});
