/**
 * Explains a Cluster client that cannot refresh its slots. ioredis reports only "Failed to refresh slots
 * cache" / "None of startup nodes is available", whatever the cause; the usual one after a fresh deployment is
 * nodes started with a `users.acl` rendered for the standalone layout (no `cluster|slots`, `{panic}:*` keys
 * missing), which refuses the very command the client starts with. A plain connection as the role to one
 * startup node and `CLUSTER SLOTS` tells the two apart.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import { connectOnce, isNoPerm, roleRedisOptions } from './connections.js';
import { CLIENT_ROLES, type ClientRole } from './roles.js';

/**
 * True for ioredis' errors when a Cluster client could not load the slot map from any startup node. A
 * command's timeout counts too: Cluster commands are timed from the moment they are issued
 * (connections.ts), so a command waiting for a slot map that never loads times out first.
 */
export function isSlotsRefreshFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'ClusterAllFailedError' || /Failed to refresh slots cache|None of startup nodes is available|^Command timed out/.test(err.message);
}

/** How long one probe may take: the diagnosis runs on an error path and must not hang it. */
const PROBE_TIMEOUT_MS = 3000;

/** `CLUSTER SLOTS` as `role` over a plain connection to the first startup node that accepts the login. 'noperm', 'ok' or undefined (unreachable, wrong password: not this diagnosis). */
async function probe(config: Config, role: ClientRole): Promise<'noperm' | 'ok' | undefined> {
  if (config.topology.kind !== 'cluster' || !config.credentials[role].password) return undefined;
  for (const node of config.topology.nodes) {
    const c = new Redis({
      ...roleRedisOptions(config, config.credentials[role], 'command', `diagnose-${process.pid}`),
      host: node.host,
      port: node.port,
      db: 0,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: false,
      enableReadyCheck: false,
      connectTimeout: PROBE_TIMEOUT_MS,
      commandTimeout: PROBE_TIMEOUT_MS,
      lazyConnect: true,
    });
    c.on('error', () => undefined);
    try {
      await connectOnce(c);
    } catch {
      c.disconnect();
      continue;
    }
    try {
      await c.call('CLUSTER', 'SLOTS');
      return 'ok';
    } catch (err) {
      if (isNoPerm(err)) return 'noperm';
    } finally {
      c.disconnect();
    }
  }
  return undefined;
}

/**
 * On Cluster, after a slots-refresh failure: NABOOM_REDIS_CLUSTER_ACL naming the roles whose ACL user may
 * not run `CLUSTER SLOTS`, or undefined when that is not the cause (nodes down, wrong password, …).
 * `roles` are the roles the failed command connects as (the master role is never the culprit).
 */
export async function diagnoseClusterAcl(config: Config, roles: readonly ClientRole[] = CLIENT_ROLES): Promise<NaboomError | undefined> {
  if (config.topology.kind !== 'cluster') return undefined;
  const candidates = roles.filter((r) => r !== 'master' && config.credentials[r].password);
  const results = await Promise.all(candidates.map(async (role) => ({ role, result: await probe(config, role) })));
  const refused = results.filter((r) => r.result === 'noperm').map((r) => config.credentials[r.role].username);
  if (refused.length === 0) return undefined;
  return new NaboomError(
    'NABOOM_REDIS_CLUSTER_ACL',
    `The Cluster nodes refuse CLUSTER SLOTS to ${refused.join(', ')}: their ACL was rendered for the standalone layout, so no Cluster client can load the slot map ("Failed to refresh slots cache")`,
  );
}
