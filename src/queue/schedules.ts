/**
 * Repeatable jobs (Celery beat's counterpart): BullMQ job schedulers, stored in Redis and evaluated in the
 * configured time zone (TZ, default Africa/Johannesburg), so "07:00" means 07:00 there whatever the host's
 * clock says. The worker upserts them at start; several workers upserting the same id is harmless.
 */
import type { Queue } from 'bullmq';
import { NaboomError } from '../errors/catalogue.js';
import type { LogPayload } from './jobs/log.js';

export const SUMMARY_SCHEDULER_ID = 'daily-summary';
/** Every day at 07:00 in TZ. */
export const DEFAULT_SUMMARY_PATTERN = '0 7 * * *';

/** Five or six cron fields; BullMQ's parser gives the final word. */
const CRON = /^\s*\S+(\s+\S+){4,5}\s*$/;

export interface ScheduleOptions {
  /** Cron pattern of the daily summary, or false to remove it. */
  readonly summaryPattern: string | false;
  readonly tz: string;
}

export interface RegisteredSchedule {
  readonly id: string;
  readonly pattern: string;
  readonly tz: string;
  /** Next run (ms since the epoch). */
  readonly next: number | undefined;
}

/** Creates, updates or removes the schedules; returns what is now registered. */
export async function registerSchedules(queue: Queue<unknown, unknown, string>, opts: ScheduleOptions): Promise<RegisteredSchedule[]> {
  if (opts.summaryPattern === false) {
    await queue.removeJobScheduler(SUMMARY_SCHEDULER_ID);
    return [];
  }
  if (!CRON.test(opts.summaryPattern)) {
    throw new NaboomError('NABOOM_USAGE', `"${opts.summaryPattern}" is not a cron pattern (5 or 6 fields, e.g. "${DEFAULT_SUMMARY_PATTERN}")`);
  }
  const data: LogPayload = { v: 1, kind: 'summary' };
  try {
    await queue.upsertJobScheduler(SUMMARY_SCHEDULER_ID, { pattern: opts.summaryPattern, tz: opts.tz }, { name: 'log', data, opts: { attempts: 1 } });
  } catch (cause) {
    if (cause instanceof Error && !/NOPERM|connection|ECONN/i.test(cause.message)) {
      throw new NaboomError('NABOOM_USAGE', `Invalid schedule "${opts.summaryPattern}": ${cause.message}`, { cause });
    }
    throw cause;
  }
  const stored = await queue.getJobScheduler(SUMMARY_SCHEDULER_ID);
  return [{ id: SUMMARY_SCHEDULER_ID, pattern: stored?.pattern ?? opts.summaryPattern, tz: stored?.tz ?? opts.tz, next: stored?.next }];
}
