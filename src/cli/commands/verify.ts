import type { Command } from 'commander';
import { cacheRoundTrips } from '../../cache/verify.js';
import { channelRoundTrips } from '../../channels/verify.js';
import { NaboomError } from '../../errors/catalogue.js';
import { queueRoundTrip } from '../../queue/verify.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import { apiRoundTrip } from '../../verify/api-roundtrip.js';
import { djangoChecks } from '../../verify/django-checks.js';
import { renderTable } from '../../verify/report.js';
import { runVerify } from '../../verify/run.js';
import type { CommandContext } from '../context.js';

export function registerVerify(program: Command, ctx: CommandContext): void {
  program
    .command('verify')
    .description(
      "prove the deployment: every role authenticates and does its job, every forbidden operation is refused, the live ACL matches, ACL LOG holds no denial of Naboom's own connections, and the cache, channel-layer and queue round trips work",
    )
    .option('--json', 'print exactly one JSON document on stdout (logs go to stderr)', false)
    .option('--url <url>', 'also send one alert through a running server: raise, see it on SSE, acknowledge, resolve')
    .option('--strict', 'also fail on ACL LOG denials from clients outside Naboom (reported as warnings otherwise)', false)
    .addHelpText(
      'after',
      [
        '',
        "ACL LOG: a denial of one of Naboom's own connections (client name naboom:<role>:…) fails: a grant is missing.",
        'A denial of any other client (redis-cli, another program) is a warning naming the user, the command or key,',
        'the client address and the count; --strict makes it fail. `naboom acl log` lists them, `--reset` clears them.',
        '',
      ].join('\n'),
    )
    .action(async (opts: { json: boolean; url?: string; strict: boolean }) => {
      if (opts.url !== undefined && !/^https?:\/\/[^\s/]+/.test(opts.url)) throw new NaboomError('NABOOM_USAGE', `--url must be an http(s) URL, got "${opts.url}"`);
      const config = ctx.config({ roles: ROLE_NAMES.filter((r) => r !== 'replica' && r !== 'sentinel'), secretKey: true, command: 'verify' });
      const extra = [cacheRoundTrips, channelRoundTrips, queueRoundTrip, ...(config.settings.DJANGO_COMPAT ? [djangoChecks] : []), ...(opts.url ? [apiRoundTrip(opts.url)] : [])];
      const report = await runVerify({ config, keys: ctx.keys(config), logger: ctx.logger(config), extra, strict: opts.strict });
      ctx.io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
      if (!report.ok) throw new NaboomError('NABOOM_VERIFY_FAILED', `${report.summary.fail} check(s) failed`);
    });
}
