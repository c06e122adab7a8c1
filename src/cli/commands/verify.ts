import type { Command } from 'commander';
import { cacheRoundTrips } from '../../cache/verify.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import { renderTable } from '../../verify/report.js';
import { runVerify } from '../../verify/run.js';
import type { CommandContext } from '../context.js';

export function registerVerify(program: Command, ctx: CommandContext): void {
  program
    .command('verify')
    .description('prove the deployment: every role authenticates and does its job, every forbidden operation is refused, the live ACL matches, ACL LOG is clean')
    .option('--json', 'print exactly one JSON document on stdout (logs go to stderr)', false)
    .action(async (opts: { json: boolean }) => {
      const config = ctx.config({ roles: ROLE_NAMES.filter((r) => r !== 'replica' && r !== 'sentinel'), command: 'verify' });
      const report = await runVerify({ config, logger: ctx.logger(config), extra: [cacheRoundTrips] });
      ctx.io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
      if (!report.ok) process.exitCode = 1;
    });
}
