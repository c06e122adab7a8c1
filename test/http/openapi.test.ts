/** GET /api/openapi.json: an OpenAPI 3.1 document of every route the server has, built from the routes' own schemas. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startStack, type Stack } from '../helpers/stack.js';

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses?: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

/**
 * The routes Fastify has registered, as `METHOD /path`, read from `printRoutes` (a tree: each line is a path
 * segment under the one above it, with its methods). HEAD routes are Fastify's automatic twins of GET.
 */
function registeredRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: { indent: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*?)([└├]── )(.+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const indent = (m[1] ?? '').length;
    while (stack.length > 0 && (stack[stack.length - 1]?.indent ?? 0) >= indent) stack.pop();
    const path = `${stack[stack.length - 1]?.path ?? ''}${m[3] ?? ''}`;
    stack.push({ indent, path });
    for (const method of (m[4] ?? '').split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  let s: Stack;
  let doc: OpenApiDoc;
  let dashboard: string;
  beforeAll(async () => {
    // A built dashboard, so the static file routes exist too.
    dashboard = mkdtempSync(join(tmpdir(), 'naboom-openapi-'));
    mkdirSync(join(dashboard, 'assets'));
    writeFileSync(join(dashboard, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dashboard, 'assets', 'index-abc123.js'), 'export {};');
    s = await startStack({ dashboardDir: dashboard });
    const r = await get(`${s.url}/api/openapi.json`);
    expect(r.status).toBe(200);
    doc = r.body as OpenApiDoc;
  });
  afterAll(async () => {
    await s.stop();
    rmSync(dashboard, { recursive: true, force: true });
  });

  it('is served without a login, as OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every route the server registered, each with a summary and a tag', () => {
    const routes = registeredRoutes(s.server.app.printRoutes({ commonPrefix: false }));
    // Guards the parser: a tree it could not read would compare nothing.
    expect(routes).toEqual(expect.arrayContaining(['POST /api/emergency/alerts', 'GET /api/emergency/alerts/:id/cap', 'GET /ws', 'GET /api/openapi.json', 'GET /assets/index-abc123.js']));
    expect(routes.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const route of routes) {
      const [method = '', path = ''] = route.split(' ');
      const op = doc.paths[toOpenApiPath(path)]?.[method.toLowerCase()];
      if (!op) {
        missing.push(route);
        continue;
      }
      expect(op.summary, route).toMatch(/\w/);
      expect(op.tags?.length, route).toBeGreaterThan(0);
    }
    expect(missing).toEqual([]);
  });

  it('the WebSocket upgrade is listed, saying what OpenAPI cannot express', () => {
    const ws = doc.paths['/ws']?.['get'];
    expect(ws?.description).toMatch(/OpenAPI 3\.1 cannot describe/);
    expect(Object.keys(ws?.responses ?? {})).toContain('101');
  });

  it('carries the request and response schemas the server validates with, limits included', () => {
    const raise = doc.paths['/api/emergency/alerts']?.['post'];
    type Obj = { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: unknown };
    const body = raise?.requestBody?.content['application/json']?.schema as { properties: Record<string, Obj & { anyOf?: Obj[] }>; additionalProperties: unknown };
    expect(body.additionalProperties).toBe(false);
    // The location is one of two closed shapes: coordinates (lat and lon required) or an address alone.
    const [coords, addressOnly] = body.properties['location']?.anyOf ?? [];
    expect(coords?.required).toEqual(['lat', 'lon']);
    expect(coords?.properties?.['accuracy_m']).toMatchObject({ minimum: 0, maximum: 100_000 });
    expect(coords?.additionalProperties).toBe(false);
    expect(addressOnly?.required).toEqual(['address']);
    expect(Object.keys(addressOnly?.properties ?? {})).toEqual(['address']);
    expect(addressOnly?.properties?.['address']).toMatchObject({ minLength: 1, maxLength: 500 });
    expect(addressOnly?.additionalProperties).toBe(false);
    expect(body.properties['description']).toMatchObject({ maxLength: 2000 });
    expect(body.properties['severity']).toMatchObject({ enum: ['low', 'medium', 'high', 'critical'] });
    expect(raise?.security).toEqual([{ bearer: [] }, { session: [] }]);
    const created = raise?.responses?.['201']?.content?.['application/json']?.schema as { properties: Record<string, { properties?: Record<string, unknown> }> };
    expect(created.properties['alert']?.properties?.['history']).toMatchObject({ type: 'array', minItems: 1 });
    const list = doc.paths['/api/emergency/alerts']?.['get'];
    expect(list?.parameters?.find((p) => p.name === 'status')?.schema).toMatchObject({ enum: ['open', 'acknowledged', 'resolved', 'cancelled'] });
    const ack = doc.paths['/api/emergency/alerts/{id}/ack']?.['post'];
    expect(ack?.parameters?.find((p) => p.name === 'id' && p.in === 'path')).toBeDefined();
    expect(ack?.requestBody?.content['application/json']?.schema).toMatchObject({ properties: { note: { maxLength: 1000 } } });
  });
});
