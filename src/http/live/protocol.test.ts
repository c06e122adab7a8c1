import { readdirSync, readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { MAX_STREAM_ID } from '../../alerts/stream-id.js';
import { anyLiveMessage, clientMessage, liveProtocolSchemaText, messageTypes, serverMessage } from './protocol.js';
import { liveSchemaRoute } from './schema.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

describe('live protocol', () => {
  it('has one union of every message, each type once, client and server messages apart', () => {
    const types = messageTypes().map((m) => m.type);
    expect(new Set(types).size).toBe(types.length);
    expect(types.sort()).toEqual(
      ['subscribe', 'subscribed', 'replay.start', 'replay.truncated', 'replay.end', 'live', 'heartbeat', 'alert', 'alert.updated', 'alert.message', 'error', 'shutdown'].sort(),
    );
    expect(messageTypes().filter((m) => m.direction === 'client→server').map((m) => m.type)).toEqual(['subscribe']);
    expect(anyLiveMessage.options).toHaveLength(clientMessage.options.length + serverMessage.options.length);
  });

  it('parses subscribe as the WebSocket route did: optional fields, bounded severities, ids Redis accepts', () => {
    expect(clientMessage.parse({ type: 'subscribe' })).toEqual({ type: 'subscribe' });
    expect(clientMessage.parse({ type: 'subscribe', severities: ['high'], since: MAX_STREAM_ID, extra: 1 })).toEqual({ type: 'subscribe', severities: ['high'], since: MAX_STREAM_ID });
    for (const bad of [
      { type: 'subscribe', severities: [] },
      { type: 'subscribe', severities: ['low', 'low', 'low', 'low', 'low'] },
      { type: 'subscribe', severities: ['../x'] },
      { type: 'subscribe', since: '99999999999999999999-0' },
      { type: 'subscribe', since: '18446744073709551616-0' },
      { type: 'subscribe', since: 'x'.repeat(5000) },
      { type: 'SUBSCRIBE' },
      { type: 'alert' },
      {},
      null,
    ]) {
      expect(clientMessage.safeParse(bad).success, JSON.stringify(bad).slice(0, 60)).toBe(false);
    }
  });

  it('docs/live-protocol.schema.json is the schema generated from the union (run `npm run docs:schemas`)', () => {
    expect(read('docs/live-protocol.schema.json')).toBe(liveProtocolSchemaText());
  });

  it('the published schema lists every message with its type and direction', () => {
    const doc = JSON.parse(liveProtocolSchemaText()) as { oneOf: { properties: { type: { const: string } }; direction: string }[] };
    expect(doc.oneOf.map((o) => [o.properties.type.const, o.direction])).toEqual(messageTypes().map((m) => [m.type, m.direction]));
  });

  it('the README "Live feed" table lists every message type, and only those', () => {
    const readme = read('README.md');
    const start = readme.indexOf('\n## Live feed\n');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const rows = readme
      .slice(start, end)
      .split('\n')
      .map((line) => /^\| `([^`]+)` \| ([^|]+) \|/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && m[1] !== 'type');
    const documented = new Map(rows.map((m) => [m[1], m[2]?.trim() ?? '']));
    for (const { type, direction } of messageTypes()) {
      expect(documented.has(type), `README table row for ${type}`).toBe(true);
      expect(documented.get(type)?.startsWith(direction.replace('→', ' → ')), `direction of ${type}`).toBe(true);
    }
    expect([...documented.keys()].sort()).toEqual(messageTypes().map((m) => m.type).sort());
  });

  it('the dashboard imports only the protocol types, never zod', () => {
    const dir = new URL('web/src/', root);
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    const importers = sources.filter((f) => readFileSync(new URL(f, dir), 'utf8').includes('http/live/protocol'));
    expect(importers).toContain('feed.ts');
    for (const f of sources) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      expect(text, f).not.toMatch(/from 'zod'/);
      for (const line of text.split('\n').filter((l) => l.includes('http/live/protocol'))) expect(line, f).toMatch(/^import type /);
    }
  });

  it('GET /api/live/schema serves the committed document, without login', async () => {
    const app = Fastify();
    liveSchemaRoute({ app });
    const res = await app.inject({ method: 'GET', url: '/api/live/schema' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/schema\+json/);
    expect(res.body).toBe(read('docs/live-protocol.schema.json'));
    await app.close();
  });
});
