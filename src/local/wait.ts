/**
 * The one poll-until helper: asks `probe` again every `intervalMs` until it gives an answer or `timeoutMs`
 * passes, then fails naming what was awaited. For state another process changes (a server starting, a
 * replica syncing, a gauge settling) where there is no event to wait on.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/** A probe's "not yet": anything else is the answer. */
export type NotYet = undefined | null | false;

export interface WaitOptions {
  /** Give up after this many ms (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between probes; 0 asks again on the next turn of the event loop (default 25 ms). */
  readonly intervalMs?: number;
  /** Treat a probe that throws as "not yet" (a server still starting refuses connections); default false. */
  readonly ignoreErrors?: boolean;
}

/** Thrown when the awaited condition did not come true in time; `cause` is the probe's last error, if any. */
export class WaitTimeoutError extends Error {
  readonly what: string;
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, lastError?: unknown) {
    const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
    super(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, lastError === undefined ? undefined : { cause: lastError });
    this.name = 'WaitTimeoutError';
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Polls `probe` until it returns something other than undefined, null or false, and returns that. `what`
 * may be a function, asked only on timeout (to describe the state the wait ended in).
 */
export async function waitFor<T>(what: string | (() => string), probe: () => T | NotYet | Promise<T | NotYet>, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      if (!opts.ignoreErrors) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(typeof what === 'string' ? what : what(), timeoutMs, lastError);
    if (intervalMs > 0) await sleep(intervalMs);
    else await nextTurn();
  }
}
