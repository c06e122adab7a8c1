import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { startProvisionedNode } from '../../local/provisioned.js';
import type { RunningRedis } from '../../local/redis-server.js';
import { ensureLocalCertificates, localTlsEnv, serverTls, withLocalTls, type LocalCertificates } from '../../local/tls-certs.js';
import { startClusterTopology, startSentinelTopology } from '../../local/topologies.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import { NaboomError } from '../../errors/catalogue.js';
import type { CommandContext, Io } from '../context.js';
import { waitForShutdownSignal } from '../../start/shutdown.js';

/** The local CA, server and client certificates under NABOOM_DATA_DIR/tls (made on first use, then reused). */
export function localCertificates(config: Config): LocalCertificates {
  return ensureLocalCertificates(resolve(join(config.settings.NABOOM_DATA_DIR, 'tls')));
}

/** The lines telling the user which variables point Naboom at a local TLS Redis. */
function tlsLines(certs: LocalCertificates): string[] {
  const mutual = localTlsEnv(certs, true);
  return [
    `TLS only (no plaintext port); certificates made with openssl in ${certs.dir}`,
    'add to your .env:',
    ...Object.entries(localTlsEnv(certs, false)).map(([k, v]) => `  ${k}=${v}`),
    'and for mutual TLS (the server accepts a client certificate; set `tls-auth-clients yes` to require it):',
    `  REDIS_TLS_CERT_FILE=${mutual['REDIS_TLS_CERT_FILE'] ?? ''}`,
    `  REDIS_TLS_KEY_FILE=${mutual['REDIS_TLS_KEY_FILE'] ?? ''}`,
  ];
}

/** Starts the local development Redis (AOF on, data under NABOOM_DATA_DIR/redis-<port>) with our users. */
export async function startLocalRedis(config: Config, io: Io, opts: { verbose?: boolean; tls?: LocalCertificates; ownProcessGroup?: boolean } = {}): Promise<RunningRedis> {
  const port = config.settings.NABOOM_REDIS_PORT;
  if (config.topology.kind === 'standalone' && config.topology.port !== port) {
    io.err(`note: REDIS_PORT=${config.topology.port} but the local Redis listens on NABOOM_REDIS_PORT=${port}\n`);
  }
  const dir = resolve(join(config.settings.NABOOM_DATA_DIR, `redis-${port}`));
  return await startProvisionedNode({
    config,
    port,
    dir,
    appendonly: true,
    ...(opts.tls ? { tls: serverTls(opts.tls) } : {}),
    onLine: opts.verbose ? (l) => io.err(`[redis] ${l}\n`) : undefined,
    ...(opts.ownProcessGroup ? { ownProcessGroup: true } : {}),
  });
}

async function runTopology(given: Config, ctx: CommandContext, kind: 'sentinel' | 'cluster', quiet: boolean, certs: LocalCertificates | undefined): Promise<void> {
  // The topology's own admin connections (waiting for replication, meeting the nodes) must speak TLS too.
  const config = certs ? withLocalTls(given, certs) : given;
  const base = config.settings.NABOOM_REDIS_PORT;
  const count = kind === 'sentinel' ? 5 : 6;
  const ports = Array.from({ length: count }, (_, i) => base + i);
  const dir = resolve(join(config.settings.NABOOM_DATA_DIR, `${kind}-${base}`));
  const onLine = quiet ? undefined : (who: string, l: string) => ctx.io.err(`[${who}] ${l}\n`);
  ctx.io.err(`starting a local ${kind} topology on ports ${ports.join(', ')} (data in ${dir})…\n`);
  const tls = certs ? serverTls(certs) : undefined;
  const topo = kind === 'sentinel' ? await startSentinelTopology(config, { dir, ports, onLine, ...(tls ? { tls } : {}) }) : await startClusterTopology(config, { dir, ports, onLine, ...(tls ? { tls } : {}) });
  const lines =
    kind === 'sentinel'
      ? [`Sentinel topology ready: master ${base}, replica ${base + 1}, Sentinels ${base + 2}–${base + 4}`]
      : [`Cluster ready: masters ${base}–${base + 2}, replicas ${base + 3}–${base + 5} (slots split in three)`];
  ctx.io.out(
    [
      ...lines,
      'every node carries the same ACL users (replicas log in as replica_user; Sentinels as sentinel_user)',
      'point Naboom at it by adding to your .env:',
      ...Object.entries(topo.env).map(([k, v]) => `  ${k}=${v}`),
      ...(certs ? tlsLines(certs) : []),
      'Ctrl-C stops it',
      '',
    ].join('\n'),
  );
  await waitForShutdownSignal();
  ctx.io.err('stopping…\n');
  await topo.stop();
}

export function registerRedis(program: Command, ctx: CommandContext): void {
  program
    .command('redis')
    .description('run a local redis-server provisioned with our users.acl (AOF on, data in .naboom/), until Ctrl-C')
    .option('--quiet', 'do not echo the redis-server log', false)
    .option('--sentinel', 'run 1 master, 1 replica and 3 Sentinels on NABOOM_REDIS_PORT … +4 instead', false)
    .option('--cluster', 'run a Redis Cluster of 3 masters and 3 replicas on NABOOM_REDIS_PORT … +5 instead', false)
    .option('--tls', 'TLS only: a local CA and server/client certificates under NABOOM_DATA_DIR/tls (openssl); prints the variables to set', false)
    .action(async (opts: { quiet: boolean; sentinel: boolean; cluster: boolean; tls: boolean }) => {
      const config = ctx.config({ roles: ROLE_NAMES, command: 'redis' });
      if (opts.sentinel && opts.cluster) throw new NaboomError('NABOOM_USAGE', 'choose one of --sentinel and --cluster');
      const certs = opts.tls ? localCertificates(config) : undefined;
      if (opts.sentinel || opts.cluster) {
        await runTopology(config, ctx, opts.sentinel ? 'sentinel' : 'cluster', opts.quiet, certs);
        return;
      }
      if (config.topology.kind !== 'standalone') {
        throw new NaboomError('NABOOM_USAGE', '`naboom redis` runs a standalone server; unset REDIS_SENTINELS / REDIS_CLUSTER_NODES, or pass --sentinel / --cluster');
      }
      const server = await startLocalRedis(config, ctx.io, { verbose: !opts.quiet, ...(certs ? { tls: certs } : {}) });
      const app = config.credentials.app;
      const cliTls = certs ? ` --tls --cacert ${certs.ca.certFile}` : '';
      ctx.io.out(
        [
          `Redis ${server.port} is ready (pid ${server.pid}); data and AOF in ${server.dir}`,
          `ACL file: ${server.aclFile} (every role is its own user; passwords are in your .env)`,
          ...(certs ? tlsLines(certs) : []),
          `connect as a role, e.g.: redis-cli -p ${server.port}${cliTls} --user ${app.username} --askpass`,
          'check the deployment in another terminal: naboom verify',
          'Ctrl-C stops it',
          '',
        ].join('\n'),
      );
      const outcome = await Promise.race([waitForShutdownSignal().then(() => 'signal' as const), server.exited.then(() => 'exited' as const)]);
      if (outcome === 'exited') throw new NaboomError('NABOOM_REDIS_START_FAILED', 'redis-server exited unexpectedly');
      ctx.io.err('stopping redis-server…\n');
      await server.stop();
    });
}
