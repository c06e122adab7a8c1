/**
 * Queue-wide settings derived from the configuration: the queue name, the job options every producer uses
 * (attempts, backoff, retention) and the worker's lock and time limits. One place, so the producer, the worker
 * and the documentation agree.
 */
import type { DefaultJobOptions } from 'bullmq';
import type { Config } from '../config/load.js';

/** The one queue (the original's Celery default queue on DB 2). */
export const QUEUE_NAME = 'notifications';

/** Completed jobs: kept a day (capped), long enough for dedupe ids and a look at what ran. */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 } as const;
/** Failed jobs: kept a week for inspection (capped so a flood of failures cannot fill Redis). */
export const KEEP_FAILED = { age: 7 * 24 * 3600, count: 50_000 } as const;

/** First retry delay; exponential: 2 s, 4 s, 8 s, 16 s … */
export const DEFAULT_BACKOFF_MS = 2000;

/**
 * Job locks. BullMQ renews a running job's lock every quarter to half of this, so jobs of any length (up to
 * the hard limit) keep it; the duration only decides how long a crashed worker's job waits before the stalled
 * check hands it to another worker (lock expiry plus one or two stalled intervals). 60 s tolerates a Redis
 * hiccup or a long GC pause without a second worker picking up a live job.
 */
export const LOCK_DURATION_MS = 60_000;
export const STALLED_INTERVAL_MS = 30_000;
/** A job whose worker died twice in a row is failed rather than retried forever. */
export const MAX_STALLED_COUNT = 1;

export interface TimeLimits {
  readonly softMs: number;
  readonly hardMs: number;
}

/** JOB_SOFT_LIMIT_S / JOB_HARD_LIMIT_S in milliseconds. */
export function timeLimits(config: Config): TimeLimits {
  return { softMs: config.settings.JOB_SOFT_LIMIT_S * 1000, hardMs: config.settings.JOB_HARD_LIMIT_S * 1000 };
}

/** Options every notification job is added with. */
export function defaultJobOptions(config: Config, backoffMs = DEFAULT_BACKOFF_MS): DefaultJobOptions {
  return {
    attempts: config.settings.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: backoffMs, jitter: 0.2 },
    removeOnComplete: { ...KEEP_COMPLETED },
    removeOnFail: { ...KEEP_FAILED },
  };
}
