import type { Command } from 'commander';
import { startServer } from '../../start/server.js';
import { runUntilSignal } from '../../start/shutdown.js';
import type { CommandContext } from '../context.js';

export const SERVE_ROLES = ['app', 'websocket', 'realtime', 'monitoring'] as const;

export function registerServe(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('HTTP API + WebSocket + SSE server (HOST/PORT); SIGINT/SIGTERM drains and stops, SIGHUP re-reads rotated passwords')
    .option('--port <port>', 'override PORT')
    .option('--host <host>', 'override HOST')
    .action(async (opts: { port?: string; host?: string }) => {
      const config = ctx.config({ roles: SERVE_ROLES, secretKey: true, command: 'serve' });
      const logger = ctx.logger(config);
      const server = await startServer({
        config,
        keys: ctx.keys(config),
        logger,
        ...(opts.port !== undefined ? { port: Number(opts.port) } : {}),
        ...(opts.host !== undefined ? { host: opts.host } : {}),
      });
      ctx.io.err(`naboom serve: listening on ${server.url}\n`);
      process.on('SIGHUP', () => server.reloadCredentials());
      await runUntilSignal(() => server.stop());
    });
}
