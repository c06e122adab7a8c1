/**
 * A client that keeps raising alerts and retries each one with its Idempotency-Key until it is answered
 * 201/200 — what a panic-button app does during a failover. Records what it saw for the fault tests: every
 * attempt's status, latency and whether a refusal carried Retry-After.
 */
import { waitFor, WaitTimeoutError } from '../../src/local/wait.js';
import { sampleAlert } from './stack.js';

/** One HTTP attempt as the client saw it. status 0: no answer (transport error, or gave up after `giveUpMs`). */
export interface Attempt {
  readonly status: number;
  readonly code: string;
  readonly ms: number;
  readonly retryAfter: boolean;
}

/** A client gives up on an answer after this long and records status 0 (far beyond any deadline under test). */
const GIVE_UP_MS = 15_000;

/** Sends one request (a JSON body for POST) and records what came back; never throws. */
export async function attemptRequest(method: 'GET' | 'POST', url: string, body: unknown, headers: Record<string, string>): Promise<Attempt & { body: unknown }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method,
      headers: method === 'POST' ? { 'content-type': 'application/json', ...headers } : headers,
      ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(GIVE_UP_MS),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: recorded by status only
    }
    const code = /"code":"(\w+)"/.exec(text)?.[1] ?? String(res.status);
    return { status: res.status, code, ms, retryAfter: res.headers.has('retry-after'), body: parsed };
  } catch (err) {
    return { status: 0, code: `no answer (${(err as Error).name})`, ms: performance.now() - t0, retryAfter: false, body: null };
  }
}

export interface RetryingLoad {
  /** Alert ids answered 201/200. */
  readonly acked: Set<string>;
  /** Marks the moment the fault was injected (refusals before it are not counted as the outage). */
  faultInjected(): void;
  /** True once a request succeeded after this call (writes work now), `afterMs` later; false on timeout. */
  recovered(timeoutMs: number, afterMs?: number): Promise<boolean>;
  stop(): Promise<LoadStats>;
}

export interface LoadStats {
  readonly sent: number;
  readonly acked: number;
  readonly retries: number;
  /** ms from the fault to the first refused request (0: none was refused), and to the first success after it. */
  readonly firstFailureMs: number;
  readonly recoveredMs: number;
  /** How long writes were refused (0 when the client never saw a refusal). */
  readonly outageMs: number;
  readonly refusals: ReadonlyMap<string, number>;
  /** Descriptions sent (the idempotency keys), to check that nothing was stored twice. */
  readonly prefix: string;
  /** Every attempt, in order. */
  readonly attempts: readonly Attempt[];
}

/** What the fault tests assert on: 5xx other than 503 (and no answers), slow answers, refusals without Retry-After. */
export interface AttemptSummary {
  readonly total: number;
  readonly byStatus: ReadonlyMap<number, number>;
  /** Attempts answered with a 5xx other than 503, or not answered at all. */
  readonly errors: readonly Attempt[];
  /** Attempts answered after `limitMs` (or not at all). */
  readonly slow: readonly Attempt[];
  /** 503/429 answers without a Retry-After header. */
  readonly refusalsWithoutRetryAfter: readonly Attempt[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

/** Summarises attempts against a latency limit (the request deadline plus a transport margin). */
export function summarizeAttempts(attempts: readonly Attempt[], limitMs: number): AttemptSummary {
  const byStatus = new Map<number, number>();
  for (const a of attempts) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  const ms = attempts.map((a) => a.ms).sort((x, y) => x - y);
  return {
    total: attempts.length,
    byStatus,
    errors: attempts.filter((a) => a.status === 0 || (a.status >= 500 && a.status !== 503)),
    slow: attempts.filter((a) => a.status === 0 || a.ms > limitMs),
    refusalsWithoutRetryAfter: attempts.filter((a) => (a.status === 503 || a.status === 429) && !a.retryAfter),
    p50Ms: Math.round(percentile(ms, 50)),
    p99Ms: Math.round(percentile(ms, 99)),
    maxMs: Math.round(ms.at(-1) ?? 0),
  };
}

/** One line for the test output: statuses, latency and the counts the fault tests assert are zero. */
export const describeAttempts = (s: AttemptSummary): string =>
  `${s.total} attempts (${[...s.byStatus].sort(([a], [b]) => a - b).map(([k, n]) => `${n}× ${k === 0 ? 'no answer' : k}`).join(', ')}), latency p50 ${s.p50Ms} ms p99 ${s.p99Ms} ms max ${s.maxMs} ms, ${s.errors.length} 5xx/unanswered, ${s.slow.length} over the limit, ${s.refusalsWithoutRetryAfter.length} refusals without Retry-After`;

export function startRetryingLoad(url: string, token: string, prefix: string): RetryingLoad {
  const acked = new Set<string>();
  const refusals = new Map<string, number>();
  const attempts: Attempt[] = [];
  let sent = 0;
  let retries = 0;
  let stop = false;
  let faultAt = 0;
  let firstFailure = 0;
  let recovered = 0;
  let lastSuccess = 0;
  const loop = (async () => {
    while (!stop) {
      const key = `${prefix}${sent++}`;
      for (;;) {
        const r = await attemptRequest('POST', `${url}/api/emergency/alerts`, sampleAlert({ description: key }), { authorization: `Bearer ${token}`, 'idempotency-key': key });
        attempts.push({ status: r.status, code: r.code, ms: r.ms, retryAfter: r.retryAfter });
        if (r.status === 201 || r.status === 200) {
          acked.add((r.body as { alert_id: string }).alert_id);
          lastSuccess = Date.now();
          if (firstFailure && !recovered) recovered = lastSuccess;
          break;
        }
        if (faultAt && !firstFailure) firstFailure = Date.now();
        refusals.set(r.code, (refusals.get(r.code) ?? 0) + 1);
        retries += 1;
        if (stop) break;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  })();
  return {
    acked,
    faultInjected: () => {
      faultAt = Date.now();
    },
    recovered: async (timeoutMs, afterMs = 0) => {
      const since = Date.now();
      const answered = await waitFor('a request answered after the fault', () => lastSuccess > since, { timeoutMs, intervalMs: 50 }).catch((err: unknown) => {
        if (err instanceof WaitTimeoutError) return false;
        throw err;
      });
      if (!answered) return false;
      await new Promise((r) => setTimeout(r, afterMs));
      return true;
    },
    stop: async () => {
      stop = true;
      await loop;
      return {
        sent,
        acked: acked.size,
        retries,
        firstFailureMs: firstFailure ? firstFailure - faultAt : 0,
        recoveredMs: recovered ? recovered - faultAt : 0,
        outageMs: firstFailure && recovered ? recovered - firstFailure : 0,
        refusals,
        prefix,
        attempts,
      };
    },
  };
}

export const describeRefusals = (r: ReadonlyMap<string, number>): string => [...r].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none';
