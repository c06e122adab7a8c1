/**
 * A client that keeps raising alerts and retries each one with its Idempotency-Key until it is answered
 * 201/200 — what a panic-button app does during a failover. Records what it saw for the fault tests.
 */
import { post, sampleAlert } from './stack.js';

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
}

export function startRetryingLoad(url: string, token: string, prefix: string): RetryingLoad {
  const acked = new Set<string>();
  const refusals = new Map<string, number>();
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
        const r = await post(`${url}/api/emergency/alerts`, sampleAlert({ description: key }), { authorization: `Bearer ${token}`, 'idempotency-key': key }).catch(() => ({ status: 0, body: null }));
        if (r.status === 201 || r.status === 200) {
          acked.add((r.body as { alert_id: string }).alert_id);
          lastSuccess = Date.now();
          if (firstFailure && !recovered) recovered = lastSuccess;
          break;
        }
        if (faultAt && !firstFailure) firstFailure = Date.now();
        const code = /"code":"(\w+)"/.exec(JSON.stringify(r.body))?.[1] ?? String(r.status);
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
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
      const deadline = since + timeoutMs;
      while (lastSuccess <= since && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (lastSuccess <= since) return false;
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
      };
    },
  };
}

export const describeRefusals = (r: ReadonlyMap<string, number>): string => [...r].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none';
