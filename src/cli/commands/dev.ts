import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { UserStore } from '../../auth/users.js';
import { generateEnv, newPassword } from '../../config/generate.js';
import { loadConfig, type Config } from '../../config/load.js';
import { NaboomError } from '../../errors/catalogue.js';
import type { Logger } from '../../log/logger.js';
import { Metrics } from '../../metrics/registry.js';
import { NotificationWorker } from '../../queue/worker.js';
import { RoleClients } from '../../redis/connections.js';
import type { KeySpace } from '../../redis/keys.js';
import { ROLE_NAMES } from '../../redis/roles.js';
import { startServer } from '../../start/server.js';
import { runUntilSignal } from '../../start/shutdown.js';
import type { CommandContext } from '../context.js';
import { writeSecretFile } from './init.js';
import { localTlsEnv, withLocalTls } from '../../local/tls-certs.js';
import { localCertificates, startLocalRedis } from './redis.js';

const demoFile = z.object({ responder: z.object({ username: z.string(), password: z.string() }), resident: z.object({ username: z.string(), password: z.string(), token: z.string() }) });
type Demo = z.infer<typeof demoFile>;

/** Demo accounts for a local stack: a responder for the dashboard, a resident for the panic page and curl. */
async function ensureDemoAccounts(config: Config, keys: KeySpace, logger: Logger): Promise<Demo> {
  const path = join(config.settings.NABOOM_DATA_DIR, 'demo-accounts.json');
  const clients = new RoleClients(config, logger);
  try {
    const users = new UserStore(clients.get('app'), keys);
    if (existsSync(path)) {
      const saved = demoFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (saved.success && (await users.get(saved.data.responder.username)) && (await users.byToken(saved.data.resident.token))) return saved.data;
    }
    for (const name of ['responder', 'resident']) if (await users.get(name)) await users.remove(name);
    const password = newPassword();
    const residentPassword = newPassword();
    await users.add('responder', 'responder', password);
    await users.add('resident', 'member', residentPassword);
    const demo: Demo = { responder: { username: 'responder', password }, resident: { username: 'resident', password: residentPassword, token: await users.issueToken('resident') } };
    writeSecretFile(path, `${JSON.stringify(demo, null, 2)}\n`, true);
    return demo;
  } finally {
    await clients.close();
  }
}

export function registerDev(program: Command, ctx: CommandContext): void {
  program
    .command('dev')
    .description('the whole stack locally: init if needed, our Redis (NABOOM_REDIS_PORT), serve and worker, demo accounts; Ctrl-C stops all')
    .action(async () => {
      const g = program.opts<{ envFile?: string }>();
      const envFile = resolve(g.envFile ?? '.env');
      if (!existsSync(envFile)) {
        writeSecretFile(envFile, generateEnv().text, false);
        ctx.io.out(`wrote ${envFile} (mode 0600) with fresh passwords\n`);
      }
      const loaded = loadConfig({ envFile, requireRoles: ROLE_NAMES, requireSecretKey: true, command: 'dev' });
      // NABOOM_REDIS_TLS: the local Redis is TLS-only and every connection of this process uses the local CA
      // and client certificate, whatever REDIS_TLS_* say.
      const certs = loaded.settings.NABOOM_REDIS_TLS ? localCertificates(loaded) : undefined;
      const config = certs ? withLocalTls(loaded, certs) : loaded;
      if (config.topology.kind !== 'standalone' || config.topology.port !== config.settings.NABOOM_REDIS_PORT) {
        throw new NaboomError('NABOOM_CONFIG_INVALID', `naboom dev runs its own Redis on NABOOM_REDIS_PORT=${config.settings.NABOOM_REDIS_PORT}; set REDIS_PORT to the same port`);
      }
      const logger = ctx.logger(config);
      const keys = ctx.keys(config);
      // In a process group of its own: Ctrl-C stops serve and the worker first, while Redis still answers them.
      const redis = await startLocalRedis(config, ctx.io, { ownProcessGroup: true, ...(certs ? { tls: certs } : {}) });
      let server: Awaited<ReturnType<typeof startServer>> | undefined;
      let worker: NotificationWorker | undefined;
      const stopAll = async (): Promise<void> => {
        await server?.stop();
        await worker?.stop(5000);
        await redis.stop();
      };
      try {
        const demo = await ensureDemoAccounts(config, keys, logger);
        worker = new NotificationWorker({ config, keys, logger, metrics: new Metrics() }, { summaryPattern: false });
        await worker.start();
        server = await startServer({ config, keys, logger });
        const u = server.url;
        ctx.io.out(
          [
            '',
            `Naboom is running: ${u}`,
            `  Redis   127.0.0.1:${redis.port} (AOF in ${redis.dir}), one ACL user per role${certs ? `, TLS only (CA ${certs.ca.certFile})` : ''}`,
            `  dashboard   ${u}/   login ${demo.responder.username} / ${demo.responder.password}   (responder; saved in ${join(config.settings.NABOOM_DATA_DIR, 'demo-accounts.json')})`,
            `  panic page  ${u}/panic   login ${demo.resident.username} / ${demo.resident.password}   (a resident's phone: install it to the home screen)`,
            '',
            'Watch alerts arrive (second terminal):',
            `  curl -N ${u}/api/emergency/stream -H 'Authorization: Bearer ${demo.resident.token}'`,
            'Raise one (third terminal):',
            `  curl -X POST ${u}/api/emergency/alerts -H 'Authorization: Bearer ${demo.resident.token}' -H 'Content-Type: application/json' \\`,
            `       -d '{"type":"panic","severity":"critical","location":{"lat":-33.9249,"lon":18.4241,"accuracy_m":20,"address":"Long St, Cape Town"}}'`,
            '',
            config.metricsToken
              ? // The token stays in the env file: the command reads it there instead of printing the secret.
                `Scrape the metrics (METRICS_TOKEN in ${envFile}):\n  curl ${u}/metrics -H "Authorization: Bearer $(sed -n 's/^METRICS_TOKEN=//p' '${envFile}')"`
              : `Metrics: ${u}/metrics is open (no METRICS_TOKEN in ${envFile}; \`naboom init\` writes one)`,
            ...(certs ? ['Other commands (verify, acl, users) reach this TLS-only Redis with, in your .env:', ...Object.entries(localTlsEnv(certs, false)).map(([k, v]) => `  ${k}=${v}`)] : []),
            'Check the deployment: node bin/naboom.js verify --url ' + u,
            'Ctrl-C stops everything.',
            '',
          ].join('\n'),
        );
      } catch (err) {
        await stopAll();
        throw err;
      }
      await runUntilSignal(async () => {
        ctx.io.err('stopping serve, worker and redis…\n');
        await stopAll();
      }, 30_000);
    });
}
