import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { startRedisServer, type RunningRedis } from '../../local/redis-server.js';
import { renderAclFile } from '../../redis/acl/render.js';
import { desiredRules } from '../../redis/acl/rules.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import { NaboomError } from '../../errors/catalogue.js';
import type { CommandContext, Io } from '../context.js';
import { waitForShutdownSignal } from '../../start/shutdown.js';

/** Starts the local development Redis (AOF on, data under NABOOM_DATA_DIR/redis-<port>) with our users. */
export async function startLocalRedis(config: Config, io: Io, opts: { verbose?: boolean } = {}): Promise<RunningRedis> {
  const port = config.settings.NABOOM_REDIS_PORT;
  if (config.topology.kind === 'standalone' && config.topology.port !== port) {
    io.err(`note: REDIS_PORT=${config.topology.port} but the local Redis listens on NABOOM_REDIS_PORT=${port}\n`);
  }
  const dir = resolve(join(config.settings.NABOOM_DATA_DIR, `redis-${port}`));
  return await startRedisServer({
    port,
    dir,
    aclFileContent: renderAclFile(desiredRules(config)),
    appendonly: true,
    onLine: opts.verbose ? (l) => io.err(`[redis] ${l}\n`) : undefined,
  });
}

export function registerRedis(program: Command, ctx: CommandContext): void {
  program
    .command('redis')
    .description('run a local redis-server provisioned with our users.acl (AOF on, data in .naboom/), until Ctrl-C')
    .option('--quiet', 'do not echo the redis-server log', false)
    .action(async (opts: { quiet: boolean }) => {
      const config = ctx.config({ roles: ROLE_NAMES, command: 'redis' });
      if (config.topology.kind !== 'standalone') {
        throw new NaboomError('NABOOM_USAGE', '`naboom redis` runs a standalone server; unset REDIS_SENTINELS / REDIS_CLUSTER_NODES');
      }
      const server = await startLocalRedis(config, ctx.io, { verbose: !opts.quiet });
      const app = config.credentials.app;
      ctx.io.out(
        [
          `Redis ${server.port} is ready (pid ${server.pid}); data and AOF in ${server.dir}`,
          `ACL file: ${server.aclFile} (every role is its own user; passwords are in your .env)`,
          `connect as a role, e.g.: redis-cli -p ${server.port} --user ${app.username} --askpass`,
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
