/**
 * The queue's Redis connections, all from `RoleClients` on the app role and the queue database: we create the
 * clients (BullMQ then shares them and never closes them), so each is named `naboom:app:<pid>:<name>`, counts
 * its NOPERM replies and takes rotated passwords like every other role client.
 *
 * A worker's blocking reads run on a copy BullMQ makes of the worker's client, under BullMQ's own name
 * (`<prefix>:<base64 queue name>:w:<worker name>`, the worker name being `<host>:<pid>`); the copy is adopted
 * into the same registry once BullMQ has connected it, and `verify/acl-log.ts` recognises the name as ours.
 */
import { Cluster, Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import { DATABASES } from '../redis/databases.js';
import type { RedisClient, RoleClients } from '../redis/connections.js';

/**
 * `command` fails fast (producers on the request path); `blocking` waits through outages
 * (`maxRetriesPerRequest: null`, which BullMQ requires of a worker's connection and of its copies).
 */
export type QueueConnectionPurpose = 'command' | 'blocking';

/** The app-role client named `naboom:app:<pid>:<name>` on the queue database. */
export function queueClient(clients: RoleClients, purpose: QueueConnectionPurpose, name: string): RedisClient {
  return clients.dedicated('app', name, { purpose, db: DATABASES.queue });
}

/**
 * Adopts the blocking copy BullMQ made of the worker's client (call once the worker is ready) and returns it.
 * BullMQ hands it out as its ioredis adapter, which forwards to the ioredis client it wraps. Throws when it is
 * not one: a copy outside the registry would miss rotated passwords and lose its connection for good.
 */
export async function adoptBlockingClient(clients: RoleClients, worker: Worker<unknown, unknown, string>): Promise<RedisClient> {
  const copy: unknown = await worker.getBackend().blockingClient;
  if (!(copy instanceof Redis || copy instanceof Cluster)) throw new Error('BullMQ did not open its blocking connection as an ioredis client of ours');
  clients.adopt('app', copy);
  return copy;
}
