/**
 * Changing stored alerts: lifecycle transitions (ack, resolve, cancel) and the escalation sweep. Both are
 * scripts on the alert's state, so the check, the history event, the feed entry and the cache refresh happen
 * atomically: two responders cannot both acknowledge, and two processes cannot both escalate.
 */
import type { Config } from '../config/load.js';
import type { KeySpace } from '../redis/keys.js';
import { NaboomError } from '../errors/catalogue.js';
import type { RedisClient } from '../redis/connections.js';
import { defineScript } from '../redis/script.js';
import { ALERT_EVENTS, CLAIM_EVENTS, LOCATED_EVENT, MAX_LOCATED_EVENTS, TRANSITIONS, type Actor, type AlertDoc, type AlertStatus, type HistoryEvent, type Location, type TransitionName } from './model.js';
import { ALERT_CACHE_TTL_S, parseDoc } from './query.js';
import type { Replication } from './replication.js';

export const TRANSITION = defineScript(new URL('./lua/alert-transition-2.lua', import.meta.url), {
  keys: ['feed', 'schedule'],
  args: ['statePrefix', 'id', 'to', 'from', 'historyEvent', 'updatedAt', 'maxlen', 'cachePrefix', 'cacheTtl', 'reporterOnly', 'updatedEvent'],
});

export const LOCATE = defineScript(new URL('./lua/alert-locate-1.lua', import.meta.url), {
  keys: ['feed'],
  args: ['statePrefix', 'id', 'reporter', 'from', 'location', 'historyEvent', 'locatedEvent', 'maxLocated', 'updatedAt', 'maxlen', 'cachePrefix', 'cacheTtl', 'updatedEvent'],
});

export const NOTE = defineScript(new URL('./lua/alert-note-1.lua', import.meta.url), {
  keys: ['feed'],
  args: ['statePrefix', 'id', 'after', 'historyEvent', 'cachePrefix', 'cacheTtl'],
});

export const ESCALATE = defineScript(new URL('./lua/alert-escalate-2.lua', import.meta.url), {
  keys: ['schedule', 'feed'],
  args: ['now', 'interval', 'batch', 'statePrefix', 'cachePrefix', 'cacheTtl', 'maxlen', 'nowIso', 'updatedEvent'],
});

export const CLAIM = defineScript(new URL('./lua/alert-claim-2.lua', import.meta.url), {
  keys: ['feed', 'schedule'],
  args: ['statePrefix', 'id', 'mode', 'actorId', 'assignee', 'historyEvents', 'override', 'updatedAt', 'maxlen', 'cachePrefix', 'cacheTtl', 'updatedEvent', 'ackStatus'],
});

export type ClaimOutcome =
  | { readonly kind: 'ok'; readonly alert: AlertDoc; readonly feedId: string }
  /** Claimed again by the responder who holds it: nothing changed. */
  | { readonly kind: 'same'; readonly alert: AlertDoc }
  | { readonly kind: 'missing' }
  | { readonly kind: 'conflict'; readonly status: AlertStatus }
  /** Someone else holds it. */
  | { readonly kind: 'claimed'; readonly holder: { readonly id: string; readonly username: string; readonly at: string } }
  /** Unclaim of an alert nobody holds. */
  | { readonly kind: 'unclaimed' }
  /** Unclaim of another responder's claim without the right to override. */
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'corrupt' };

export type TransitionOutcome =
  | { readonly kind: 'ok'; readonly alert: AlertDoc; readonly feedId: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'conflict'; readonly status: AlertStatus }
  /** The stored document cannot be decoded (nothing was changed). */
  | { readonly kind: 'corrupt' };

export interface EscalationSweep {
  /** Every alert the sweep escalated (each needs its `alert.escalated` job). */
  readonly escalated: AlertDoc[];
  /** Due alerts whose stored document could not be decoded: taken out of the schedule, not escalated. */
  readonly corrupt: string[];
  /** Escalated by the script but unreadable here (reported; their live feed entry exists). */
  readonly unreadable: number;
}

export class AlertLifecycle {
  readonly #redis: RedisClient;
  readonly #config: Config;
  readonly #keys: KeySpace;
  readonly #replication: Replication;

  constructor(redis: RedisClient, config: Config, keys: KeySpace, replication: Replication) {
    this.#redis = redis;
    this.#config = config;
    this.#keys = keys;
    this.#replication = replication;
  }

  /** Applies a lifecycle transition atomically and records it in the history and the feed. */
  async transition(
    id: string,
    name: TransitionName,
    by: Actor,
    opts: { reporterOnly?: string; note?: string; from?: readonly AlertStatus[] } = {},
  ): Promise<TransitionOutcome> {
    const t = TRANSITIONS[name];
    const from = opts.from ?? t.from;
    const now = new Date().toISOString();
    const event = { event: t.event, at: now, by, ...(opts.note ? { note: opts.note } : {}) };
    const a = this.#keys.alerts;
    const reply = (await TRANSITION.run(this.#redis, {
      keys: { feed: a.feed, schedule: a.escalations },
      args: {
        statePrefix: a.statePrefix,
        id,
        to: t.to,
        from: from.join(','),
        historyEvent: JSON.stringify(event),
        updatedAt: now,
        maxlen: this.#config.settings.ALERT_STREAM_MAXLEN,
        cachePrefix: a.cachePrefix,
        cacheTtl: ALERT_CACHE_TTL_S,
        reporterOnly: opts.reporterOnly ?? '',
        updatedEvent: ALERT_EVENTS.updated,
      },
    })) as string[];
    return await this.#outcome(reply);
  }

  /**
   * Moves an alert of `by` (its reporter) to `location` while it is in one of `from`, atomically: the
   * location, a `located` history event (bounded to MAX_LOCATED_EVENTS), the feed entry and the cache.
   */
  async locate(id: string, location: Location, by: Actor, from: readonly AlertStatus[]): Promise<TransitionOutcome> {
    const now = new Date().toISOString();
    const a = this.#keys.alerts;
    const reply = (await LOCATE.run(this.#redis, {
      keys: { feed: a.feed },
      args: {
        statePrefix: a.statePrefix,
        id,
        reporter: by.id,
        from: from.join(','),
        location: JSON.stringify(location),
        historyEvent: JSON.stringify({ event: LOCATED_EVENT, at: now, by, location }),
        locatedEvent: LOCATED_EVENT,
        maxLocated: MAX_LOCATED_EVENTS,
        updatedAt: now,
        maxlen: this.#config.settings.ALERT_STREAM_MAXLEN,
        cachePrefix: a.cachePrefix,
        cacheTtl: ALERT_CACHE_TTL_S,
        updatedEvent: ALERT_EVENTS.updated,
      },
    })) as string[];
    return await this.#outcome(reply);
  }

  /**
   * Adds `event` to the alert's history right after its `raised` event, with no feed entry (the dispatch
   * step, decided beside the ingest: see AlertService.raise). Returns the document, or undefined when the alert
   * is gone or its stored document cannot be decoded (nothing changed).
   */
  async note(id: string, event: HistoryEvent): Promise<AlertDoc | undefined> {
    const a = this.#keys.alerts;
    const [kind, json] = (await NOTE.run(this.#redis, {
      keys: { feed: a.feed },
      args: { statePrefix: a.statePrefix, id, after: 'raised', historyEvent: JSON.stringify(event), cachePrefix: a.cachePrefix, cacheTtl: ALERT_CACHE_TTL_S },
    })) as string[];
    return kind === 'ok' ? parseDoc(json) : undefined;
  }

  async #outcome(reply: string[]): Promise<TransitionOutcome> {
    const [kind, a1, a2] = reply;
    if (kind === 'missing') return { kind };
    if (kind === 'forbidden') return { kind };
    if (kind === 'conflict') return { kind, status: a1 as AlertStatus };
    if (kind === 'corrupt') return { kind };
    const alert = parseDoc(a1);
    if (!alert || !a2) throw new NaboomError('NABOOM_INTERNAL', 'Stored alert failed validation after an update');
    await this.#replication.confirm();
    return { kind: 'ok', alert, feedId: a2 };
  }

  /**
   * Claims the alert for `by` (`distanceM`: how far they were, null when unknown), or with `unclaim` gives the
   * claim up (`override`: anyone's claim, for admins). Claiming an open alert also acknowledges it.
   */
  async claim(id: string, by: Actor, opts: { unclaim?: boolean; distanceM?: number | null; override?: boolean } = {}): Promise<ClaimOutcome> {
    const now = new Date().toISOString();
    const a = this.#keys.alerts;
    const unclaim = opts.unclaim === true;
    const events = unclaim
      ? [{ event: CLAIM_EVENTS.unclaimed, at: now, by }]
      : [
          { event: CLAIM_EVENTS.claimed, at: now, by },
          { event: TRANSITIONS.ack.event, at: now, by },
        ];
    const reply = (await CLAIM.run(this.#redis, {
      keys: { feed: a.feed, schedule: a.escalations },
      args: {
        statePrefix: a.statePrefix,
        id,
        mode: unclaim ? 'unclaim' : 'claim',
        actorId: by.id,
        assignee: unclaim ? '' : JSON.stringify({ id: by.id, username: by.username, at: now, distance_m: opts.distanceM ?? null }),
        historyEvents: JSON.stringify(events),
        override: opts.override ? '1' : '',
        updatedAt: now,
        maxlen: this.#config.settings.ALERT_STREAM_MAXLEN,
        cachePrefix: a.cachePrefix,
        cacheTtl: ALERT_CACHE_TTL_S,
        updatedEvent: ALERT_EVENTS.updated,
        ackStatus: TRANSITIONS.ack.to,
      },
    })) as string[];
    const [kind, a1, a2] = reply;
    switch (kind) {
      case 'missing':
      case 'unclaimed':
      case 'forbidden':
      case 'corrupt':
        return { kind };
      case 'conflict':
        return { kind, status: a1 as AlertStatus };
      case 'claimed': {
        const h = JSON.parse(a1 ?? '{}') as Record<string, unknown>;
        const str = (v: unknown): string => (typeof v === 'string' ? v : '');
        return { kind, holder: { id: str(h['id']), username: str(h['username']), at: str(h['at']) } };
      }
      case 'same': {
        const alert = parseDoc(a1);
        if (!alert) return { kind: 'corrupt' };
        return { kind, alert };
      }
      case 'ok':
      case undefined:
      default: {
        const alert = parseDoc(a1);
        if (kind !== 'ok' || !alert || !a2) throw new NaboomError('NABOOM_INTERNAL', 'Stored alert failed validation after a claim');
        await this.#replication.confirm();
        return { kind: 'ok', alert, feedId: a2 };
      }
    }
  }

  /** Claims due escalations (atomic across processes); one undecodable alert never stops the sweep. */
  async escalateDue(nowMs: number, batch = 100): Promise<EscalationSweep> {
    const a = this.#keys.alerts;
    const reply = (await ESCALATE.run(this.#redis, {
      keys: { schedule: a.escalations, feed: a.feed },
      args: {
        now: nowMs,
        interval: this.#config.settings.ESCALATE_AFTER_S * 1000,
        batch,
        statePrefix: a.statePrefix,
        cachePrefix: a.cachePrefix,
        cacheTtl: ALERT_CACHE_TTL_S,
        maxlen: this.#config.settings.ALERT_STREAM_MAXLEN,
        nowIso: new Date(nowMs).toISOString(),
        updatedEvent: ALERT_EVENTS.updated,
      },
    })) as [string[], string[]];
    const [docs, corrupt] = reply;
    const escalated = docs.map(parseDoc).filter((d): d is AlertDoc => d !== undefined);
    return { escalated, corrupt: corrupt.map(String), unreadable: docs.length - escalated.length };
  }
}
