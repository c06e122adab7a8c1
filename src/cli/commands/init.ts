import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateEnv } from '../../config/generate.js';
import { loadConfig } from '../../config/load.js';
import { NaboomError } from '../../errors/catalogue.js';
import { renderAclFile } from '../../redis/acl/render.js';
import { desiredRules } from '../../redis/acl/rules.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import type { CommandContext } from '../context.js';

/** Writes a file with mode 0600; without `force` an existing file is left untouched. */
export function writeSecretFile(path: string, content: string, force: boolean): void {
  const flags = constants.O_WRONLY | constants.O_CREAT | (force ? constants.O_TRUNC : constants.O_EXCL);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new NaboomError('NABOOM_INIT_EXISTS', `${path} already exists`);
    }
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
}

export function registerInit(program: Command, ctx: CommandContext): void {
  program
    .command('init')
    .description('write .env (mode 0600) with a random password per role, a SECRET_KEY and a METRICS_TOKEN, and users.acl')
    .option('--dir <dir>', 'directory to write into', '.')
    .option('--force', 'overwrite existing files (the old passwords stop working)', false)
    .option('--redis-port <port>', 'port of the local Redis the .env points at', '6380')
    .option('--django', 'also let the original Django services share this Redis: DJANGO_COMPAT=true adds the Django ACL profile (see `naboom django settings`)', false)
    .action((opts: { dir: string; force: boolean; redisPort: string; django: boolean }) => {
      const dir = resolve(opts.dir);
      const port = Number(opts.redisPort);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new NaboomError('NABOOM_USAGE', `--redis-port must be a port number, got "${opts.redisPort}"`);
      }
      const envPath = join(dir, '.env');
      const aclPath = join(dir, 'users.acl');
      if (!opts.force) {
        for (const p of [envPath, aclPath]) if (existsSync(p)) throw new NaboomError('NABOOM_INIT_EXISTS', `${p} already exists`);
      }
      mkdirSync(dir, { recursive: true });
      const env = generateEnv(port, { django: opts.django });
      const config = loadConfig({ env: env.vars, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true, command: 'init' });
      writeSecretFile(envPath, env.text, opts.force);
      writeSecretFile(aclPath, renderAclFile(desiredRules(config)), opts.force);
      ctx.io.out(`wrote ${envPath} (mode 0600): a password per role, a SECRET_KEY and a METRICS_TOKEN\n`);
      ctx.io.out(`wrote ${aclPath} (mode 0600): ACL users with hashed passwords\n`);
      ctx.io.out('next: `naboom redis` starts a local Redis with these users; `naboom verify` checks it\n');
      if (opts.django) ctx.io.out('Django: `naboom django settings --out naboom_redis.py` writes the settings module for the original services\n');
    });
}
