/**
 * `naboom worker`: the job worker process. Wires config → logger/metrics → role clients → NotificationWorker,
 * logs what it runs, re-reads the app password into the role clients every few seconds and on SIGHUP (after
 * `naboom acl rotate`), and installs the one shutdown handler: the first SIGINT/SIGTERM drains, a second one
 * exits at once.
 */
import { RoleClients } from '../redis/connections.js';
import { QUEUE_NAME, timeLimits } from '../queue/settings.js';
import { NotificationWorker, type StopResult, type WorkerDeps } from '../queue/worker.js';
import { startMetricsServer } from './metrics-server.js';
import { runUntilSignal, waitForShutdownSignal } from './shutdown.js';

export interface WorkerRunOptions {
  readonly concurrency?: number;
  /** How long running jobs may finish after SIGINT/SIGTERM before they are handed back to the queue. */
  readonly graceMs: number;
  /** Cron pattern (in TZ) of the daily summary, or false. */
  readonly summaryPattern: string | false;
  /** Serve `/metrics` and `/health/live` here (METRICS_TOKEN applies); off when absent. */
  readonly metricsListen?: { readonly host: string; readonly port: number };
}

const CREDENTIAL_RELOAD_MS = 5000;
/** Beyond the grace period: handing jobs back and closing, each step bounded (see NotificationWorker.stop). */
const STOP_MARGIN_MS = 30_000;

/** Runs the worker until a shutdown signal; resolves once it has stopped. */
export async function runWorker(deps: WorkerDeps, opts: WorkerRunOptions): Promise<void> {
  const { config, logger } = deps;
  // Installed before connecting, so a signal during start-up still stops cleanly.
  void waitForShutdownSignal();
  const limits = timeLimits(config);
  if (limits.softMs >= limits.hardMs) {
    logger.warn({ JOB_SOFT_LIMIT_S: config.settings.JOB_SOFT_LIMIT_S, JOB_HARD_LIMIT_S: config.settings.JOB_HARD_LIMIT_S }, 'the soft time limit is not below the hard limit: jobs get no chance to stop cleanly');
  }
  const clients = new RoleClients(config, logger, { onNoPerm: (role) => deps.metrics.redisNoPerm.inc({ role }) });
  const worker = new NotificationWorker({ ...deps, clients }, { concurrency: opts.concurrency, summaryPattern: opts.summaryPattern });
  const stopWorker = async (graceMs: number): Promise<StopResult> => {
    const result = await worker.stop(graceMs);
    await clients.close();
    return result;
  };
  const { schedules } = await worker.start().catch(async (err: unknown) => {
    await clients.close();
    throw err;
  });
  const metricsServer = opts.metricsListen
    ? await startMetricsServer({ metrics: deps.metrics, token: config.metricsToken?.reveal(), ...opts.metricsListen, logger }).catch(async (err: unknown) => {
        await stopWorker(0);
        throw err;
      })
    : undefined;
  const info = worker.info;
  logger.info(
    {
      worker: info.id,
      queue: QUEUE_NAME,
      prefix: deps.keys.queuePrefix,
      concurrency: info.concurrency,
      tz: config.settings.TZ,
      attempts: config.settings.JOB_ATTEMPTS,
      // Web Push is on only with a VAPID key pair; say so, since a missing pair silently sends nothing.
      push: config.vapid ? 'on' : 'off (no VAPID key pair)',
      softLimitS: config.settings.JOB_SOFT_LIMIT_S,
      hardLimitS: config.settings.JOB_HARD_LIMIT_S,
      webhooks: config.settings.NOTIFY_WEBHOOK_URLS.length,
      schedules: schedules.map((s) => ({ id: s.id, pattern: s.pattern, tz: s.tz, next: s.next === undefined ? undefined : new Date(s.next).toISOString() })),
      graceS: opts.graceMs / 1000,
      metrics: metricsServer ? `${metricsServer.url}/metrics` : 'off',
    },
    'worker started',
  );

  const reload = (why: string): void => {
    try {
      if (clients.reloadCredentials().includes('app')) logger.info({ role: 'app', why }, 'app password changed; used from the next connection on');
    } catch (err) {
      logger.warn({ err }, 'could not re-read the app password');
    }
  };
  const onHup = (): void => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  const timer = setInterval(() => reload('periodic check'), CREDENTIAL_RELOAD_MS);
  timer.unref();
  try {
    await runUntilSignal(async () => {
      logger.info({ running: worker.running, graceS: opts.graceMs / 1000 }, 'stopping: no new jobs; waiting for the running ones');
      const result = await stopWorker(opts.graceMs);
      await metricsServer?.close();
      logger.info({ forced: result.forced, handedBack: result.handedBack }, 'worker stopped');
    }, opts.graceMs + STOP_MARGIN_MS);
  } finally {
    clearInterval(timer);
    process.off('SIGHUP', onHup);
  }
}
