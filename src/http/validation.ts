/**
 * Request validation for every route: one Ajv instance that never coerces (bodies, params, headers) and one
 * that coerces scalars (query strings, which are text by nature: `?limit=20`). Before either runs, every
 * string and property name of the request part is checked to be well-formed UTF-16: a lone surrogate
 * (`"\ud800"` in JSON) would be stored, then refused by Redis' Lua cjson on every later read of the alert.
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { isWellFormedText } from '../alerts/model.js';
import { isStreamId } from '../alerts/stream-id.js';

const BASE: Options = { useDefaults: true, removeAdditional: false, allErrors: false };

/** The Ajv keyword format for stream ids (see `isStreamId`): `{ type: 'string', format: 'stream-id' }`. */
export const STREAM_ID_FORMAT = 'stream-id';

function makeAjv(coerceTypes: false | 'array'): Ajv {
  const ajv = new Ajv({ ...BASE, coerceTypes });
  ajv.addFormat(STREAM_ID_FORMAT, { type: 'string', validate: isStreamId });
  return ajv;
}

const pointer = (path: string, key: string): string => `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * Whether every string and property name in `data` is well-formed UTF-16: the check every request part takes,
 * without building a path for each value (only a failure needs one, from `findIllFormedText`).
 */
function allWellFormed(data: unknown): boolean {
  // Iterative: a deeply nested body must not overflow the stack of the check meant to protect us.
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (!isWellFormedText(value)) return false;
    } else if (Array.isArray(value)) {
      for (const v of value as unknown[]) stack.push(v);
    } else if (value !== null && typeof value === 'object') {
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue;
        if (!isWellFormedText(k)) return false;
        stack.push((value as Record<string, unknown>)[k]);
      }
    }
  }
  return true;
}

/** The first string or property name in `data` that is not well-formed UTF-16, as a validation error. */
export function findIllFormedText(data: unknown): FastifySchemaValidationError | undefined {
  if (allWellFormed(data)) return undefined;
  // Iterative: a deeply nested body must not overflow the stack of the check meant to protect us.
  const stack: [unknown, string][] = [[data, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (!isWellFormedText(value)) return illFormed(path, 'must be well-formed UTF-16 text (it contains a lone surrogate)');
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i] as unknown, `${path}/${i}`]);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (!isWellFormedText(k)) return illFormed(path, 'must not have a property name that is ill-formed UTF-16 text (a lone surrogate)');
        stack.push([v, pointer(path, k)]);
      }
    }
  }
  return undefined;
}

function illFormed(instancePath: string, message: string): FastifySchemaValidationError {
  return { keyword: 'wellFormed', instancePath, schemaPath: '#/wellFormed', params: {}, message };
}

/** The validator compiler for `app.setValidatorCompiler`: strict bodies, coerced query strings, well-formed text everywhere. */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  return ({ schema, httpPart }) => {
    const check = (httpPart === 'querystring' ? coercing : strict).compile(schema as object);
    const validate = (data: unknown): boolean => {
      const bad = findIllFormedText(data);
      if (bad) {
        validate.errors = [bad];
        return false;
      }
      const ok = check(data);
      validate.errors = ok ? null : (check.errors ?? []).map(toFastify);
      return ok;
    };
    validate.errors = null as FastifySchemaValidationError[] | null;
    return validate;
  };
}

const toFastify = (e: ErrorObject): FastifySchemaValidationError => ({
  keyword: e.keyword,
  instancePath: e.instancePath,
  schemaPath: e.schemaPath,
  params: e.params,
  ...(e.message !== undefined ? { message: e.message } : {}),
});
