/**
 * Every limit of the alert payload (string lengths, numeric ranges, enums, required list sizes) is the same
 * on every path the payload takes: the zod model, the JSON Schemas Fastify validates requests and writes
 * responses with, and the notification job payload. The limits are read from the model; each path is then
 * checked by behaviour (at the limit accepted, one past it refused) and by the schema it publishes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { alertDoc, locationInput, raiseInput, transitionInput, type AlertDoc } from '../alerts/model.js';
import { notificationEventSchema } from '../queue/events.js';
import { alertSchema, raiseBodySchema, requestSchema, severitySchema, statusSchema, transitionBodySchema, type JsonSchema } from './schemas.js';
import { validatorCompiler } from './validation.js';

type Path = readonly (string | number)[];
const KEYWORDS = ['type', 'minimum', 'maximum', 'minLength', 'maxLength', 'enum', 'pattern', 'format', 'minItems', 'maxItems'] as const;
type Keyword = (typeof KEYWORDS)[number];
type Limits = Map<string, Partial<Record<Keyword, unknown>>>;

/** Every leaf constraint of a JSON Schema, keyed by its data path (`location.lat`, `history.0.note`). */
function limitsOf(schema: JsonSchema, path: Path = [], out: Limits = new Map()): Limits {
  const own: Partial<Record<Keyword, unknown>> = {};
  for (const k of KEYWORDS) if (schema[k] !== undefined) own[k] = schema[k];
  out.set(path.join('.'), own);
  const props = schema['properties'] as Record<string, JsonSchema> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) limitsOf(v, [...path, k], out);
  const items = schema['items'] as JsonSchema | undefined;
  if (items) limitsOf(items, [...path, 0], out);
  return out;
}

/** The limits under `prefix`, re-keyed relative to it. */
function under(limits: Limits, prefix: string): Limits {
  const out: Limits = new Map();
  for (const [k, v] of limits) {
    if (k === prefix) out.set('', v);
    else if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), v);
  }
  return out;
}

const pick = (limits: Limits, keep: (path: string) => boolean): Limits => new Map([...limits].filter(([k]) => keep(k)));

const MODEL = limitsOf(z.toJSONSchema(alertDoc, { io: 'output' }));

const AT = '2026-01-01T00:00:00.000Z';
const base: AlertDoc = {
  id: '1700000000000-0',
  type: 'fire',
  severity: 'high',
  status: 'acknowledged',
  location: { lat: -33.9, lon: 18.4, accuracy_m: 25, address: '1 Long St' },
  description: 'smoke',
  reporter: { id: 'u_1', username: 'mia' },
  created_at: AT,
  updated_at: AT,
  escalations: 1,
  history: [{ event: 'escalated', at: AT, by: { id: 'u_2', username: 'rita' }, level: 1, note: 'on my way', location: { lat: -33.9, lon: 18.4, accuracy_m: 25, address: '1 Long St' } }],
  assignee: { id: 'u_2', username: 'rita', at: AT, distance_m: 120 },
  related: ['1700000000001-0'],
};

function withValue(doc: AlertDoc, path: Path, value: unknown): AlertDoc {
  const copy = structuredClone(doc) as unknown as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = value;
  return copy as unknown as AlertDoc;
}

type Check = ((data: unknown) => boolean) & { errors?: unknown };
const compile = validatorCompiler();
const http = (schema: object, httpPart: string): Check => compile({ schema, httpPart, method: 'POST', url: '/' }) as Check;
const raiseBody = http(raiseBodySchema, 'body');
const transitionBody = http(transitionBodySchema, 'body');
const locationBody = http(requestSchema(locationInput), 'body');
const listQuery = http({ type: 'object', properties: { severity: severitySchema, status: statusSchema } }, 'querystring');

const RAISE_FIELDS = ['type', 'severity', 'location', 'description'] as const;
const raiseOf = (d: AlertDoc): Record<string, unknown> => Object.fromEntries(RAISE_FIELDS.map((k) => [k, d[k]]));
const isRaiseField = (path: string): boolean => RAISE_FIELDS.some((f) => path === f || path.startsWith(`${f}.`));

/** Each path the payload takes: which model fields it carries and whether it accepts a document. */
const PATHS: readonly { name: string; covers: (path: string) => boolean; accepts: (d: AlertDoc) => boolean }[] = [
  { name: 'model (zod alertDoc)', covers: () => true, accepts: (d) => alertDoc.safeParse(d).success },
  { name: 'job payload (zod)', covers: () => true, accepts: (d) => notificationEventSchema.safeParse({ v: 1, event: 'alert.updated', alert: d, at: AT }).success },
  { name: 'raise input (zod)', covers: isRaiseField, accepts: (d) => raiseInput.safeParse(raiseOf(d)).success },
  { name: 'raise body (HTTP)', covers: isRaiseField, accepts: (d) => raiseBody(raiseOf(d)) },
  { name: 'transition input (zod)', covers: (p) => p === 'history.0.note', accepts: (d) => transitionInput.safeParse({ note: d.history[0]?.note }).success },
  { name: 'transition body (HTTP)', covers: (p) => p === 'history.0.note', accepts: (d) => transitionBody({ note: d.history[0]?.note }) },
  { name: 'location input (zod)', covers: (p) => p.startsWith('location.'), accepts: (d) => locationInput.safeParse(d.location).success },
  { name: 'location body (HTTP)', covers: (p) => p.startsWith('location.'), accepts: (d) => locationBody(d.location) },
  {
    name: 'list query (HTTP)',
    covers: (p) => p === 'severity' || p === 'status',
    accepts: (d) => listQuery({ severity: d.severity, status: d.status }),
  },
];

interface Case {
  readonly value: unknown;
  readonly ok: boolean;
  readonly why: string;
}

/** Values at each limit of a leaf (accepted) and just past it (refused). */
function casesFor(l: Partial<Record<Keyword, unknown>>): Case[] {
  const cases: Case[] = [];
  if (Array.isArray(l.enum)) {
    for (const v of l.enum) cases.push({ value: v, ok: true, why: `enum member ${String(v)}` });
    cases.push({ value: 'not-a-member', ok: false, why: 'not an enum member' });
  }
  if (typeof l.minimum === 'number' && l.minimum > Number.MIN_SAFE_INTEGER) {
    cases.push({ value: l.minimum, ok: true, why: 'minimum' }, { value: l.minimum - 1, ok: false, why: 'below minimum' });
  }
  if (typeof l.maximum === 'number' && l.maximum < Number.MAX_SAFE_INTEGER) {
    cases.push({ value: l.maximum, ok: true, why: 'maximum' }, { value: l.maximum + 1, ok: false, why: 'above maximum' });
  }
  if (l.type === 'integer') cases.push({ value: 1.5, ok: false, why: 'not an integer' });
  if (typeof l.maxLength === 'number') {
    // Lengths count code points on every path: an emoji is one character, not two UTF-16 units.
    cases.push({ value: '🔥'.repeat(l.maxLength), ok: true, why: 'maxLength in code points' });
    cases.push({ value: 'a'.repeat(l.maxLength + 1), ok: false, why: 'over maxLength' });
  }
  if (typeof l.minLength === 'number' && l.minLength > 0) {
    cases.push({ value: 'a'.repeat(l.minLength), ok: true, why: 'minLength' }, { value: 'a'.repeat(l.minLength - 1), ok: false, why: 'under minLength' });
  }
  if (l.type === 'string') cases.push({ value: 'x\ud800', ok: false, why: 'ill-formed UTF-16' });
  if (l.format === 'date-time') cases.push({ value: 'yesterday', ok: false, why: 'not a date-time' });
  if (typeof l.pattern === 'string') cases.push({ value: 'no-match', ok: false, why: 'does not match the pattern' });
  if (typeof l.minItems === 'number' && l.minItems > 0) cases.push({ value: [], ok: false, why: 'under minItems' });
  return cases;
}

describe('alert payload limits are the same on every path', () => {
  it('the model has the limits HTTP has always enforced', () => {
    expect(MODEL.get('location.accuracy_m')).toMatchObject({ minimum: 0, maximum: 100_000 });
    expect(MODEL.get('location.address')).toMatchObject({ minLength: 1, maxLength: 500 });
    expect(MODEL.get('location.lat')).toMatchObject({ minimum: -90, maximum: 90 });
    expect(MODEL.get('location.lon')).toMatchObject({ minimum: -180, maximum: 180 });
    expect(MODEL.get('description')).toMatchObject({ maxLength: 2000 });
    expect(MODEL.get('history.0.note')).toMatchObject({ maxLength: 1000 });
    expect(MODEL.get('severity')).toMatchObject({ enum: ['low', 'medium', 'high', 'critical'] });
    expect(MODEL.get('history')).toMatchObject({ minItems: 1 });
  });

  it('every path accepts each value at a limit and refuses each value past it', () => {
    expect(PATHS.every((p) => p.accepts(base)), 'the base document is valid everywhere').toBe(true);
    let checked = 0;
    for (const [key, limit] of MODEL) {
      if (key === '') continue;
      const path = key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
      for (const c of casesFor(limit)) {
        const doc = withValue(base, path, c.value);
        for (const p of PATHS.filter((x) => x.covers(key))) {
          expect(p.accepts(doc), `${p.name}: ${key} ${c.why}`).toBe(c.ok);
          checked++;
        }
      }
    }
    // Guards the walk itself: a schema the walk could not read would check nothing and pass.
    expect(checked).toBeGreaterThan(150);
  });

  it('the JSON Schemas Fastify validates and serialises with publish the model limits', () => {
    expect(limitsOf(alertSchema)).toEqual(MODEL);
    expect(limitsOf(raiseBodySchema)).toEqual(pick(MODEL, (k) => k === '' || isRaiseField(k)));
    expect(under(limitsOf(transitionBodySchema), 'note').get('')).toEqual(MODEL.get('history.0.note'));
    expect(severitySchema).toMatchObject({ enum: MODEL.get('severity')?.enum });
    expect(statusSchema).toMatchObject({ enum: MODEL.get('status')?.enum });
  });

  it('the job payload publishes the model limits', () => {
    const job = limitsOf(z.toJSONSchema(notificationEventSchema, { io: 'output' }));
    expect(under(job, 'alert')).toEqual(MODEL);
  });

  it('request bodies are closed: an unknown field is refused by HTTP and by the model alike', () => {
    const extra = { ...raiseOf(base), priority: 'urgent' };
    expect(raiseBody(extra)).toBe(false);
    expect(raiseInput.safeParse(extra).success).toBe(false);
    const extraInLocation = { ...raiseOf(base), location: { ...base.location, floor: 3 } };
    expect(raiseBody(extraInLocation)).toBe(false);
    expect(raiseInput.safeParse(extraInLocation).success).toBe(false);
    expect(transitionBody({ note: 'x', by: 'me' })).toBe(false);
    expect(transitionInput.safeParse({ note: 'x', by: 'me' }).success).toBe(false);
    expect(transitionBody(null)).toBe(true);
  });
});
