/**
 * JSON Schemas shared by the routes (request validation and fast response serialisation). The alert payloads
 * are derived from the zod model in alerts/model.ts, so HTTP validation and the model cannot disagree; only
 * shapes that have no zod schema (stream ids with their custom format, users, health reports) are written here.
 */
import { z } from 'zod';
import { alertDoc, raiseInput, transitionInput } from '../alerts/model.js';
import { STREAM_ID_FORMAT } from './validation.js';

export type JsonSchema = Record<string, unknown>;

/**
 * Draft 7: what Fastify's Ajv 8 (the default `Ajv` class, see validation.ts) and fast-json-stringify read.
 * `$schema` is dropped because Ajv would look for that meta-schema by URI.
 */
function toJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { target: 'draft-07', io, unrepresentable: 'throw' }) as JsonSchema;
  return json;
}

/** Closes every object of a request schema: an unknown field is a 400, never silently ignored. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) closeObjects(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as JsonSchema;
  if (o['type'] === 'object' && o['properties'] !== undefined) o['additionalProperties'] = false;
  for (const v of Object.values(o)) closeObjects(v);
}

/** The JSON Schema of a request part: the input side of `schema` (defaults optional), every object closed. */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const json = toJson(schema, 'input');
  closeObjects(json);
  return json;
}

/** The JSON Schema of a response: the output side of `schema`, so fast-json-stringify writes only its fields. */
export const responseSchema = (schema: z.ZodType): JsonSchema => toJson(schema, 'output');

/** The OpenAPI `security` of a route that needs a login: a bearer token or the session cookie (see openapi.ts). */
export const SIGNED_IN: readonly Record<string, readonly string[]>[] = [{ bearer: [] }, { session: [] }];

/** The shape of a stream id only; `streamIdSchema` (and `isStreamId`) also bound each part to what Redis accepts. */
export const streamIdPattern = '^[0-9]{1,20}-[0-9]{1,20}$';

/** A stream id that Redis accepts (`ms-seq`, each part at most 2^64 - 1). */
export const streamIdSchema = { type: 'string', pattern: streamIdPattern, format: STREAM_ID_FORMAT } as const;

/** POST /api/emergency/alerts body. */
export const raiseBodySchema = requestSchema(raiseInput);

/**
 * Lifecycle action body: the note object, or no body at all (`null`). One schema rather than anyOf, so a bad
 * note is reported as `body/note …`, not as "body must be null".
 */
export const transitionBodySchema = { ...requestSchema(transitionInput), type: ['object', 'null'] };

export const alertSchema = responseSchema(alertDoc);

export const severitySchema = requestSchema(alertDoc.shape.severity);
export const statusSchema = requestSchema(alertDoc.shape.status);

export const errorSchema = responseSchema(
  z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) }),
);

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: streamIdSchema },
} as const;

export const userSchema = {
  type: 'object',
  required: ['id', 'username', 'role'],
  properties: { id: { type: 'string' }, username: { type: 'string' }, role: { type: 'string' } },
} as const;
