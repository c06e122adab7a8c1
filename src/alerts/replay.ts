/**
 * Replay: what a reconnecting subscriber missed, up to the position the live feed has fanned out. A principal
 * that sees every alert replays the feed in pages, each only once the socket took the last; a member replays
 * only their own alerts, from their reporter index. At most REPLAY_CONCURRENCY replays run at once per process
 * (`ReplaySlots`), and a stalled reader cannot hold a slot after it unsubscribed (`untilAborted`).
 */
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import type { Frame, LiveSubscription } from './feed-types.js';
import { compareIds, idMillis, MESSAGE_EVENT, type AlertDoc, type FeedEvent } from './model.js';
import type { AlertStore } from './store.js';

/** Feed entries per replay page: what a stalled reader can pin at most. */
const REPLAY_PAGE = 100;
/** Replays running at once in one process; more wait their turn (their live frames queue meanwhile). */
export const REPLAY_CONCURRENCY = 8;
/** Redis' clock (feed ids) and this process's clock (`updated_at`) may differ: a member replay looks back this much further. */
const CLOCK_SKEW_MS = 60_000;
/** Documents read at once in a member replay. */
const DOC_BATCH = 100;

/** What a replay reads from and how it frames what it sends. */
export interface ReplayDeps<P> {
  readonly store: AlertStore;
  /** The command realtime-role client. */
  readonly readClient: RedisClient;
  readonly keys: KeySpace;
  /** The event's frame, encoded as the live feed encodes it. */
  frame(e: FeedEvent): Frame<P>;
}

/** A counting semaphore whose waiters give up their turn when their subscriber goes away. */
export class ReplaySlots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', abandon);
        resolve();
      };
      const abandon = (): void => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new Error('unsubscribed'));
      };
      signal.addEventListener('abort', abandon, { once: true });
      this.#waiting.push(grant);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}

/** The feed after `since` up to `position`, a page at a time, each page only once the socket took the last. */
export async function replayFeed<P>(deps: ReplayDeps<P>, l: LiveSubscription<P>, since: string, position: string): Promise<string | null> {
  const tail = await deps.store.feedTail();
  if (tail && compareIds(since, tail) < 0 && since !== '0-0') {
    await l.sink.notice('replay.truncated', { requested: since, oldest: tail });
  }
  await l.sink.notice('replay.start', { since });
  let cursor = since;
  let sent = 0;
  // Nothing after the position is replayed; the largest id is never before it (and feedAfter never sends `(max`).
  let more = compareIds(since, position) < 0;
  while (more && !l.abort.signal.aborted) {
    const page = await deps.store.feedAfter(cursor, REPLAY_PAGE, deps.readClient);
    more = page.length === REPLAY_PAGE;
    for (const e of page) {
      if (compareIds(e.id, position) > 0) {
        more = false;
        break;
      }
      cursor = e.id;
      const frame = deps.frame(e);
      if (!l.sub.wants(frame)) continue;
      await untilAborted(l.sink.write(frame), l.abort.signal);
      l.sub.lastSent = e.id;
      sent += 1;
    }
  }
  const lastId = compareIds(position, since) > 0 ? position : null;
  await l.sink.notice('replay.end', { replayed: sent, last_id: lastId });
  return lastId;
}

/**
 * A member's replay: the current state of each of their alerts (their reporter index, newest 1,000) raised
 * after `since` — as an `alert` frame with its own id, in id order — or changed since then — as an
 * `alert.updated` frame whose id is `since` itself, sent first, so the client's cursor never moves past an
 * event it has not seen — and the messages posted in their threads after `since` (`alert.message`, own ids,
 * in id order with the raised ones, up to the position). The replay ends at the position, which is the cursor to resume from.
 */
export async function replayOwn<P>(deps: ReplayDeps<P>, l: LiveSubscription<P>, since: string, position: string): Promise<string | null> {
  await l.sink.notice('replay.start', { since });
  const ids = await deps.readClient.zrange(deps.keys.alerts.byReporter(l.principal.id), '0', '-1');
  const changedAfter = idMillis(since) - CLOCK_SKEW_MS;
  const updated: FeedEvent[] = [];
  const later: FeedEvent[] = [];
  for (let i = 0; i < ids.length && !l.abort.signal.aborted; i += DOC_BATCH) {
    const docs = (await Promise.all(ids.slice(i, i + DOC_BATCH).map((id) => deps.store.get(id)))).filter((d): d is AlertDoc => d !== undefined && l.sub.severities.has(d.severity));
    for (const d of docs) {
      if (compareIds(d.id, since) > 0) later.push({ id: d.id, type: 'alert', alert: d });
      else if (Date.parse(d.updated_at) >= changedAfter) updated.push({ id: since, type: 'alert.updated', alert: d });
    }
    // Thread messages posted after `since` up to the position (later ones arrive live), with their own ids.
    const threads = await Promise.all(docs.map((d) => deps.store.messages(d.id, since, deps.readClient)));
    for (const [j, messages] of threads.entries()) {
      const d = docs[j];
      if (!d) continue;
      for (const m of messages) {
        if (compareIds(m.id, position) > 0) break;
        later.push({ id: m.id, type: MESSAGE_EVENT, alertId: d.id, severity: d.severity, reporterId: d.reporter.id, message: m });
      }
    }
  }
  later.sort((a, b) => compareIds(a.id, b.id));
  let sent = 0;
  for (const e of [...updated, ...later]) {
    if (l.abort.signal.aborted) return null;
    await untilAborted(l.sink.write(deps.frame(e)), l.abort.signal);
    sent += 1;
  }
  const lastId = compareIds(position, since) > 0 ? position : null;
  await l.sink.notice('replay.end', { replayed: sent, last_id: lastId });
  return lastId;
}

/** Waits for `p`, or only until the signal aborts: a stalled reader cannot hold a replay slot after unsubscribing. */
export function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    // The client is gone already: its write may still fail ("client gone"), and nobody awaits it any more.
    p.catch(() => undefined);
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
