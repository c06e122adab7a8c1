import { describe, expect, it } from 'vitest';
import { dashboardCsp, DASHBOARD_CSP } from '../http/dashboard.js';
import { generateEnv } from './generate.js';
import { fails } from '../../test/helpers/errors.js';
import { loadConfig } from './load.js';
import { checkTileTemplate, DEFAULT_MAP_MAX_ZOOM, mapTilesOf } from './map.js';

const base = generateEnv(6380).vars;
const load = (extra: Record<string, string>) => loadConfig({ env: { ...base, ...extra }, envFile: false });

describe('map tiles configuration', () => {
  it('accepts an https template (or http on loopback) and gives its origin', () => {
    expect(checkTileTemplate('https://tiles.example.org/osm/{z}/{x}/{y}.png')).toEqual({ ok: true, origin: 'https://tiles.example.org' });
    expect(checkTileTemplate('https://tiles.example.org:8443/{z}/{x}/{y}{r}.png?key=abc')).toEqual({ ok: true, origin: 'https://tiles.example.org:8443' });
    expect(checkTileTemplate('http://127.0.0.1:9000/{z}/{x}/{y}.png')).toEqual({ ok: true, origin: 'http://127.0.0.1:9000' });
    expect(checkTileTemplate('http://localhost/{z}/{x}/{y}.png')).toEqual({ ok: true, origin: 'http://localhost' });
    expect(checkTileTemplate('http://[::1]:8080/t?z={z}&x={x}&y={y}')).toEqual({ ok: true, origin: 'http://[::1]:8080' });
  });

  it.each([
    ['http://tiles.example.org/{z}/{x}/{y}.png', /https/],
    ['http://127.0.0.1.example.org/{z}/{x}/{y}.png', /https/],
    ['ftp://tiles.example.org/{z}/{x}/{y}.png', /absolute URL/],
    ['https://tiles.example.org/{z}/{x}.png', /\{y\}/],
    ['https://tiles.example.org/tiles.png', /\{z\} \{x\} \{y\}/],
    ['https://{s}.tile.example.org/{z}/{x}/{y}.png', /absolute URL/],
    ['https://tile.example.org/{s}/{z}/{x}/{y}.png', /\{s\}/],
    ['https://tile.example.org/{z}/{x}/{y}.png?k={apikey}', /unknown placeholder \{apikey\}/],
    ['https://user:pw@tile.example.org/{z}/{x}/{y}.png', /user info/],
    ['//tile.example.org/{z}/{x}/{y}.png', /absolute URL/],
    ['https://tile.example.org/{z}/{x}/{y}.png#frag', /absolute URL/],
    ['https://tile.example.org/{z}/{x}/{y}.png" onerror="x', /quotes/],
    ['https://tile.example.org', /absolute URL/],
  ])('refuses %s', (template, problem) => {
    const checked = checkTileTemplate(template);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.problem).toMatch(problem);
    const err = fails(() => load({ MAP_TILES_URL: template, MAP_TILES_ATTRIBUTION: '© Test' }));
    expect(err.code).toBe('NABOOM_CONFIG_INVALID');
    expect(err.message).toContain('MAP_TILES_URL');
  });

  it('requires MAP_TILES_ATTRIBUTION with a URL, and refuses the attribution or zoom without one', () => {
    const missing = fails(() => load({ MAP_TILES_URL: 'https://tiles.example.org/{z}/{x}/{y}.png' }));
    expect(missing.code).toBe('NABOOM_CONFIG_INVALID');
    expect(missing.message).toMatch(/^MAP_TILES_ATTRIBUTION: required with MAP_TILES_URL/);
    const blank = fails(() => load({ MAP_TILES_URL: 'https://tiles.example.org/{z}/{x}/{y}.png', MAP_TILES_ATTRIBUTION: '   ' }));
    expect(blank.code).toBe('NABOOM_CONFIG_INVALID');
    const stray = fails(() => load({ MAP_TILES_ATTRIBUTION: '© OpenStreetMap contributors', MAP_TILES_MAX_ZOOM: '17' }));
    expect(stray.code).toBe('NABOOM_CONFIG_INVALID');
    expect(stray.message).toMatch(/MAP_TILES_ATTRIBUTION, MAP_TILES_MAX_ZOOM set without MAP_TILES_URL/);
    const zoom = fails(() => load({ MAP_TILES_URL: 'https://t.example.org/{z}/{x}/{y}.png', MAP_TILES_ATTRIBUTION: '© x', MAP_TILES_MAX_ZOOM: '30' }));
    expect(zoom.message).toContain('MAP_TILES_MAX_ZOOM');
    const twoLines = fails(() => load({ MAP_TILES_URL: 'https://t.example.org/{z}/{x}/{y}.png', MAP_TILES_ATTRIBUTION: '© x\u0007' }));
    expect(twoLines.message).toMatch(/MAP_TILES_ATTRIBUTION: must be one line/);
  });

  it('yields the tiles (default max zoom 19) or nothing, and the CSP admits exactly that origin for images', () => {
    expect(mapTilesOf(load({}).settings)).toBeUndefined();
    const c = load({ MAP_TILES_URL: ' https://tiles.example.org/{z}/{x}/{y}.png ', MAP_TILES_ATTRIBUTION: ' © OpenStreetMap contributors ' });
    const tiles = mapTilesOf(c.settings);
    expect(tiles).toEqual({ url: 'https://tiles.example.org/{z}/{x}/{y}.png', origin: 'https://tiles.example.org', attribution: '© OpenStreetMap contributors', maxZoom: DEFAULT_MAP_MAX_ZOOM });
    expect(mapTilesOf(load({ MAP_TILES_URL: 'https://t.example.org/{z}/{x}/{y}.png', MAP_TILES_ATTRIBUTION: 'x', MAP_TILES_MAX_ZOOM: '17' }).settings)?.maxZoom).toBe(17);

    const csp = dashboardCsp(tiles?.origin);
    expect(csp.split('; ')).toContain("img-src 'self' data: https://tiles.example.org");
    // Only img-src changes: every other directive is as without tiles.
    const others = (p: string): string[] => p.split('; ').filter((d) => !d.startsWith('img-src'));
    expect(others(csp)).toEqual(others(DASHBOARD_CSP));
    expect(DASHBOARD_CSP).toContain("img-src 'self' data:;");
  });
});
