/** Maps Redis and network failures to catalogue errors (used by the CLI and the HTTP error handler). */
import { NaboomError } from '../errors/catalogue.js';

export function classifyRedisError(e: Error): NaboomError | undefined {
  const m = e.message;
  if (/WRONGPASS|invalid username-password/i.test(m)) return new NaboomError('NABOOM_REDIS_AUTH', m, { cause: e });
  if (/^NOPERM/.test(m)) return new NaboomError('NABOOM_REDIS_NOPERM', m, { cause: e });
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|Connection is closed|Reached the max retries|Command timed out|Stream isn't writeable|CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN|Failed to refresh slots cache|None of startup nodes is available/i.test(m)) {
    return new NaboomError('NABOOM_REDIS_UNAVAILABLE', m, { cause: e });
  }
  return undefined;
}
