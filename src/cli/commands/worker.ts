import type { Command } from 'commander';
import { NaboomError } from '../../errors/catalogue.js';
import { Metrics } from '../../metrics/registry.js';
import { DEFAULT_SUMMARY_PATTERN } from '../../queue/schedules.js';
import { runWorker } from '../../start/worker.js';
import type { CommandContext } from '../context.js';
import { parseIntOption } from '../options.js';

interface WorkerCliOptions {
  concurrency?: string;
  grace: string;
  summary: string;
  metricsPort?: string;
  metricsHost?: string;
}

export function registerWorker(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run the background job worker (queue "notifications": webhook and log notifiers, schedules in TZ) until SIGINT/SIGTERM')
    .option('--concurrency <n>', 'jobs processed in parallel (default: QUEUE_CONCURRENCY, 6)')
    .option('--grace <seconds>', 'on SIGINT/SIGTERM, how long running jobs may finish before they are handed back to the queue for another worker', '25')
    .option('--summary <cron|off>', 'schedule of the daily queue summary log job, a cron pattern in TZ, or "off" to remove it', DEFAULT_SUMMARY_PATTERN)
    .option('--metrics-port <port>', 'serve GET /metrics (Prometheus; METRICS_TOKEN applies) and GET /health/live on this port (0 picks a free one); off by default')
    .option('--metrics-host <host>', 'address for --metrics-port (default: HOST)')
    .addHelpText(
      'after',
      [
        '',
        'Connects as the app role only (REDIS_APP_USER / REDIS_APP_PASSWORD). Limits and retries come from',
        'JOB_SOFT_LIMIT_S (240), JOB_HARD_LIMIT_S (300), JOB_ATTEMPTS (5); webhooks from NOTIFY_WEBHOOK_URLS,',
        'NOTIFY_WEBHOOK_SECRET and NOTIFY_WEBHOOK_TIMEOUT_MS. SIGHUP re-reads the app password.',
        'A second SIGINT/SIGTERM exits at once; jobs still running then are retried after their lock expires.',
        '',
      ].join('\n'),
    )
    .action(async (opts: WorkerCliOptions) => {
      const concurrency = opts.concurrency === undefined ? undefined : parseIntOption('--concurrency', opts.concurrency, 1, 1000);
      const graceS = parseIntOption('--grace', opts.grace, 0, 3600);
      const summary = opts.summary.trim().toLowerCase() === 'off' ? false : opts.summary;
      const metricsPort = opts.metricsPort === undefined ? undefined : parseIntOption('--metrics-port', opts.metricsPort, 0, 65535);
      if (opts.metricsHost !== undefined && metricsPort === undefined) throw new NaboomError('NABOOM_USAGE', '--metrics-host needs --metrics-port');
      const config = ctx.config({ roles: ['app'], command: 'worker' });
      const logger = ctx.logger(config);
      await runWorker(
        { config, keys: ctx.keys(config), logger, metrics: new Metrics({ defaultMetrics: true }) },
        {
          concurrency,
          graceMs: graceS * 1000,
          summaryPattern: summary,
          ...(metricsPort !== undefined ? { metricsListen: { host: opts.metricsHost ?? config.settings.HOST, port: metricsPort } } : {}),
        },
      );
    });
}
