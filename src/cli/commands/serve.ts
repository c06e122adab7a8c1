import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { isServeWorker, runServePrimary, runServeWorker } from '../../start/cluster.js';
import { runUntilSignal } from '../../start/shutdown.js';
import { boundYoungGeneration, releaseYoungGeneration, SERVE_BUSY_ALLOCATION_MIB_PER_S, SERVE_BUSY_SEMI_SPACE_MIB, SERVE_SEMI_SPACE_MIB } from '../../start/young-generation.js';
import type { CommandContext } from '../context.js';
import { parseIntOption } from '../options.js';

export const SERVE_ROLES = ['app', 'websocket', 'realtime', 'monitoring'] as const;

export function registerServe(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('HTTP API + WebSocket + SSE server (HOST/PORT); SIGINT/SIGTERM drains and stops, SIGHUP re-reads rotated passwords')
    .option('--port <port>', 'override PORT')
    .option('--host <host>', 'override HOST')
    .option('--workers <n>', 'serve processes sharing the port (default: SERVE_WORKERS, else one per core)')
    .action(async (opts: { port?: string; host?: string; workers?: string }) => {
      const config = ctx.config({ roles: SERVE_ROLES, secretKey: true, command: 'serve' });
      const logger = ctx.logger(config);
      const workers = opts.workers !== undefined ? parseIntOption('--workers', opts.workers, 1, 256) : (config.settings.SERVE_WORKERS ?? availableParallelism());
      const host = opts.host ?? config.settings.HOST;
      if (workers > 1 && !isServeWorker()) {
        await runServePrimary({
          workers,
          logger,
          onListening: (port) => ctx.io.err(`naboom serve: listening on http://${host.includes(':') ? `[${host}]` : host}:${port} (${workers} workers)\n`),
        });
        return;
      }
      // Loaded here, not at the top: the primary of `--workers N` serves nothing and need not hold the app's modules.
      const { startServer } = await import('../../start/server.js');
      const server = await startServer({
        config,
        keys: ctx.keys(config),
        logger,
        ...(opts.port !== undefined ? { port: Number(opts.port) } : {}),
        ...(opts.host !== undefined ? { host: opts.host } : {}),
      });
      releaseYoungGeneration();
      // A worker has the 4 MiB bound from its node options (cluster.ts) and this call does nothing there: bounded
      // while running, a worker's idle connections cost half as much RSS again (22 KiB against 15; BENCHMARKS.md,
      // "Small hours of 2026-12-05"). A single process is bounded here, with the busy bound for ingest bursts.
      boundYoungGeneration(SERVE_SEMI_SPACE_MIB, { semiSpaceMiB: SERVE_BUSY_SEMI_SPACE_MIB, allocationMiBPerS: SERVE_BUSY_ALLOCATION_MIB_PER_S });
      if (isServeWorker()) {
        await runServeWorker(server);
        return;
      }
      ctx.io.err(`naboom serve: listening on ${server.url}\n`);
      process.on('SIGHUP', () => server.reloadCredentials());
      await runUntilSignal(() => server.stop());
    });
}
