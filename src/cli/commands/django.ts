import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { djangoSettingsModule } from '../../django/settings.js';
import type { CommandContext } from '../context.js';

export function registerDjango(program: Command, ctx: CommandContext): void {
  const django = program.command('django').description('run the original Django services (django-redis, sessions, channels_redis, Celery) on this Redis');
  django
    .command('settings')
    .description(
      'print a Python settings module for the original Django stack: CACHES, sessions, CHANNEL_LAYERS and CELERY_* under the Django ACL profile; it reads every user, password and key from the environment when imported',
    )
    .option('--out <file>', 'write the module to FILE instead of stdout (it holds no secret)')
    .addHelpText(
      'after',
      [
        '',
        'The ACL must carry the Django profile: DJANGO_COMPAT=true in the environment (`naboom init --django` writes it),',
        'then `naboom acl apply` and `naboom verify`. Export Naboom\'s .env before starting Django or Celery.',
        '',
      ].join('\n'),
    )
    .action((opts: { out?: string }) => {
      const config = ctx.config({ command: 'django settings' });
      const text = djangoSettingsModule(config);
      if (!config.settings.DJANGO_COMPAT) {
        ctx.io.err('warning: DJANGO_COMPAT is not set: the ACL has no Django profile, so these services would be refused. Set DJANGO_COMPAT=true and run `naboom acl apply`.\n');
      }
      if (opts.out === undefined) {
        ctx.io.out(text);
        return;
      }
      const path = resolve(opts.out);
      writeFileSync(path, text);
      ctx.io.err(`wrote ${path}\n`);
    });
}
