/**
 * The one error handler: every error becomes `{"error":{"code","message","details"?}}` with the status from
 * the catalogue. Unknown errors are a generic 500 whose detail stays in the log under an error id.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, isNaboomError, NaboomError, type ErrorCode } from '../errors/catalogue.js';
import { redisFailureKind } from '../redis/errors.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'NABOOM_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'NABOOM_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'NABOOM_BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'NABOOM_BAD_REQUEST',
};

/** The answer for a Redis-side failure: retryable 503s, except an ACL refusal (a missing grant is a bug). */
function fromRedisFailure(err: unknown): NaboomError | undefined {
  switch (redisFailureKind(err)) {
    case 'unavailable':
    case 'auth':
      return new NaboomError('NABOOM_UNAVAILABLE', 'Redis is unavailable; retry shortly', { cause: err });
    case 'not-replicated':
      return new NaboomError('NABOOM_NOT_REPLICATED', 'Too few replicas are connected to accept the write; retry with the same Idempotency-Key', { cause: err });
    case 'noperm':
      return new NaboomError('NABOOM_INTERNAL', undefined, { cause: err });
    case undefined:
      return undefined;
  }
}

/** Catalogue codes meant for the CLI that have an API equivalent. */
const API_EQUIVALENT: Partial<Record<ErrorCode, ErrorCode>> = {
  NABOOM_REDIS_UNAVAILABLE: 'NABOOM_UNAVAILABLE',
  NABOOM_REDIS_AUTH: 'NABOOM_UNAVAILABLE',
  NABOOM_REDIS_NOPERM: 'NABOOM_INTERNAL',
};

/** Turns anything thrown into a catalogue error. */
export function toNaboomError(err: unknown): NaboomError {
  if (isNaboomError(err)) {
    // An internal error that wraps a Redis failure (a reply we could not use because Redis failed) is that
    // failure; a 503 that wraps an ACL refusal (an enqueue refused with NOPERM) is the bug it is.
    if (err.code === 'NABOOM_INTERNAL' && err.cause !== undefined) return fromRedisFailure(err.cause) ?? err;
    if (err.status === 503 && redisFailureKind(err.cause) === 'noperm') return new NaboomError('NABOOM_INTERNAL', undefined, { cause: err });
    const api = API_EQUIVALENT[err.code];
    if (api === 'NABOOM_INTERNAL') return new NaboomError(api, undefined, { cause: err });
    return api ? new NaboomError(api, 'Redis is unavailable; retry shortly', { cause: err }) : err;
  }
  const e = err as Partial<FastifyError> & Error;
  if (e.validation) {
    const details = e.validation.map((v) => ({ path: `${e.validationContext ?? 'body'}${v.instancePath}`, message: v.message ?? 'invalid' }));
    const first = details[0];
    return new NaboomError('NABOOM_VALIDATION', first ? `${first.path} ${first.message}` : 'Invalid request', { details });
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new NaboomError(mapped, mapped === 'NABOOM_BAD_REQUEST' ? e.message : undefined);
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e.statusCode === 400 && /JSON/.test(e.message))) {
    return new NaboomError('NABOOM_BAD_REQUEST', 'The body is not valid JSON');
  }
  const redis = fromRedisFailure(err);
  if (redis) return redis;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new NaboomError('NABOOM_BAD_REQUEST', e.message);
  }
  return new NaboomError('NABOOM_INTERNAL', undefined, { cause: err });
}

/** The body every HTTP error answers with (the API, and the worker's metrics endpoint). */
export function errorBody(err: NaboomError): ErrorBody {
  return { error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } };
}

/** Sends a catalogue error in the API format; 503s carry Retry-After. */
export function sendError(reply: FastifyReply, err: NaboomError): FastifyReply {
  const body = errorBody(err);
  if (err.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  return reply.code(err.status).type('application/json').send(body);
}

/** At most one log line per this many ms for retryable 503s (an outage answers thousands of them). */
const UNAVAILABLE_LOG_INTERVAL_MS = 5000;

export function installErrorHandling(app: FastifyInstance): void {
  let lastUnavailableLog = 0;
  let suppressed = 0;
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = toNaboomError(err);
    if (e.code === 'NABOOM_INTERNAL') {
      const errorId = randomUUID();
      req.log.error({ errorId, err, url: req.url, method: req.method }, 'request failed');
      return sendError(reply, new NaboomError('NABOOM_INTERNAL', `${ERRORS.NABOOM_INTERNAL.message} (error id ${errorId})`));
    }
    if (e.status >= 500) {
      const now = Date.now();
      if (now - lastUnavailableLog >= UNAVAILABLE_LOG_INTERVAL_MS) {
        req.log.warn({ code: e.code, err: e.cause ?? err, url: req.url, method: req.method, suppressed }, 'request refused: service unavailable');
        lastUnavailableLog = now;
        suppressed = 0;
      } else {
        suppressed += 1;
      }
    }
    return sendError(reply, e);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new NaboomError('NABOOM_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0] ?? ''}`)));
}
