/**
 * The dispatch policy's first step (README "Dispatch policy"): a new alert goes first to the
 * DISPATCH_NEAREST_N nearest available responders within DISPATCH_RADIUS_KM; nobody there → everyone at
 * once. The escalation (ESCALATE_AFTER_S without acknowledgement) then goes to everyone as it always did.
 *
 * Runs in the serve process that stores the alert, beside the ingest (AlertService.raise: storing and
 * announcing the alert never wait for it), on the realtime role's connection (the presence selector). The
 * lookup is bounded in time, and any failure — Redis down, NOPERM, a timeout — dispatches to everyone: the
 * notification is never dropped for the sake of the policy, and delayed by at most the bound.
 */
import type { DispatchInfo } from '../alerts/model.js';
import type { Logger } from '../log/logger.js';
import type { Point, PresenceStore } from './store.js';

export interface DispatchSettings {
  readonly DISPATCH_RADIUS_KM: number;
  readonly DISPATCH_NEAREST_N: number;
  readonly REDIS_COMMAND_TIMEOUT_MS: number;
}

/** How long the lookup may take before the alert goes to everyone (it bounds the 201 and the job, not the storing). */
export const DISPATCH_LOOKUP_TIMEOUT_MS = 1000;

export class DispatchPlanner {
  readonly #presence: Pick<PresenceStore, 'nearest'>;
  readonly #settings: DispatchSettings;
  readonly #log: Logger;
  readonly #timeoutMs: number;

  constructor(presence: Pick<PresenceStore, 'nearest'>, settings: DispatchSettings, logger: Logger) {
    this.#presence = presence;
    this.#settings = settings;
    this.#log = logger.child({ component: 'dispatch' });
    this.#timeoutMs = Math.min(settings.REDIS_COMMAND_TIMEOUT_MS, DISPATCH_LOOKUP_TIMEOUT_MS);
  }

  /**
   * Who a new alert at `point` goes to first, and the note for its history: a `dispatched` step when the
   * policy changed anything (nearest first, positions unreadable, or no position to measure from), none when
   * nobody is near (everyone gets it, as without the policy). `point` is undefined for an address-only alert:
   * there is nothing to measure nearness from, so it goes to everyone at once (`no_location`). Never throws.
   */
  async plan(point: Point | undefined): Promise<{ dispatch: DispatchInfo; note?: string }> {
    const dispatch: DispatchInfo = point ? await this.#lookup(point) : { stage: 'all', reason: 'no_location', responders: [] };
    return dispatch.reason === 'nobody_nearby' ? { dispatch } : { dispatch, note: dispatchNote(dispatch) };
  }

  async #lookup(point: Point): Promise<DispatchInfo> {
    const radius_km = this.#settings.DISPATCH_RADIUS_KM;
    let timer: NodeJS.Timeout | undefined;
    try {
      const near = await Promise.race([
        this.#presence.nearest({ lat: point.lat, lon: point.lon, radiusKm: radius_km, limit: this.#settings.DISPATCH_NEAREST_N, availableOnly: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`presence lookup took longer than ${this.#timeoutMs} ms`)), this.#timeoutMs);
        }),
      ]);
      if (near.length === 0) return { stage: 'all', reason: 'nobody_nearby', responders: [], radius_km };
      return { stage: 'nearest', reason: 'nearest', responders: near.map((r) => r.username), radius_km };
    } catch (err) {
      this.#log.warn({ err }, 'nearest-responder lookup failed: the alert goes to everyone');
      return { stage: 'all', reason: 'presence_unavailable', responders: [], radius_km };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The history note of a dispatch step (no usernames: a reporter reads their alert's history). */
export function dispatchNote(d: DispatchInfo): string {
  switch (d.reason) {
    case 'nearest':
      return `sent first to the ${d.responders.length} nearest available responder${d.responders.length === 1 ? '' : 's'} within ${d.radius_km ?? '?'} km; everyone if nobody acknowledges in time`;
    case 'nobody_nearby':
      return `no available responder within ${d.radius_km ?? '?'} km: sent to everyone`;
    case 'presence_unavailable':
      return 'responder positions could not be read: sent to everyone';
    case 'escalated':
      return 'escalated: sent to everyone';
    case 'no_location':
      return 'no GPS position (address only): sent to everyone';
  }
}
