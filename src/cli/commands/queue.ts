import type { Command } from 'commander';
import { Metrics } from '../../metrics/registry.js';
import { NotificationQueue } from '../../queue/notifications.js';
import type { CommandContext } from '../context.js';
import { parseIntOption } from '../options.js';

/** `naboom queue counts|failed`: read-only inspection of the notification queue, as the app role. */
export function registerQueue(program: Command, ctx: CommandContext): void {
  const queue = program.command('queue').description('inspect the notification job queue (app role, read-only)');
  const withQueue = async <T>(fn: (q: NotificationQueue) => Promise<T>): Promise<T> => {
    const config = ctx.config({ roles: ['app'], command: 'queue' });
    const q = new NotificationQueue({ config, keys: ctx.keys(config), logger: ctx.logger(config), metrics: new Metrics() });
    try {
      return await fn(q);
    } finally {
      await q.close();
    }
  };

  queue
    .command('counts')
    .description('jobs per state: waiting, active, delayed, prioritized, completed (kept 24 h), failed (kept 7 days)')
    .option('--json', 'one JSON document', false)
    .action(async (opts: { json: boolean }) => {
      const counts = await withQueue((q) => q.counts());
      if (opts.json) ctx.io.out(`${JSON.stringify(counts)}\n`);
      else for (const [state, n] of Object.entries(counts)) ctx.io.out(`${state.padEnd(12)} ${n}\n`);
    });

  queue
    .command('failed')
    .description('the most recently failed jobs, newest first, with their reasons')
    .option('--limit <n>', 'how many (1-1000)', '20')
    .option('--json', 'one JSON document', false)
    .action(async (opts: { limit: string; json: boolean }) => {
      const limit = parseIntOption('--limit', opts.limit, 1, 1000);
      const jobs = await withQueue((q) => q.failed(limit));
      if (opts.json) {
        ctx.io.out(`${JSON.stringify(jobs.map((j) => ({ ...j, failedAt: j.failedAt === undefined ? null : new Date(j.failedAt).toISOString() })))}\n`);
        return;
      }
      if (jobs.length === 0) {
        ctx.io.out('no failed jobs\n');
        return;
      }
      for (const j of jobs) {
        const when = j.failedAt === undefined ? '-' : new Date(j.failedAt).toISOString();
        ctx.io.out(`${when}  ${j.type.padEnd(8)} ${j.id}  attempts ${j.attempts}\n    ${j.reason.split('\n')[0] ?? ''}\n`);
      }
    });
}
