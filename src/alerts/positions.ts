/**
 * Where a responder was last seen, as the alert service needs it: only to say how far away a responder was
 * when they claimed an alert. The presence module provides it; without it every distance is unknown (null).
 */

/** A responder's last known position (presence module: `positionOf`). */
export interface ResponderPosition {
  readonly lat: number;
  readonly lon: number;
  readonly last_seen: string;
}

/** The one thing claims need from presence. */
export interface PositionSource {
  positionOf(username: string): Promise<ResponderPosition | null>;
}

/** No presence wired in: every position is unknown. */
export const NO_POSITIONS: PositionSource = { positionOf: () => Promise.resolve(null) };

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine), rounded to the metre. */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h))));
}
