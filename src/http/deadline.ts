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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NaboomError } from '../errors/catalogue.js';
import { sendError } from './errors.js';

/** Routes that stream for as long as the client stays (exempt from the deadline). */
export const LONG_LIVED_ROUTES: ReadonlySet<string> = new Set(['/api/emergency/stream', '/ws']);

/** At most one log line per this many ms about late answers. */
const LOG_INTERVAL_MS = 5000;

const DEADLINE_MESSAGE = 'The request was not answered in time; retry shortly (for an alert, with the same Idempotency-Key)';

function exempt(req: FastifyRequest): boolean {
  return req.headers.upgrade !== undefined || LONG_LIVED_ROUTES.has(req.routeOptions.url ?? '');
}

/** Answers 503 NABOOM_UNAVAILABLE + Retry-After for any request still unanswered `deadlineMs` after it arrived. */
export function registerDeadline(app: FastifyInstance, deadlineMs: number): void {
  let lastLog = 0;
  let unlogged = 0;
  const expire = (req: FastifyRequest, reply: FastifyReply): void => {
    if (reply.sent || reply.raw.headersSent) return;
    sendError(reply, new NaboomError('NABOOM_UNAVAILABLE', DEADLINE_MESSAGE, { details: { deadline_ms: deadlineMs } }));
    // The handler is still running: whatever it sends, returns or throws later is dropped. Fastify would
    // otherwise send it (the 503 is still in its onSend hooks) or log "reply already sent" per request.
    reply.send = () => reply;
    reply.log = req.log.child({}, { level: 'silent' });
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
