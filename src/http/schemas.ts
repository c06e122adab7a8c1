/** JSON schemas shared by the routes (request validation and fast response serialisation). */
import { ALERT_STATUSES, ALERT_TYPES, SEVERITIES } from '../alerts/model.js';
import { STREAM_ID_FORMAT } from './validation.js';

/** The shape of a stream id only; `streamIdSchema` (and `isStreamId`) also bound each part to what Redis accepts. */
export const streamIdPattern = '^[0-9]{1,20}-[0-9]{1,20}$';

/** A stream id that Redis accepts (`ms-seq`, each part at most 2^64 - 1). */
export const streamIdSchema = { type: 'string', pattern: streamIdPattern, format: STREAM_ID_FORMAT } as const;

export const actorSchema = {
  type: 'object',
  required: ['id', 'username'],
  properties: { id: { type: 'string' }, username: { type: 'string' } },
} as const;

export const locationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['lat', 'lon'],
  properties: {
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lon: { type: 'number', minimum: -180, maximum: 180 },
    accuracy_m: { type: 'number', minimum: 0, maximum: 100000 },
    address: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;

export const alertSchema = {
  type: 'object',
  required: ['id', 'type', 'severity', 'status', 'location', 'reporter', 'created_at', 'updated_at', 'escalations', 'history'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ALERT_TYPES },
    severity: { type: 'string', enum: SEVERITIES },
    status: { type: 'string', enum: ALERT_STATUSES },
    location: {
      type: 'object',
      properties: { lat: { type: 'number' }, lon: { type: 'number' }, accuracy_m: { type: 'number' }, address: { type: 'string' } },
    },
    description: { type: 'string' },
    reporter: actorSchema,
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    escalations: { type: 'integer' },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: { event: { type: 'string' }, at: { type: 'string' }, by: actorSchema, level: { type: 'integer' }, note: { type: 'string' } },
      },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
} as const;

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
