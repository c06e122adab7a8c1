/**
 * The alert store on the realtime role, one façade over its parts: raising (`ingest.ts`), lifecycle and
 * escalation (`lifecycle.ts`), reads and the feed (`query.ts`), and the replication check both writers run
 * (`replication.ts`). No HTTP, no authorisation: `service.ts` decides who may do what; these files decide
 * what is stored and how.
 */
import type { Config } from '../config/load.js';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { AlertIngest, type RaiseResult } from './ingest.js';
import { AlertLifecycle, type ClaimOutcome, type EscalationSweep, type TransitionOutcome } from './lifecycle.js';
import type { Actor, AlertDoc, AlertStatus, FeedEvent, HistoryEvent, Location, RaiseInput, ThreadMessage, TransitionName } from './model.js';
import { AlertThreads, type PostOutcome } from './thread.js';
import { AlertQuery, type ListPage, type ListQuery } from './query.js';
import { Replication } from './replication.js';

export { ALERT_CACHE_TTL_S, decodeFeedEntry, type ListPage, type ListQuery } from './query.js';
export { IDEMPOTENCY_TTL_S, idempotencyHash, raiseFingerprint, type RaiseResult } from './ingest.js';
export type { PostOutcome } from './thread.js';
export type { ClaimOutcome, EscalationSweep, TransitionOutcome } from './lifecycle.js';

export class AlertStore {
  readonly #feedKey: string;
  readonly #query: AlertQuery;
  readonly #ingest: AlertIngest;
  readonly #lifecycle: AlertLifecycle;
  readonly #threads: AlertThreads;

  constructor(redis: RedisClient, config: Config, keys: KeySpace) {
    const replication = new Replication(redis, config, keys.alerts.feed);
    this.#feedKey = keys.alerts.feed;
    this.#query = new AlertQuery(redis, keys.alerts);
    this.#ingest = new AlertIngest(redis, config, keys, this.#query, replication);
    this.#lifecycle = new AlertLifecycle(redis, config, keys, replication);
    this.#threads = new AlertThreads(redis, config, keys.alerts, replication);
  }

  /** The feed stream key (the live tail reads it). */
  get feedKey(): string {
    return this.#feedKey;
  }

  /** Stores a new alert, batched per event-loop turn (see ingest.ts). */
  raise(input: RaiseInput, reporter: Actor, idempotencyKey?: string): Promise<RaiseResult> {
    return this.#ingest.raise(input, reporter, idempotencyKey);
  }

  /** One alert: the cached document, else the state hash. */
  get(id: string): Promise<AlertDoc | undefined> {
    return this.#query.get(id);
  }

  /** Applies a lifecycle transition atomically and records it in the history and the feed. */
  transition(id: string, name: TransitionName, by: Actor, opts?: { reporterOnly?: string; note?: string; from?: readonly AlertStatus[] }): Promise<TransitionOutcome> {
    return this.#lifecycle.transition(id, name, by, opts);
  }

  /** Claims the alert (or gives the claim up) atomically; see lifecycle.ts. */
  claim(id: string, by: Actor, opts?: { unclaim?: boolean; distanceM?: number | null; override?: boolean }): Promise<ClaimOutcome> {
    return this.#lifecycle.claim(id, by, opts);
  }

  /** Appends a message to the alert's thread and the feed (atomic, bounded); see thread.ts. */
  postMessage(alert: AlertDoc, by: Actor, text: string): Promise<PostOutcome> {
    return this.#threads.post(alert, by, text);
  }

  /** The alert's thread, oldest first; `after`: only messages after that id. */
  messages(alertId: string, after?: string, client?: RedisClient): Promise<ThreadMessage[]> {
    return this.#threads.list(alertId, after, client);
  }

  /** Adds a history event right after `raised`, with no feed entry (the dispatch step; see lifecycle.ts). */
  note(id: string, event: HistoryEvent): Promise<AlertDoc | undefined> {
    return this.#lifecycle.note(id, event);
  }

  /** Moves the reporter's alert to a newer location while it is in one of `from` (atomic; see lifecycle.ts). */
  locate(id: string, location: Location, by: Actor, from: readonly AlertStatus[]): Promise<TransitionOutcome> {
    return this.#lifecycle.locate(id, location, by, from);
  }

  /** Lists alerts from the severity streams or the reporter's index. */
  list(q: ListQuery): Promise<ListPage> {
    return this.#query.list(q);
  }

  /** The id of the newest feed entry ('0-0' when empty): where a live tail starts. */
  feedHead(): Promise<string> {
    return this.#query.feedHead();
  }

  /** Oldest retained feed id, to tell a client its replay was truncated by retention. */
  feedTail(): Promise<string | undefined> {
    return this.#query.feedTail();
  }

  /** Feed events after `since` (exclusive), up to `count`, oldest first. */
  feedAfter(since: string, count: number, client?: RedisClient): Promise<FeedEvent[]> {
    return this.#query.feedAfter(since, count, client);
  }

  /** Claims due escalations (atomic across processes); one undecodable alert never stops the sweep. */
  escalateDue(nowMs: number, batch?: number): Promise<EscalationSweep> {
    return this.#lifecycle.escalateDue(nowMs, batch);
  }
}
