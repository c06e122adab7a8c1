import { describe, expect, it } from 'vitest';
import { NaboomError } from '../errors/catalogue.js';
import { WorkGate } from './gate.js';

/** A task that finishes when told to. */
function controllable(): { task: () => Promise<string>; finish: (v: string) => void; started: () => boolean } {
  let resolve: (v: string) => void = () => undefined;
  let started = false;
  const p = new Promise<string>((r) => (resolve = r));
  return {
    task: () => {
      started = true;
      return p;
    },
    finish: (v) => resolve(v),
    started: () => started,
  };
}

describe('WorkGate', () => {
  it('runs at most `concurrency` tasks, queues up to `queue`, refuses the rest at once with NABOOM_UNAVAILABLE', async () => {
    const gate = new WorkGate(2, 1);
    const t = [controllable(), controllable(), controllable()];
    const runs = t.map((c) => gate.run(c.task));
    expect([gate.running, gate.waiting]).toEqual([2, 1]);
    expect(t.map((c) => c.started())).toEqual([true, true, false]);
    const refused = await gate.run(async () => 'never').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NaboomError);
    expect((refused as NaboomError).code).toBe('NABOOM_UNAVAILABLE');
    t[0]?.finish('a');
    await runs[0];
    await Promise.resolve();
    expect(t[2]?.started()).toBe(true);
    expect([gate.running, gate.waiting]).toEqual([2, 0]);
    t[1]?.finish('b');
    t[2]?.finish('c');
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('frees the slot when a task fails', async () => {
    const gate = new WorkGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
  });
});
