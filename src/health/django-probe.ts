/**
 * `/health/redis` with the Django profile (DJANGO_COMPAT): each application role also proves the grants the
 * original Django libraries need, on a probe key of the Django namespaces (src/redis/keys.ts), using only
 * commands its ACL grants. Without the profile nothing here runs.
 */
import type { RedisClient } from '../redis/connections.js';
import { djangoKeySpace, type NamespaceOwner } from '../redis/keys.js';

/** Runs the role's Django probe and returns the operations it performed (labelled `django:<COMMAND>`); throws on a refusal. */
export async function djangoProbe(role: NamespaceOwner, client: RedisClient, nonce: string): Promise<string[]> {
  const key = djangoKeySpace().probe(role, nonce);
  const ops: string[] = [];
  const run = async (args: readonly string[]): Promise<unknown> => {
    const r: unknown = await client.call(args[0] ?? '', ...args.slice(1));
    ops.push(`django:${args[0] ?? ''}`);
    return r;
  };
  switch (role) {
    case 'app':
      // Celery's result backend: SETEX, then the state is published on the key's channel.
      await run(['SETEX', key, '10', '1']);
      await run(['PUBLISH', key, '1']);
      await run(['DEL', key]);
      break;
    case 'websocket':
      // channels_redis send() and receive(): ZADD, ZCOUNT, EXPIRE, ZPOPMIN (which also removes the key).
      await run(['ZADD', key, '1', 'm']);
      await run(['ZCOUNT', key, '-inf', '+inf']);
      await run(['EXPIRE', key, '10']);
      await run(['ZPOPMIN', key]);
      break;
    case 'realtime':
      // django-redis on the realtime cache: set, touch (PEXPIRE), has_key (EXISTS), pttl, delete.
      await run(['SET', key, '1', 'PX', '10000']);
      await run(['PEXPIRE', key, '10000']);
      await run(['EXISTS', key]);
      await run(['PTTL', key]);
      await run(['DEL', key]);
      break;
  }
  return ops;
}
