/**
 * Fixed-window rate-limit counters in Redis (app role), shared by every serve process. The counters of every
 * request handled in one turn of the event loop (a request has one per limit) are incremented by one script
 * call — one per hash slot on Cluster — instead of one script call each.
 */
import { TurnBatcher } from '../redis/batch.js';
import type { RedisClient } from '../redis/connections.js';
import { defineScript } from '../redis/script.js';
import { isCluster, keySlot } from '../redis/slot.js';

export const COUNT = defineScript(new URL('./lua/rate-limit-count-N.lua', import.meta.url), {
  keys: [],
  args: [],
  each: { keys: ['counter'], args: ['window'] },
});

export interface Count {
  readonly key: string;
  readonly windowMs: number;
}

export interface Counted {
  /** Hits in the current window, this one included. */
  readonly current: number;
  /** Milliseconds until the window ends. */
  readonly ttl: number;
}

/** Counts a batch of counters; on Cluster one script call per hash slot (a script's keys share one). */
export function batchCounter(redis: RedisClient): (items: readonly Count[]) => Promise<Counted[]> {
  const runGroup = async (items: readonly Count[]): Promise<Counted[]> => {
    const call = { keys: {}, args: {}, items: items.map((i) => ({ keys: { counter: i.key }, args: { window: i.windowMs } })) };
    const flat = (await COUNT.run(redis, call)) as number[];
    return items.map((_, i) => ({ current: Number(flat[2 * i]), ttl: Number(flat[2 * i + 1]) }));
  };
  if (!isCluster(redis)) return runGroup;
  return async (items) => {
    const bySlot = new Map<number, number[]>();
    items.forEach((item, i) => {
      const slot = keySlot(item.key);
      const group = bySlot.get(slot);
      if (group) group.push(i);
      else bySlot.set(slot, [i]);
    });
    const out = new Array<Counted>(items.length);
    await Promise.all(
      [...bySlot.values()].map(async (indexes) => {
        const counted = await runGroup(indexes.map((i) => items[i] as Count));
        indexes.forEach((itemIndex, j) => (out[itemIndex] = counted[j] as Counted));
      }),
    );
    return out;
  };
}

/** Counters under one key prefix, batched per event-loop turn. */
export class RateLimitCounter {
  readonly #batcher: TurnBatcher<Count, Counted>;
  readonly #prefix: string;

  constructor(redis: RedisClient, prefix: string) {
    this.#batcher = new TurnBatcher<Count, Counted>(batchCounter(redis), 256);
    this.#prefix = prefix;
  }

  /** Counts one hit on `key` (under the prefix) in a window of `windowMs`. */
  count(key: string, windowMs: number): Promise<Counted> {
    return this.#batcher.submit({ key: this.#prefix + key, windowMs });
  }
}
