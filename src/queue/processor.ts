/**
 * The one BullMQ processor: picks the job type by name, runs it under the time limits, counts the outcome
 * and logs failures. Outcomes: `completed`; `retried` when BullMQ will try again (or a shutdown handed the job
 * back); `failed` when it will not.
 */
import { UnrecoverableError, WaitingError, type Job, type Processor } from 'bullmq';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { invalidPayload, type JobDefinition } from './jobs/job.js';
import { runWithTimeLimits } from './limits.js';
import { timeLimits } from './settings.js';

/** What the worker tracks per running job, so a forced shutdown can hand it back to the queue. */
export interface TrackedJob {
  /** Fires when the worker hands the job back. */
  readonly signal: AbortSignal;
  /** Rejects with a WaitingError once the job was handed back; the processor then stops waiting for it. */
  readonly handedBack: Promise<never>;
  done(): void;
}

export interface ProcessorDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly jobs: ReadonlyMap<string, JobDefinition>;
  counts(): Promise<Record<string, number>>;
  track(job: Job, token: string): TrackedJob;
}

const isUnrecoverable = (err: unknown): boolean => err instanceof UnrecoverableError || (err instanceof Error && err.name === 'UnrecoverableError');

/** Builds the processor. It declares BullMQ's third parameter, so BullMQ passes its cancellation signal. */
export function createProcessor(d: ProcessorDeps): Processor<unknown, unknown, string> {
  const limits = timeLimits(d.config);
  return async (job: Job<unknown, unknown, string>, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const def = d.jobs.get(job.name);
    // Unknown names are labelled as such: a job name is data from Redis and must not create new series.
    const type = def ? job.name : 'unknown';
    const maxAttempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    const log = d.logger.child({ job: { id: job.id, type, attempt, of: maxAttempts } });
    const tracked = d.track(job, token ?? '');
    const outer = signal ? AbortSignal.any([signal, tracked.signal]) : tracked.signal;
    const started = performance.now();
    try {
      if (!def) throw invalidPayload(job.name, 'unknown job type');
      const result = await Promise.race([
        runWithTimeLimits(
          (s) => def.handle(job.data, { config: d.config, logger: log, signal: s, jobId: job.id ?? '', attempt, maxAttempts, counts: () => d.counts() }),
          limits,
          outer,
        ),
        tracked.handedBack,
      ]);
      d.metrics.jobs.inc({ type, outcome: 'completed' });
      return result;
    } catch (err) {
      if (err instanceof WaitingError) {
        d.metrics.jobs.inc({ type, outcome: 'retried' });
        log.warn('shutdown: job handed back to the queue for another worker');
        throw err;
      }
      const final = isUnrecoverable(err) || attempt >= maxAttempts;
      d.metrics.jobs.inc({ type, outcome: final ? 'failed' : 'retried' });
      if (final) log.error({ err }, 'job failed');
      else log.warn({ err }, 'job failed; it will be retried');
      throw err;
    } finally {
      d.metrics.jobDuration.observe({ type }, (performance.now() - started) / 1000);
      tracked.done();
    }
  };
}
