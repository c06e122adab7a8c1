import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { HardTimeLimitError, runWithTimeLimits, SoftTimeLimitError } from './limits.js';

const limits = { softMs: 50, hardMs: 150 };
const untilAborted = (signal: AbortSignal): Promise<unknown> => new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('runWithTimeLimits', () => {
  it('returns the result of a job that finishes in time', async () => {
    expect(await runWithTimeLimits(async () => 42, limits)).toBe(42);
  });

  it('fires the signal at the soft limit; a job that then returns completes', async () => {
    const started = Date.now();
    const reason = await runWithTimeLimits(untilAborted, limits);
    expect(reason).toBeInstanceOf(SoftTimeLimitError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(Date.now() - started).toBeLessThan(150);
  });

  it('a job that throws after the soft limit fails permanently, naming the limit', async () => {
    const err = await runWithTimeLimits(async (s) => {
      await untilAborted(s);
      throw new Error('stopped early');
    }, limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toMatch(/soft time limit of 0.05 s reached .*stopped early/);
  });

  it('fails a job that ignores the signal at the hard limit', async () => {
    const started = Date.now();
    const err = await runWithTimeLimits(() => new Promise((r) => setTimeout(r, 1000)), limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HardTimeLimitError);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toMatch(/hard time limit of 0.15 s exceeded/);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('passes ordinary errors through (they are retried) and follows an outer abort', async () => {
    await expect(runWithTimeLimits(async () => Promise.reject(new Error('boom')), limits)).rejects.toThrow(/^boom$/);
    const outer = new AbortController();
    const p = runWithTimeLimits(untilAborted, { softMs: 10_000, hardMs: 20_000 }, outer.signal);
    outer.abort(new Error('lock lost'));
    expect(((await p) as Error).message).toBe('lock lost');
  });
});
