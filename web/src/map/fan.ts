/**
 * Alerts at (nearly) the same spot are fanned out on a small circle around it, in screen pixels, so each dot
 * stays clickable at any zoom. Pure: unit-tested in Node.
 */

export const FAN_CELL_PX = 8;

/** Pixel offsets per id: (0, 0) for an alert alone in its cell, a ring of 12 + 2n px for n sharing one. */
export function fanOut(points: readonly { id: string; x: number; y: number }[], cell = FAN_CELL_PX): Map<string, { dx: number; dy: number }> {
  const cells = new Map<string, string[]>();
  for (const p of points) {
    const key = `${Math.round(p.x / cell)}:${Math.round(p.y / cell)}`;
    const list = cells.get(key);
    if (list) list.push(p.id);
    else cells.set(key, [p.id]);
  }
  const out = new Map<string, { dx: number; dy: number }>();
  for (const ids of cells.values()) {
    const r = ids.length > 1 ? 12 + 2 * ids.length : 0;
    ids.forEach((id, i) => {
      const angle = (2 * Math.PI * i) / ids.length - Math.PI / 2;
      out.set(id, r === 0 ? { dx: 0, dy: 0 } : { dx: r * Math.cos(angle), dy: r * Math.sin(angle) });
    });
  }
  return out;
}
