/**
 * Maps Redis and network failures to catalogue errors (used by the CLI and the HTTP error handler).
 *
 * ioredis reports a failure in one of three shapes: a server reply (`ReplyError`, whose first word is the
 * Redis error code, also when it comes out of a Lua script), one of its own errors (`MaxRetriesPerRequestError`,
 * `ClusterAllFailedError`, `AbortError`, plain `Error`s with fixed messages such as "Connection is closed.") or
 * a socket error with a Node `code` (ECONNREFUSED…). Classes are checked where ioredis exports them; the rest by
 * their stable names and messages (see the table in errors.test.ts).
 */
import { ReplyError as IoredisReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { NaboomError } from '../errors/catalogue.js';

/**
 * What a Redis-side failure means for the caller:
 * - `unavailable`: Redis cannot serve this now (down, failing over, loading, timed out); retrying later works.
 * - `not-replicated`: the write was refused or not confirmed because too few replicas are connected.
 * - `auth`: the server refused the credentials (rotation in progress or a wrong password).
 * - `noperm`: the ACL refused a command — a missing grant, i.e. a bug, never retried into success.
 */
export type RedisFailureKind = 'unavailable' | 'not-replicated' | 'auth' | 'noperm';

const ReplyError = IoredisReplyError as new (message?: string) => Error;
/** A reply from the server (not narrowed: every ioredis error is structurally an Error). */
const isReply = (e: Error): boolean => e instanceof ReplyError;

/** Server error codes that mean "not now": the node is a replica, loading, failing over or blocked. */
const UNAVAILABLE_CODES = new Set(['READONLY', 'LOADING', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'MOVED', 'ASK', 'BUSY', 'MISCONF', 'OOM', 'UNBLOCKED']);
const AUTH_CODES = new Set(['WRONGPASS', 'NOAUTH']);
/** The same codes when a Lua script passes them on (Redis 6: "-CODE" after the script position; 7: the code first). */
const IN_SCRIPT = /(?:^|[\s:-])(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|BUSY|MISCONF|OOM|NOREPLICAS|NOPERM|WRONGPASS|NOAUTH)\s/;
const SCRIPT_ERROR = /Error running script|user_script|script: [0-9a-f]{40}/;
/** Redis 7 reports a command a script may not run under the caller's ACL user without the NOPERM code. */
const SCRIPT_NOPERM = /The user executing the script can't run this command|No permissions to access a key|No permissions to access a channel/;

/** Messages of ioredis' own errors (and Node's socket errors) that mean the connection cannot serve now. */
const CLIENT_UNAVAILABLE =
  /^(Connection is closed\.?|Command timed out|Command aborted due to connection close|Stream isn't writeable and enableOfflineQueue options is false|Cluster isn't ready and enableOfflineQueue options is false|Too many Cluster redirections|None of startup nodes is available|Failed to refresh slots cache|Node is disconnected|Cluster is disconnect(ed|ing)\.?|Cluster is ended\.?|Connection is discarded because a new connection is made|Connection is aborted|No master node is available for the pipeline|All sentinels are unreachable|connect ETIMEDOUT|Reached the max retries per request limit)/;
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED']);
/** ioredis' error class names (stable: each class reports its constructor's name). */
const CLIENT_ERROR_NAMES = new Set(['ClusterAllFailedError', 'MaxRetriesPerRequestError', 'AbortError', 'InterruptError']);

function replyKind(message: string): RedisFailureKind | undefined {
  const code = /^[A-Z]+/.exec(message)?.[0] ?? '';
  if (code === 'NOPERM') return 'noperm';
  if (AUTH_CODES.has(code)) return 'auth';
  if (code === 'NOREPLICAS') return 'not-replicated';
  if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
  if (code === 'ERR' && SCRIPT_ERROR.test(message)) {
    if (SCRIPT_NOPERM.test(message)) return 'noperm';
    const inner = IN_SCRIPT.exec(message.slice(4))?.[1];
    if (inner) return replyKind(`${inner} `);
  }
  if (/invalid username-password pair/.test(message)) return 'auth';
  return undefined;
}

function ownKind(e: Error): RedisFailureKind | undefined {
  if (isReply(e)) return replyKind(e.message);
  if (e.name === 'ClusterAllFailedError') {
    // Every node refused the slots query: a NOPERM there is a layout/ACL mismatch, not an outage.
    const last = (e as Error & { lastNodeError?: unknown }).lastNodeError;
    return last instanceof Error && ownKind(last) === 'noperm' ? 'noperm' : 'unavailable';
  }
  if (e instanceof MaxRetriesPerRequestError || CLIENT_ERROR_NAMES.has(e.name)) return 'unavailable';
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return 'unavailable';
  if (CLIENT_UNAVAILABLE.test(e.message)) return 'unavailable';
  // A reply re-thrown as a plain Error (BullMQ, our own wrappers) still starts with the Redis code.
  return replyKind(e.message);
}

/**
 * The kind of Redis-side failure `err` is, looking through `cause` chains (BullMQ and our own wrappers keep
 * the original there); undefined when it is not a Redis failure (a bug, bad input).
 */
export function redisFailureKind(err: unknown): RedisFailureKind | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth += 1) {
    const kind = ownKind(e);
    if (kind) return kind;
    e = e.cause;
  }
  return undefined;
}

/** True for an ACL refusal, including one raised inside a Lua script. */
export function isNoPermError(err: unknown): boolean {
  return redisFailureKind(err) === 'noperm';
}

/** A Redis-side failure as a CLI-facing catalogue error (REDIS_UNAVAILABLE, REDIS_AUTH, REDIS_NOPERM), or undefined. */
export function classifyRedisError(e: Error): NaboomError | undefined {
  const kind = redisFailureKind(e);
  const m = e.message;
  switch (kind) {
    case 'auth':
      return new NaboomError('NABOOM_REDIS_AUTH', m, { cause: e });
    case 'noperm':
      return new NaboomError('NABOOM_REDIS_NOPERM', m, { cause: e });
    case 'unavailable':
    case 'not-replicated':
      return new NaboomError('NABOOM_REDIS_UNAVAILABLE', m, { cause: e });
    case undefined:
      return undefined;
  }
}
