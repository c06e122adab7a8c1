/**
 * Local Sentinel and Cluster topologies on loopback, for `naboom redis --sentinel|--cluster` and the test
 * suite: every node runs with our generated ACL file and AOF on; replicas log in to their master as
 * `replica_user`; Sentinels log in to the nodes as `sentinel_user` and accept the app with the same user.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config, HostPort } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import { connectAdmin } from '../redis/admin.js';
import { hashPassword } from '../redis/acl/rules.js';
import { sentinelConnection } from '../redis/sentinel.js';
import { startProvisionedNode } from './provisioned.js';
import { findRedisServer, freePort, launch, tlsDirectives, type LaunchedProcess, type LocalTlsOptions, type RunningRedis } from './redis-server.js';
import { waitFor, WaitTimeoutError } from './wait.js';

export interface SentinelTopology {
  readonly masterName: string;
  readonly nodes: RunningRedis[];
  readonly sentinels: LaunchedProcess[];
  readonly sentinelAddresses: HostPort[];
  /** Environment to point Naboom at this topology. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export interface ClusterTopology {
  readonly nodes: RunningRedis[];
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  /** Data directory; one sub-directory per process. */
  readonly dir: string;
  /** Ports to use; free ones are picked when absent. */
  readonly ports?: readonly number[];
  readonly appendonly?: boolean;
  readonly onLine?: (who: string, line: string) => void;
  /** Cluster only: the ACL file every node starts with instead of the Cluster-layout one (to reproduce a misconfiguration). */
  readonly aclFileContent?: (config: Config) => string;
  /**
   * Every node and Sentinel TLS-only, replicating (`tls-replication`) and gossiping (`tls-cluster`) over TLS;
   * `config` must then connect with TLS (its admin connections wait for the topology).
   */
  readonly tls?: LocalTlsOptions;
}

const HOST = '127.0.0.1';

function secret(config: Config, role: 'replica' | 'sentinel'): { user: string; password: string } {
  const c = config.credentials[role];
  if (!c.password) throw new NaboomError('NABOOM_CONFIG_MISSING_SECRET', `Missing or empty: ${c.passwordVariable} (needed by the local ${role}s)`);
  return { user: c.username, password: c.password.reveal() };
}

async function ports(count: number, given?: readonly number[], withBus = false): Promise<number[]> {
  if (given) {
    if (given.length < count) throw new NaboomError('NABOOM_USAGE', `need ${count} ports`);
    return given.slice(0, count);
  }
  const out: number[] = [];
  while (out.length < count) {
    const p = await freePort();
    // Cluster nodes also listen on port + 10000 (the cluster bus).
    if (withBus && p + 10_000 > 65_535) continue;
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Polls `check` (errors mean "not yet") until it holds; a node that never gets there fails the start. */
async function untilReady(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  try {
    await waitFor(what, check, { timeoutMs, intervalMs: 100, ignoreErrors: true });
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new NaboomError('NABOOM_REDIS_START_FAILED', err.message, { cause: err });
    throw err;
  }
}

function sentinelConf(port: number, dir: string, masterName: string, master: HostPort, s: { user: string; password: string }, tls?: LocalTlsOptions): string {
  return [
    // With TLS the Sentinel listens on TLS only and reaches the nodes and the other Sentinels over TLS.
    ...(tls ? [...tlsDirectives(tls, port), 'tls-replication yes'] : [`port ${port}`]),
    `bind ${HOST}`,
    'daemonize no',
    'logfile ""',
    `dir ${dir}`,
    'sentinel resolve-hostnames no',
    // Nobody talks to a Sentinel anonymously; the app and the other Sentinels log in as sentinel_user.
    'user default off',
    `user ${s.user} on #${hashPassword(s.password)} ~* &* +@all`,
    `sentinel sentinel-user ${s.user}`,
    `sentinel sentinel-pass ${s.password}`,
    `sentinel monitor ${masterName} ${master.host} ${master.port} 2`,
    `sentinel auth-user ${masterName} ${s.user}`,
    `sentinel auth-pass ${masterName} ${s.password}`,
    `sentinel down-after-milliseconds ${masterName} 1000`,
    `sentinel failover-timeout ${masterName} 5000`,
    `sentinel parallel-syncs ${masterName} 1`,
    '',
  ].join('\n');
}


/** 1 master, 1 replica, 3 Sentinels. */
export async function startSentinelTopology(config: Config, o: TopologyOptions): Promise<SentinelTopology> {
  const masterName = config.topology.kind === 'sentinel' ? config.topology.masterName : config.settings.REDIS_SENTINEL_MASTER;
  const [p0, p1, s0, s1, s2] = await ports(5, o.ports);
  const repl = secret(config, 'replica');
  const sen = secret(config, 'sentinel');
  const started: LaunchedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of [...started].reverse()) await p.stop();
  };
  try {
    const node = (port: number, name: string, replicaOf?: HostPort): Promise<RunningRedis> =>
      startProvisionedNode({
        config,
        port,
        dir: join(o.dir, name),
        appendonly: o.appendonly ?? true,
        replicationAuth: repl,
        ...(replicaOf ? { replicaOf } : {}),
        ...(o.tls ? { tls: o.tls } : {}),
        onLine: o.onLine ? (l) => o.onLine?.(name, l) : undefined,
      });
    const master = await node(p0 as number, `node-${p0}`);
    started.push(master);
    const replica = await node(p1 as number, `node-${p1}`, { host: HOST, port: p0 as number });
    started.push(replica);
    const sentinels: LaunchedProcess[] = [];
    const bin = findRedisServer();
    for (const sp of [s0, s1, s2] as number[]) {
      const dir = resolve(join(o.dir, `sentinel-${sp}`));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(conf, sentinelConf(sp, dir, masterName, { host: HOST, port: p0 as number }, sen, o.tls), { mode: 0o600 });
      const s = await launch(bin, [conf, '--sentinel'], '+monitor master', sp, o.onLine ? (l) => o.onLine?.(`sentinel-${sp}`, l) : undefined);
      sentinels.push(s);
      started.push(s);
    }
    // Ready when every Sentinel knows the replica and the two other Sentinels (so a failover can win a vote).
    for (const s of sentinels) {
      await untilReady(`sentinel ${s.port} to discover the replica and its peers`, async () => {
        const c = sentinelConnection(config, { host: HOST, port: s.port });
        try {
          await c.connect();
          const replicas = (await c.call('SENTINEL', 'REPLICAS', masterName)) as unknown[];
          const peers = (await c.call('SENTINEL', 'SENTINELS', masterName)) as unknown[];
          return replicas.length >= 1 && peers.length >= 2;
        } finally {
          c.disconnect();
        }
      });
    }
    const admin = await connectAdmin(config, { host: HOST, port: replica.port });
    try {
      await untilReady('the replica to finish its first sync', async () => (await admin.info('replication')).includes('master_link_status:up'));
    } finally {
      admin.disconnect();
    }
    const sentinelAddresses = sentinels.map((s) => ({ host: HOST, port: s.port }));
    // Nodes may be replaced (restarted) by the caller; stop whatever is in the arrays at the end.
    const nodes = [master, replica];
    return {
      masterName,
      nodes,
      sentinels,
      sentinelAddresses,
      env: { REDIS_SENTINELS: sentinelAddresses.map((a) => `${a.host}:${a.port}`).join(','), REDIS_SENTINEL_MASTER: masterName },
      stop: async () => {
        for (const s of sentinels) await s.stop();
        for (const n of nodes) await n.stop();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

const SLOT_RANGES: readonly [number, number][] = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

/** 3 masters + 3 replicas, slots split evenly, each replica following one master. */
export async function startClusterTopology(config: Config, o: TopologyOptions): Promise<ClusterTopology> {
  const ps = await ports(6, o.ports, true);
  const misconfigured = o.aclFileContent;
  const repl = secret(config, 'replica');
  const nodes: RunningRedis[] = [];
  const stopAll = async (): Promise<void> => {
    for (const n of [...nodes].reverse()) await n.stop();
  };
  try {
    for (const port of ps) {
      nodes.push(
        await startProvisionedNode({
          config,
          // The cluster's users get the cluster layout (hash-tagged patterns, CLUSTER SLOTS …) whatever `config` says.
          layout: 'cluster',
          ...(misconfigured ? { aclFileContent: () => misconfigured(config) } : {}),
          port,
          dir: join(o.dir, `node-${port}`),
          appendonly: o.appendonly ?? true,
          replicationAuth: repl,
          cluster: true,
          ...(o.tls ? { tls: o.tls } : {}),
          onLine: o.onLine ? (l) => o.onLine?.(`node-${port}`, l) : undefined,
        }),
      );
    }
    const admins = await Promise.all(nodes.map((n) => connectAdmin(config, { host: HOST, port: n.port })));
    try {
      const ids = await Promise.all(admins.map(async (a) => String(await a.call('CLUSTER', 'MYID'))));
      for (const [i, [from, to]] of SLOT_RANGES.entries()) await admins[i]?.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
      for (const n of nodes.slice(1)) await admins[0]?.call('CLUSTER', 'MEET', HOST, String(n.port));
      await untilReady('every cluster node to know the others', async () => {
        const views = await Promise.all(admins.map(async (a) => String(await a.call('CLUSTER', 'NODES')).trim().split('\n').length));
        return views.every((v) => v === nodes.length);
      });
      for (let r = 3; r < 6; r++) {
        const masterId = ids[r - 3] ?? '';
        await untilReady(`node ${nodes[r]?.port} to see master ${masterId}`, async () => String(await admins[r]?.call('CLUSTER', 'NODES')).includes(masterId));
        await admins[r]?.call('CLUSTER', 'REPLICATE', masterId);
      }
      await untilReady('cluster_state:ok on every node and replicas in sync', async () => {
        const infos = await Promise.all(admins.map(async (a) => String(await a.call('CLUSTER', 'INFO'))));
        if (!infos.every((i) => i.includes('cluster_state:ok'))) return false;
        const links = await Promise.all(admins.slice(3).map((a) => a.info('replication')));
        return links.every((l) => l.includes('master_link_status:up'));
      }, 30_000);
    } finally {
      for (const a of admins) a.disconnect();
    }
    return { nodes, env: { REDIS_CLUSTER_NODES: nodes.map((n) => `${HOST}:${n.port}`).join(',') }, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
