/**
 * Who may do what with alerts (docs/contract.md §5): members raise alerts and see their own; responders see all and
 * act on them; admins do everything. Each change is announced live through the feed (by the store's
 * scripts) and as a notification job.
 */
import { canSee, canSeeAll, type Principal } from '../auth/principal.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { AlertDoc, AlertEventName, AlertNotification, AlertStatus, DispatchInfo, HistoryEvent, Location, RaiseInput, ThreadMessage, TransitionName } from './model.js';
import { ALERT_EVENTS, TRANSITIONS, hasCoordinates } from './model.js';
import { distanceM, NO_POSITIONS, type PositionSource } from './positions.js';
import type { AlertStore, ClaimOutcome, ListPage, ListQuery, RaiseResult } from './store.js';

export type NotificationKind = AlertEventName;

/** The queue as the alert service sees it (src/queue provides it; the event is built here, typed). */
export interface NotificationPublisher {
  enqueueEvent(event: AlertNotification & { v: 1 }, opts?: { dedupeId?: string }): Promise<unknown>;
}

/**
 * The dispatch policy as the alert service sees it (src/presence provides it): who a new alert at a point
 * goes to first, and the note for its history. It never throws (a failed lookup means everyone).
 */
export interface DispatchPolicy {
  /** `point` is undefined for an address-only alert (no coordinates: dispatched to everyone). */
  plan(point: { readonly lat: number; readonly lon: number } | undefined): Promise<{ readonly dispatch: DispatchInfo; readonly note?: string }>;
}

export interface AlertServiceDeps {
  readonly store: AlertStore;
  readonly notifications: NotificationPublisher;
  /** Without it every notification goes to everyone and carries no `dispatch` (README "Dispatch policy"). */
  readonly dispatch?: DispatchPolicy;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Responders' last known positions (presence); without it the distance at claim time is unknown. */
  readonly positions?: PositionSource;
}

/** While an alert is open or acknowledged its reporter may still move it (help is not there yet). */
const LOCATABLE: readonly AlertStatus[] = ['open', 'acknowledged'];

const notFound = (id: string): NaboomError => new NaboomError('NABOOM_NOT_FOUND', `No alert ${id}`);

export class AlertService {
  readonly #d: AlertServiceDeps;

  constructor(d: AlertServiceDeps) {
    this.#d = d;
  }

  /**
   * Stores the alert durably, then makes sure its notification job exists (idempotent on retries). The
   * dispatch lookup runs beside the ingest, never before it: storing and announcing an alert never waits for
   * presence. Its step goes into the history once both are done (`note`, no feed entry), and the job carries it.
   */
  async raise(p: Principal, input: RaiseInput, idempotencyKey?: string): Promise<RaiseResult> {
    const started = process.hrtime.bigint();
    const planning = this.#d.dispatch?.plan(hasCoordinates(input.location) ? input.location : undefined);
    let stored: RaiseResult;
    try {
      stored = await this.#d.store.raise(input, { id: p.id, username: p.username }, idempotencyKey);
    } catch (err) {
      // Nothing was stored: nobody needs the plan (a policy never rejects, but an unheard rejection would crash).
      planning?.catch(() => undefined);
      throw err;
    }
    const plan = await planning;
    const step: HistoryEvent | undefined = stored.created && plan?.note ? { event: 'dispatched', at: new Date().toISOString(), note: plan.note } : undefined;
    // Strict: a failed enqueue is a 503, and the client's retry (same Idempotency-Key) enqueues it then.
    const [noted] = await Promise.all([step ? this.#note(stored.alert, step) : undefined, this.#notify(ALERT_EVENTS.raised, stored.alert, `raised-${stored.alert.id}`, true, plan?.dispatch)]);
    const result: RaiseResult = noted ? { ...stored, alert: noted } : stored;
    if (result.created) {
      this.#d.metrics.alertsRaised.inc({ severity: result.alert.severity });
      this.#d.metrics.ingestLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      this.#d.logger.info({ alert: result.alert.id, severity: result.alert.severity, type: result.alert.type, reporter: p.username }, 'alert raised');
    }
    return result;
  }

  /** The dispatch step into the stored history; a failure is logged (the alert and its job are unaffected). */
  async #note(alert: AlertDoc, step: HistoryEvent): Promise<AlertDoc | undefined> {
    try {
      return await this.#d.store.note(alert.id, step);
    } catch (err) {
      this.#d.logger.warn({ alert: alert.id, err }, 'could not record the dispatch step in the alert history');
      return undefined;
    }
  }

  /** One alert; another user's alert is as unknown to a member as a missing one (no existence oracle). */
  async get(p: Principal, id: string): Promise<AlertDoc> {
    const alert = await this.#d.store.get(id);
    if (!alert || !canSee(p, alert)) throw notFound(id);
    return alert;
  }

  async list(p: Principal, q: ListQuery): Promise<ListPage> {
    return await this.#d.store.list(canSeeAll(p) ? q : { ...q, reporterId: p.id });
  }

  /** ack / resolve (responders, admins); cancel (responders, admins; or the reporter while still open). */
  async act(p: Principal, id: string, name: TransitionName, note?: string): Promise<AlertDoc> {
    const actor = { id: p.id, username: p.username };
    let opts: { reporterOnly?: string; from?: readonly AlertStatus[]; note?: string } = note ? { note } : {};
    if (!canSeeAll(p)) {
      if (name !== 'cancel') throw new NaboomError('NABOOM_FORBIDDEN', `Only responders may ${name === 'ack' ? 'acknowledge' : 'resolve'} alerts`);
      opts = { ...opts, reporterOnly: p.id, from: ['open'] };
    }
    const out = await this.#d.store.transition(id, name, actor, opts);
    switch (out.kind) {
      // A member cancelling another user's alert learns no more than for a missing one.
      case 'missing':
      case 'forbidden':
        throw notFound(id);
      case 'corrupt':
        this.#d.logger.error({ alert: id, transition: name }, 'stored alert document cannot be decoded; nothing was changed');
        throw new NaboomError('NABOOM_INTERNAL', 'The stored alert cannot be read; nothing was changed');
      case 'conflict':
        throw new NaboomError('NABOOM_INVALID_TRANSITION', `Cannot ${name} an alert that is ${out.status}`, {
          details: { status: out.status, allowed_from: opts.from ?? TRANSITIONS[name].from },
        });
      case 'ok':
        this.#d.logger.info({ alert: id, transition: name, by: p.username }, 'alert updated');
        await this.#notify(ALERT_EVENTS.updated, out.alert, `updated-${out.feedId}`, false);
        return out.alert;
    }
  }

  /**
   * Claims the alert for a responder or admin (docs/contract.md §5): one holder at a time, decided atomically;
   * claiming an open alert also acknowledges it. Claiming again as the holder changes nothing (200).
   */
  async claim(p: Principal, id: string): Promise<AlertDoc> {
    if (!canSeeAll(p)) throw new NaboomError('NABOOM_FORBIDDEN', 'Only responders may claim alerts');
    const alert = await this.#d.store.get(id);
    if (!alert) throw notFound(id);
    const distance = await this.#distanceTo(p, alert);
    const out = await this.#d.store.claim(id, { id: p.id, username: p.username }, { distanceM: distance });
    return await this.#claimed(p, id, 'claim', out);
  }

  /** Gives a claim up: the holder, or an admin for anyone's claim. The alert keeps its status. */
  async unclaim(p: Principal, id: string): Promise<AlertDoc> {
    if (!canSeeAll(p)) throw new NaboomError('NABOOM_FORBIDDEN', 'Only the responder holding the claim or an admin may give it up');
    const out = await this.#d.store.claim(id, { id: p.id, username: p.username }, { unclaim: true, override: p.role === 'admin' });
    return await this.#claimed(p, id, 'unclaim', out);
  }

  async #claimed(p: Principal, id: string, action: 'claim' | 'unclaim', out: ClaimOutcome): Promise<AlertDoc> {
    switch (out.kind) {
      case 'missing':
        throw notFound(id);
      case 'corrupt':
        this.#d.logger.error({ alert: id, action }, 'stored alert document cannot be decoded; nothing was changed');
        throw new NaboomError('NABOOM_INTERNAL', 'The stored alert cannot be read; nothing was changed');
      case 'conflict':
        throw new NaboomError('NABOOM_INVALID_TRANSITION', `Cannot ${action} an alert that is ${out.status}`, {
          details: { status: out.status, allowed_from: ['open', 'acknowledged'] },
        });
      case 'claimed':
        throw new NaboomError('NABOOM_ALERT_CLAIMED', `${out.holder.username} has already claimed this alert`, {
          details: { assignee: out.holder.username, claimed_at: out.holder.at },
        });
      case 'unclaimed':
        throw new NaboomError('NABOOM_CONFLICT', 'Nobody has claimed this alert', { details: { assignee: null } });
      case 'forbidden':
        throw new NaboomError('NABOOM_FORBIDDEN', 'Only the responder holding the claim or an admin may give it up');
      case 'same':
        return out.alert;
      case 'ok':
        this.#d.logger.info({ alert: id, action, by: p.username }, action === 'claim' ? 'alert claimed' : 'alert claim given up');
        await this.#notify(ALERT_EVENTS.updated, out.alert, `updated-${out.feedId}`, false);
        return out.alert;
    }
  }

  /**
   * The reporter's newer location for their alert while it is open or acknowledged (a `located` history event,
   * pushed live as `alert.updated`). A member never learns whether another user's alert exists (404, as for
   * every read); a responder or admin, who can see the alert, is told it is not theirs to move (403).
   */
  async locate(p: Principal, id: string, location: Location): Promise<AlertDoc> {
    const from: readonly AlertStatus[] = LOCATABLE;
    const out = await this.#d.store.locate(id, location, { id: p.id, username: p.username }, from);
    switch (out.kind) {
      case 'missing':
        throw notFound(id);
      case 'forbidden':
        if (!canSeeAll(p)) throw notFound(id);
        throw new NaboomError('NABOOM_NOT_REPORTER', 'Only the reporter of an alert may update its location');
      case 'corrupt':
        this.#d.logger.error({ alert: id }, 'stored alert document cannot be decoded; the location was not changed');
        throw new NaboomError('NABOOM_INTERNAL', 'The stored alert cannot be read; nothing was changed');
      case 'conflict':
        throw new NaboomError('NABOOM_INVALID_TRANSITION', `Cannot update the location of an alert that is ${out.status}`, {
          details: { status: out.status, allowed_from: from },
        });
      case 'ok':
        this.#d.logger.info({ alert: id, by: p.username }, 'alert located');
        await this.#notify(ALERT_EVENTS.updated, out.alert, `updated-${out.feedId}`, false);
        return out.alert;
    }
  }

  /**
   * Posts a message in the alert's thread: the reporter, responders and admins; any other member 403. The
   * message is stored with the alert and goes live as `alert.message` to whoever may see the alert.
   */
  async postMessage(p: Principal, id: string, text: string): Promise<ThreadMessage> {
    const alert = await this.#threadAlert(p, id);
    const out = await this.#d.store.postMessage(alert, { id: p.id, username: p.username }, text);
    switch (out.kind) {
      case 'missing':
        throw notFound(id);
      case 'full':
        throw new NaboomError('NABOOM_THREAD_FULL', `The thread of this alert holds ${out.count} messages, the most it may`, { details: { count: out.count } });
      case 'ok':
        this.#d.logger.info({ alert: id, message: out.message.id, by: p.username }, 'thread message posted');
        return out.message;
    }
  }

  /** The alert's thread, oldest first (same rules as posting). */
  async messages(p: Principal, id: string): Promise<ThreadMessage[]> {
    await this.#threadAlert(p, id);
    return await this.#d.store.messages(id);
  }

  /** The alert, when the principal may take part in its thread. */
  async #threadAlert(p: Principal, id: string): Promise<AlertDoc> {
    const alert = await this.#d.store.get(id);
    if (!alert) throw notFound(id);
    if (!canSee(p, alert)) throw new NaboomError('NABOOM_FORBIDDEN', "Only the alert's reporter, responders and admins take part in its thread");
    return alert;
  }

  /** How far the responder was from the alert (their last known position), or null when unknown (or the alert has no coordinates). */
  async #distanceTo(p: Principal, alert: AlertDoc): Promise<number | null> {
    const at = alert.location;
    if (!hasCoordinates(at)) return null;
    try {
      const pos = await (this.#d.positions ?? NO_POSITIONS).positionOf(p.username);
      return pos ? distanceM(pos, at) : null;
    } catch (err) {
      // Presence is a nicety here: a claim never fails because the position could not be read.
      this.#d.logger.warn({ err, alert: alert.id }, 'could not read the responder position; distance unknown');
      return null;
    }
  }

  /** Fires due escalations (atomic claims: several processes never escalate one alert twice). */
  async escalateDue(nowMs = Date.now()): Promise<number> {
    const sweep = await this.#d.store.escalateDue(nowMs);
    for (const id of sweep.corrupt) {
      this.#d.logger.error({ alert: id }, 'stored alert document cannot be decoded: taken out of the escalation schedule');
    }
    if (sweep.unreadable > 0) this.#d.logger.error({ count: sweep.unreadable }, 'escalated alerts failed validation: no notification job for them');
    // Every escalated alert gets its job: #notify never throws here, so one failed enqueue skips no other.
    for (const doc of sweep.escalated) {
      this.#d.metrics.escalations.inc();
      this.#d.logger.warn({ alert: doc.id, level: doc.escalations, severity: doc.severity }, 'alert escalated: still open');
      // The dispatch policy's last step: an escalation goes to everyone.
      const everyone: DispatchInfo | undefined = this.#d.dispatch ? { stage: 'all', reason: 'escalated', responders: [] } : undefined;
      await this.#notify(ALERT_EVENTS.escalated, doc, `escalated-${doc.id}-${doc.escalations}`, false, everyone);
    }
    return sweep.escalated.length;
  }

  /**
   * Enqueues the notification job. `strict` turns a failure into a 503 (raise: the client retries);
   * otherwise the change already happened and is live, so the failure is logged, not reported.
   */
  async #notify(kind: NotificationKind, alert: AlertDoc, dedupeId: string, strict: boolean, dispatch?: DispatchInfo): Promise<void> {
    try {
      const event = { v: 1 as const, event: kind, alert, at: new Date().toISOString(), ...(dispatch ? { dispatch } : {}) };
      await this.#d.notifications.enqueueEvent(event, { dedupeId });
    } catch (cause) {
      this.#d.logger.error({ alert: alert.id, kind, err: cause }, 'could not enqueue the notification job');
      if (!strict) return;
      throw new NaboomError('NABOOM_UNAVAILABLE', 'The alert is stored but its notifications could not be queued; retry with the same Idempotency-Key', { cause });
    }
  }
}
