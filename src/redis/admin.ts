/**
 * Administrative connections as the master role, one per node, for provisioning and verification. They do
 * not retry: a wrong password or an unreachable node fails once, with a clear error.
 */
import { Redis } from 'ioredis';
import type { Config, HostPort } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import { connectOnce, roleRedisOptions } from './connections.js';
import { sentinelView } from './sentinel.js';
import { explainConnectError } from './tls.js';

export interface NodeRef extends HostPort {
  /** `master` or `replica` as the node reports it. */
  readonly role?: string;
}

export const nodeName = (n: HostPort): string => `${n.host}:${n.port}`;

/** Connects as the master role to one node (default: the configured standalone node). */
export async function connectAdmin(config: Config, target?: HostPort): Promise<Redis> {
  const opts = roleRedisOptions(config, config.credentials.master, 'command', `admin-${process.pid}`);
  const host = target?.host ?? (config.topology.kind === 'standalone' ? config.topology.host : undefined);
  const port = target?.port ?? (config.topology.kind === 'standalone' ? config.topology.port : undefined);
  const direct = host !== undefined && port !== undefined;
  const client = new Redis({
    ...opts,
    ...(direct ? { host, port, sentinels: undefined, name: undefined, role: undefined } : {}),
    db: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: false,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  try {
    await connectOnce(client);
  } catch (cause) {
    client.disconnect();
    const m = (cause as Error).message;
    const where = direct ? `${host}:${port}` : 'the Sentinel master';
    const tls = await explainConnectError(cause, config.tls, direct ? { host, port } : undefined, where);
    if (tls) throw tls;
    if (/WRONGPASS|invalid username-password/i.test(m)) {
      throw new NaboomError('NABOOM_REDIS_AUTH', `${where}: the master role (${config.credentials.master.username}) was refused: ${m}`, { cause });
    }
    throw new NaboomError('NABOOM_REDIS_UNAVAILABLE', `${where}: ${m}`, { cause });
  }
  return client;
}

/** Every node of the deployment: the master and its replicas, or every cluster node. */
export async function listNodes(config: Config): Promise<NodeRef[]> {
  const t = config.topology;
  if (t.kind === 'standalone') {
    const admin = await connectAdmin(config);
    try {
      return [{ host: t.host, port: t.port, role: 'master' }, ...(await replicasOf(admin))];
    } finally {
      admin.disconnect();
    }
  }
  if (t.kind === 'cluster') {
    let lastErr: unknown;
    for (const seed of t.nodes) {
      let admin: Redis | undefined;
      try {
        admin = await connectAdmin(config, seed);
        const text = String(await admin.call('CLUSTER', 'NODES'));
        return parseClusterNodes(text, seed.host);
      } catch (err) {
        lastErr = err;
      } finally {
        admin?.disconnect();
      }
    }
    throw lastErr instanceof Error ? lastErr : new NaboomError('NABOOM_REDIS_UNAVAILABLE', 'No cluster node answered');
  }
  const view = await sentinelView(config);
  return [{ ...view.master, role: 'master' }, ...view.replicas.map((r) => ({ ...r, role: 'replica' }))];
}

async function replicasOf(admin: Redis): Promise<NodeRef[]> {
  const info = await admin.info('replication');
  const out: NodeRef[] = [];
  for (const line of info.split(/\r?\n/)) {
    const m = /^slave\d+:ip=([^,]+),port=(\d+)/.exec(line);
    if (m?.[1] && m[2]) out.push({ host: m[1], port: Number(m[2]), role: 'replica' });
  }
  return out;
}

/** Parses CLUSTER NODES output into node references (skipping failed/handshake nodes). */
export function parseClusterNodes(text: string, fallbackHost: string): NodeRef[] {
  const out: NodeRef[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 3) continue;
    const addr = parts[1] ?? '';
    const flags = parts[2] ?? '';
    if (flags.includes('fail') || flags.includes('handshake') || flags.includes('noaddr')) continue;
    const m = /^([^:]*):(\d+)/.exec(addr);
    if (!m || !m[2]) continue;
    out.push({ host: m[1] || fallbackHost, port: Number(m[2]), role: flags.includes('master') ? 'master' : 'replica' });
  }
  return out;
}
