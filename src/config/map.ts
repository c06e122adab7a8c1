/**
 * The dashboard's basemap (README "Map configuration", docs/contract.md §2): an XYZ raster tile template the
 * operator hosts or licenses, its attribution, and its maximum zoom. The template is checked strictly once
 * at start, because its origin is the one origin the dashboard's CSP admits for images: https (plain http
 * only on a loopback host), no user info, `{z}`, `{x}` and `{y}` in the path or query and no other
 * placeholder except `{r}` (retina suffix). `{s}` (rotating subdomains) is refused: it would need several
 * origins in the CSP, and current tile servers serve one host over HTTP/2.
 */
import { NaboomError } from '../errors/catalogue.js';

/** What the dashboard needs to draw tiles, and the origin its CSP admits. */
export interface MapTiles {
  readonly url: string;
  readonly origin: string;
  readonly attribution: string;
  readonly maxZoom: number;
}

export const DEFAULT_MAP_MAX_ZOOM = 19;
export const MAX_ATTRIBUTION_LENGTH = 300;

const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const ALLOWED_PLACEHOLDERS = new Set(['z', 'x', 'y', 'r']);

/** The problem with a tile template, or the template's origin when it is acceptable. */
export function checkTileTemplate(template: string): { ok: true; origin: string } | { ok: false; problem: string } {
  if (template.length > 2048) return { ok: false, problem: 'is longer than 2048 characters' };
  if (/[\s"'<>\\`]/.test(template)) return { ok: false, problem: 'contains spaces, quotes, angle brackets or backslashes' };
  // The scheme, host and port are fixed: no placeholder before the path.
  const m = /^(https?):\/\/([^/?#{}]+)([/?][^#]*)$/.exec(template);
  if (!m || !m[1] || !m[2]) return { ok: false, problem: 'must be an absolute URL such as https://tiles.example.org/{z}/{x}/{y}.png, with no placeholder in the host and no #fragment' };
  let url: URL;
  try {
    url = new URL(`${m[1]}://${m[2]}/`);
  } catch {
    return { ok: false, problem: 'is not a valid URL' };
  }
  if (url.username || url.password || m[2].includes('@')) return { ok: false, problem: 'must not carry user info (user:password@)' };
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) return { ok: false, problem: 'must use https (plain http only on a loopback host)' };
  const seen = new Set<string>();
  for (const p of template.matchAll(PLACEHOLDER)) {
    const name = p[1] ?? '';
    if (name === 's') return { ok: false, problem: '{s} (subdomains) is not supported: use one host, so the CSP admits exactly one origin' };
    if (!ALLOWED_PLACEHOLDERS.has(name)) return { ok: false, problem: `has an unknown placeholder {${name}} (allowed: {z} {x} {y} {r})` };
    seen.add(name);
  }
  const missing = ['z', 'x', 'y'].filter((n) => !seen.has(n));
  if (missing.length > 0) return { ok: false, problem: `must contain ${missing.map((n) => `{${n}}`).join(' ')}` };
  return { ok: true, origin: url.origin };
}

/** MAP_TILES_ATTRIBUTION: plain text shown on the map (never HTML), one line. */
export function checkAttribution(text: string): string | undefined {
  if (text.length > MAX_ATTRIBUTION_LENGTH) return `is longer than ${MAX_ATTRIBUTION_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'must be one line of text without control characters';
  return undefined;
}

interface MapSettings {
  readonly MAP_TILES_URL?: string | undefined;
  readonly MAP_TILES_ATTRIBUTION?: string | undefined;
  readonly MAP_TILES_MAX_ZOOM?: number | undefined;
}

/**
 * The configured basemap, or `undefined` (the dashboard draws its bundled offline outline). A URL without an
 * attribution, or an attribution or maximum zoom without a URL, stops the command with NABOOM_CONFIG_INVALID.
 */
export function mapTilesOf(settings: MapSettings): MapTiles | undefined {
  const url = settings.MAP_TILES_URL;
  if (url === undefined) {
    const stray = [settings.MAP_TILES_ATTRIBUTION !== undefined && 'MAP_TILES_ATTRIBUTION', settings.MAP_TILES_MAX_ZOOM !== undefined && 'MAP_TILES_MAX_ZOOM'].filter(Boolean);
    if (stray.length > 0) throw new NaboomError('NABOOM_CONFIG_INVALID', `${stray.join(', ')} set without MAP_TILES_URL: set the tile URL (or unset them)`);
    return undefined;
  }
  const checked = checkTileTemplate(url);
  if (!checked.ok) throw new NaboomError('NABOOM_CONFIG_INVALID', `MAP_TILES_URL: ${checked.problem}`);
  const attribution = settings.MAP_TILES_ATTRIBUTION;
  if (attribution === undefined) {
    throw new NaboomError(
      'NABOOM_CONFIG_INVALID',
      'MAP_TILES_ATTRIBUTION: required with MAP_TILES_URL — the tile data\'s licence requires its attribution on the map (e.g. "© OpenStreetMap contributors")',
    );
  }
  return Object.freeze({ url, origin: checked.origin, attribution, maxZoom: settings.MAP_TILES_MAX_ZOOM ?? DEFAULT_MAP_MAX_ZOOM });
}
