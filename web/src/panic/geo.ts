/** The device's location as the panic page keeps it: the best recent fix, never waiting for a perfect one. */
import type { NewLocation } from '../api.js';
import { metresBetween } from '../dispatch.js';

export interface Fix {
  readonly lat: number;
  readonly lon: number;
  readonly accuracy_m: number;
  /** When the fix was taken (ms). */
  readonly at: number;
}

/** A fix older than this is replaced by any newer one, however coarse (the resident may be moving). */
const STALE_MS = 30_000;

/** Whether `next` should replace `best`: more accurate, or `best` is stale. */
export function better(best: Fix | undefined, next: Fix): boolean {
  if (!best) return true;
  if (next.at - best.at > STALE_MS) return true;
  return next.accuracy_m <= best.accuracy_m;
}


/** Whether a fix is worth sending as an update over the one last sent: moved, or much more accurate. */
export function worthUpdate(sent: Fix | undefined, next: Fix): boolean {
  if (!sent) return true;
  return metresBetween(sent, next) >= Math.max(10, next.accuracy_m / 2) || next.accuracy_m < sent.accuracy_m * 0.7;
}

/**
 * What a press sends when it has neither a fix nor an address: an address-only location saying so, never
 * made-up coordinates. Someone in danger may not be able to type; the alert still goes (responders know who
 * raised it), and the first fix or typed address replaces this text (`PATCH …/location`).
 */
export const UNKNOWN_LOCATION = 'Location unknown: no GPS fix and no address yet';

/**
 * The location to send: the fix (with the address when one is typed), else the address alone — never made-up
 * coordinates. Undefined when there is neither (the page then sends UNKNOWN_LOCATION and asks for an address).
 */
export function locationOf(fix: Fix | undefined, address: string): NewLocation | undefined {
  const typed = address.trim().slice(0, 500);
  if (fix) return { lat: fix.lat, lon: fix.lon, accuracy_m: Math.round(fix.accuracy_m), ...(typed ? { address: typed } : {}) };
  return typed ? { address: typed } : undefined;
}
