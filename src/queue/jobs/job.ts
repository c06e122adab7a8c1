/**
 * What every job type provides: a name, a versioned payload schema and a handler. Payloads come out of Redis
 * as `unknown`; `defineJob` parses them before the handler sees them, and an invalid payload fails the job
 * permanently with NABOOM_JOB_INVALID in the reason (retrying cannot make it valid).
 */
import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import type { Config } from '../../config/load.js';
import type { Logger } from '../../log/logger.js';

export const JOB_TYPES = ['webhook', 'log', 'dispatch', 'push-fanout', 'push'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export interface JobContext {
  readonly config: Config;
  /** Logger bound to this job (id, type, attempt). */
  readonly logger: Logger;
  /** Fires at the soft time limit, when the job's lock is lost, or when a shutdown hands the job back. */
  readonly signal: AbortSignal;
  readonly jobId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Job counts per state of the queue (waiting, active, delayed, completed, failed). */
  counts(): Promise<Record<string, number>>;
}

/** A job type as the worker runs it: the payload arrives unparsed. */
export interface JobDefinition {
  readonly name: string;
  handle(data: unknown, ctx: JobContext): Promise<unknown>;
}

/** Prefix of every invalid-payload failure reason. */
export const JOB_INVALID = 'NABOOM_JOB_INVALID';

/** The permanent failure for a payload that does not match its schema. */
export function invalidPayload(name: string, detail: string): UnrecoverableError {
  return new UnrecoverableError(`${JOB_INVALID}: ${name} payload: ${detail}`);
}

/** Binds a schema to a handler: the handler only ever sees a parsed payload. */
export function defineJob<P>(name: string, schema: z.ZodType<P>, run: (payload: P, ctx: JobContext) => Promise<unknown>): JobDefinition {
  return {
    name,
    async handle(data, ctx) {
      const parsed = schema.safeParse(data);
      if (!parsed.success) {
        const detail = parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw invalidPayload(name, detail);
      }
      return await run(parsed.data, ctx);
    },
  };
}
