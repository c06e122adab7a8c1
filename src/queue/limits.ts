/**
 * Per-job time limits, as Celery's soft and hard limits: at the soft limit the job's AbortSignal fires so
 * cooperative code can stop cleanly; at the hard limit the job is failed whether or not it stopped. JavaScript
 * cannot pre-empt a promise, so code that ignores the signal keeps running in the background after the hard
 * limit, but its slot is freed, its result is discarded and the job is recorded as failed.
 */
import { UnrecoverableError } from 'bullmq';
import type { TimeLimits } from './settings.js';

/** Abort reason at the soft limit. */
export class SoftTimeLimitError extends Error {
  constructor(readonly limitMs: number) {
    super(`soft time limit of ${limitMs / 1000} s reached (JOB_SOFT_LIMIT_S)`);
    this.name = 'SoftTimeLimitError';
  }
}

/** Failure at the hard limit. Permanent, as in Celery: a job that ran out of time is not tried again. */
export class HardTimeLimitError extends UnrecoverableError {
  constructor(readonly limitMs: number) {
    super(`hard time limit of ${limitMs / 1000} s exceeded (JOB_HARD_LIMIT_S); the job was failed`);
  }
}

/**
 * Runs `work` under the limits. `outer` (the worker's own signal: lock lost, shutdown) aborts it too.
 * A job that throws after its soft-limit signal fired fails permanently, with the limit in the reason.
 */
export async function runWithTimeLimits<T>(work: (signal: AbortSignal) => Promise<T>, limits: TimeLimits, outer?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  const onOuter = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const soft = setTimeout(() => controller.abort(new SoftTimeLimitError(limits.softMs)), limits.softMs);
  let hardTimer: NodeJS.Timeout | undefined;
  const hard = new Promise<never>((_, reject) => {
    hardTimer = setTimeout(() => {
      const err = new HardTimeLimitError(limits.hardMs);
      if (!controller.signal.aborted) controller.abort(err);
      reject(err);
    }, limits.hardMs);
  });
  const running = work(controller.signal);
  // After the hard limit nobody awaits `running` any more; its late rejection must not crash the process.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, hard]);
  } catch (err) {
    if (err instanceof HardTimeLimitError) throw err;
    const reason: unknown = controller.signal.reason;
    if (reason instanceof SoftTimeLimitError) {
      throw new UnrecoverableError(`${reason.message}: the job stopped (${err instanceof Error ? err.message : String(err)})`);
    }
    throw err;
  } finally {
    clearTimeout(soft);
    clearTimeout(hardTimer);
    outer?.removeEventListener('abort', onOuter);
  }
}
