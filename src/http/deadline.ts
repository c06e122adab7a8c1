/**
 * The request deadline: every API request is answered within `REQUEST_DEADLINE_MS`. Redis calls on request
 * paths have their own, shorter timeouts (REDIS_COMMAND_TIMEOUT_MS), so this is a backstop for whatever still
 * waits (a chain of slow calls, a wait nobody bounded): the client gets a clean 503 with Retry-After it can act
 * on instead of a hanging connection. The handler that answers late finds its reply already sent and is
 * ignored; that it happened is logged once per interval with a count, not once per request.
 *
 * The live feeds (SSE, WebSocket) are long-lived by design and exempt; so is any response that has already
 * started (a hijacked reply writes its own bytes).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NaboomError } from '../errors/catalogue.js';
import { errorBody } from './errors.js';

/** Routes that stream for as long as the client stays (exempt from the deadline). */
export const LONG_LIVED_ROUTES: ReadonlySet<string> = new Set(['/api/emergency/stream', '/ws']);

/** At most one log line per this many ms about late answers. */
const LOG_INTERVAL_MS = 5000;

const DEADLINE_MESSAGE = 'The request was not answered in time; retry shortly (for an alert, with the same Idempotency-Key)';

function exempt(req: FastifyRequest): boolean {
  return req.headers.upgrade !== undefined || LONG_LIVED_ROUTES.has(req.routeOptions.url ?? '');
}

/** Headers every answer carries (the app's security headers), given the request. */
export type CommonHeaders = (req: FastifyRequest) => Record<string, string>;

/**
 * Answers 503 NABOOM_UNAVAILABLE + Retry-After for any request still unanswered `deadlineMs` after it arrived.
 * The answer is written on the raw response of a hijacked reply, not through `reply.send`: the onSend hooks
 * may wait on Redis themselves (a rolling session is saved there), and while they ran, the late handler could
 * still change the status (`reply.code(201)`) or send a second answer. Hijacked, the reply counts as sent at
 * once: Fastify runs no further hook or handler for it and ignores what the handler returns.
 */
export function registerDeadline(app: FastifyInstance, deadlineMs: number, commonHeaders: CommonHeaders = () => ({})): void {
  let lastLog = 0;
  let unlogged = 0;
  const expire = (req: FastifyRequest, reply: FastifyReply): void => {
    if (reply.sent || reply.raw.headersSent) return;
    const err = new NaboomError('NABOOM_UNAVAILABLE', DEADLINE_MESSAGE, { details: { deadline_ms: deadlineMs } });
    const body = JSON.stringify(errorBody(err));
    reply.hijack();
    // A late `reply.send` or a late throw would each log a line ("Reply was already sent", "Promise errored"):
    // the count below reports them instead.
    reply.log = req.log.child({}, { level: 'silent' });
    // Whatever the hooks set so far (rate-limit headers), then the common ones and the error's own.
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
    Object.assign(headers, commonHeaders(req), { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': '1' });
    reply.raw.writeHead(err.status, headers);
    reply.raw.end(body);
    unlogged += 1;
    const now = Date.now();
    if (now - lastLog >= LOG_INTERVAL_MS) {
      req.log.warn({ url: req.url, method: req.method, deadlineMs, count: unlogged }, 'requests not answered within the deadline (answered 503)');
      lastLog = now;
      unlogged = 0;
    }
  };
  app.addHook('onRequest', (req, reply, done) => {
    if (exempt(req)) {
      done();
      return;
    }
    const timer = setTimeout(expire, deadlineMs, req, reply);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}
