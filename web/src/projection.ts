/**
 * The map without tiles: an equirectangular projection of the alerts' bounding box (with padding) onto a
 * fixed SVG viewBox. Longitudes are scaled by cos(latitude) at the box's centre, so a circle of N metres is
 * round and distances look right at city scale. Pure functions: unit-tested in Node.
 */

export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
  readonly accuracy_m?: number;
}

export interface Projection {
  readonly width: number;
  readonly height: number;
  /** SVG coordinates of a point. */
  project(p: { lat: number; lon: number }): { x: number; y: number };
  /** SVG length of a distance in metres on the ground. */
  metres(m: number): number;
  /** Metres per SVG unit (for the scale bar). */
  readonly metresPerUnit: number;
}

const M_PER_DEG_LAT = 111_320;
/** Never zoom in further than this box (degrees of latitude), so a single alert still shows its streets' scale. */
const MIN_SPAN_DEG = 0.01;

/** Fits the points (and their accuracy circles) into a `width`×`height` area with `pad` units of margin. */
export function fitProjection(points: readonly GeoPoint[], width: number, height: number, pad = 24): Projection {
  let minLat = Infinity;
  let maxLat = -Infinity;
  let minLon = Infinity;
  let maxLon = -Infinity;
  for (const p of points) {
    // Include the accuracy circle, capped so one vague alert does not shrink the others to a dot.
    const r = Math.min(p.accuracy_m ?? 0, 5000) / M_PER_DEG_LAT;
    const rLon = r / Math.max(0.01, Math.cos((p.lat * Math.PI) / 180));
    minLat = Math.min(minLat, p.lat - r);
    maxLat = Math.max(maxLat, p.lat + r);
    minLon = Math.min(minLon, p.lon - rLon);
    maxLon = Math.max(maxLon, p.lon + rLon);
  }
  if (points.length === 0) {
    minLat = -1;
    maxLat = 1;
    minLon = -1;
    maxLon = 1;
  }
  const midLat = (minLat + maxLat) / 2;
  const k = Math.max(0.01, Math.cos((midLat * Math.PI) / 180));
  // Work in "degrees of latitude" on both axes: x = lon·cos(midLat), y = −lat.
  let x0 = minLon * k;
  let x1 = maxLon * k;
  let y0 = -maxLat;
  let y1 = -minLat;
  const grow = (lo: number, hi: number, span: number): [number, number] => {
    const mid = (lo + hi) / 2;
    return [mid - span / 2, mid + span / 2];
  };
  if (x1 - x0 < MIN_SPAN_DEG) [x0, x1] = grow(x0, x1, MIN_SPAN_DEG);
  if (y1 - y0 < MIN_SPAN_DEG) [y0, y1] = grow(y0, y1, MIN_SPAN_DEG);
  const innerW = Math.max(1, width - 2 * pad);
  const innerH = Math.max(1, height - 2 * pad);
  // One scale for both axes (no distortion), centred in the area.
  const scale = Math.min(innerW / (x1 - x0), innerH / (y1 - y0));
  const offX = pad + (innerW - (x1 - x0) * scale) / 2;
  const offY = pad + (innerH - (y1 - y0) * scale) / 2;
  return {
    width,
    height,
    project: (p) => ({ x: offX + (p.lon * k - x0) * scale, y: offY + (-p.lat - y0) * scale }),
    metres: (m) => (m / M_PER_DEG_LAT) * scale,
    metresPerUnit: M_PER_DEG_LAT / scale,
  };
}

/** A round scale-bar length (1, 2 or 5 × 10^n metres) that is at most `maxUnits` long. */
export function scaleBar(p: Projection, maxUnits: number): { metres: number; units: number; label: string } {
  const maxM = maxUnits * p.metresPerUnit;
  const exp = Math.pow(10, Math.floor(Math.log10(Math.max(1, maxM))));
  const metres = [5, 2, 1].map((f) => f * exp).find((m) => m <= maxM) ?? exp;
  return { metres, units: p.metres(metres), label: metres >= 1000 ? `${metres / 1000} km` : `${metres} m` };
}
