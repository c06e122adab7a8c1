/** `naboom verify` round trip for the caches: set, get and delete one value in each named cache. */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Metrics } from '../metrics/registry.js';
import { RoleClients } from '../redis/connections.js';
import type { CheckResult, VerifyContext } from '../verify/types.js';
import { createCaches } from './caches.js';

export async function cacheRoundTrips(ctx: VerifyContext): Promise<CheckResult[]> {
  const clients = new RoleClients(ctx.config, ctx.logger);
  const metrics = new Metrics();
  const caches = createCaches({ clients, keys: ctx.keys, logger: ctx.logger, metrics });
  const out: CheckResult[] = [];
  try {
    for (const cache of Object.values(caches)) {
      const key = `verify-probe:${randomBytes(6).toString('hex')}`;
      const value = { probe: key };
      const stored = await cache.set(key, value, 30);
      const read = await cache.get(key, z.object({ probe: z.string() }));
      const deleted = await cache.delete(key);
      const ok = stored && read?.probe === key && deleted;
      out.push({
        section: 'roundtrip',
        role: cache.name === 'realtime' ? 'realtime' : 'app',
        name: `cache "${cache.name}" set → get → delete`,
        status: ok ? 'pass' : 'fail',
        detail: ok ? `${cache.key(key).replace(key, '…')} ok` : `stored=${stored} read=${read ? 'yes' : 'no'} deleted=${deleted}`,
        hint: ok ? undefined : 'See the log lines above (cache errors are logged) and run `naboom acl diff`.',
      });
    }
  } finally {
    await clients.close();
  }
  return out;
}
