/**
 * Logging through pino with every secret redacted: passwords, tokens, cookies, SECRET_KEY, and the
 * arguments of AUTH/HELLO (ioredis attaches the failed command, arguments included, to its errors).
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'SECRET_KEY',
  '*.SECRET_KEY',
  'VAPID_PRIVATE_KEY',
  '*.VAPID_PRIVATE_KEY',
  'privateKey',
  '*.privateKey',
  'authorization',
  'cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-naboom-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'args',
  '*.args',
];

const SECRET_COMMANDS = new Set(['auth', 'hello', 'acl', 'migrate', 'config']);

/** Error serializer that drops command arguments (they may hold a password) and keeps the useful parts. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const e = err as Error & { code?: unknown; command?: { name?: unknown }; stack?: string; cause?: unknown };
  if (e.code !== undefined) out['code'] = e.code;
  if (e.command && typeof e.command === 'object') {
    const name = typeof e.command.name === 'string' ? e.command.name : 'unknown';
    out['command'] = SECRET_COMMANDS.has(name.toLowerCase()) ? `${name} [args redacted]` : name;
  }
  if (e.stack) out['stack'] = e.stack;
  if (e.cause !== undefined) out['cause'] = serializeError(e.cause);
  return out;
}

export interface LogOptions {
  level: string;
  name?: string;
  destination?: DestinationStream;
}

/** Creates the process logger. Pass it down; do not import a global. */
export function createLogger(opts: LogOptions): Logger {
  const options: LoggerOptions = {
    level: opts.level,
    name: opts.name ?? 'naboom',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    base: { pid: process.pid },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}
