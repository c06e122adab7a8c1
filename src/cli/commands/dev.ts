import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { generateEnv } from '../../config/generate.js';
import { loadConfig } from '../../config/load.js';
import { NaboomError } from '../../errors/catalogue.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import { runUntilSignal } from '../../start/shutdown.js';
import type { CommandContext } from '../context.js';
import { startLocalRedis } from './redis.js';
import { writeSecretFile } from './init.js';

export function registerDev(program: Command, ctx: CommandContext): void {
  program
    .command('dev')
    .description('the whole stack locally: init if needed, our Redis, then serve and worker; Ctrl-C stops all')
    .action(async () => {
      const g = program.opts<{ envFile?: string }>();
      const envFile = resolve(g.envFile ?? '.env');
      if (!existsSync(envFile)) {
        writeSecretFile(envFile, generateEnv().text, false);
        ctx.io.out(`wrote ${envFile} (mode 0600) with fresh passwords\n`);
      }
      const config = loadConfig({ envFile, requireRoles: ROLE_NAMES, requireSecretKey: true, command: 'dev' });
      if (config.topology.kind !== 'standalone' || config.topology.port !== config.settings.NABOOM_REDIS_PORT) {
        throw new NaboomError('NABOOM_CONFIG_INVALID', `naboom dev runs its own Redis on NABOOM_REDIS_PORT=${config.settings.NABOOM_REDIS_PORT}; set REDIS_PORT to the same port`);
      }
      const redis = await startLocalRedis(config, ctx.io);
      ctx.io.out(
        [
          `Redis ready on 127.0.0.1:${redis.port} (AOF in ${redis.dir}), provisioned with one ACL user per role`,
          'check it from another terminal: node bin/naboom.js verify',
          'Ctrl-C stops everything',
          '',
        ].join('\n'),
      );
      await runUntilSignal(async () => {
        ctx.io.err('stopping…\n');
        await redis.stop();
      });
    });
}
