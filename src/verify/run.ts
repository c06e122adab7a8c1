/**
 * `naboom verify`: opens one short-lived connection per role (named `naboom:<role>:verify-<pid>` so their
 * deliberate denials can be told apart in ACL LOG), runs every check and returns the report.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { connectOnce, roleRedisOptions } from '../redis/connections.js';
import { CLIENT_ROLES, type ClientRole } from '../redis/roles.js';
import { aclChecks, VERIFY_CLIENT_MARK } from './acl-checks.js';
import { buildReport, type CheckResult, type VerifyReport } from './report.js';

export interface VerifyOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Extra check groups (round trips) run after the ACL checks, with the role connections. */
  readonly extra?: readonly ((ctx: VerifyContext) => Promise<CheckResult[]>)[];
}

export interface VerifyContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly clients: ReadonlyMap<ClientRole, Redis>;
  readonly admin: Redis;
}

/** A non-retrying connection for one role, so a wrong password fails once and clearly. */
export function verifyClient(config: Config, role: ClientRole, target?: { host: string; port: number }): Redis {
  const label = `${VERIFY_CLIENT_MARK.slice(1)}${process.pid}`;
  const opts = roleRedisOptions(config, config.credentials[role], 'command', label);
  return new Redis({
    ...opts,
    ...(target ? { host: target.host, port: target.port, sentinels: undefined, name: undefined } : {}),
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: false,
    enableReadyCheck: false,
    lazyConnect: true,
  });
}

/** Connects; returns the connection error (e.g. WRONGPASS) instead of throwing. */
async function connectQuietly(c: Redis): Promise<Error | undefined> {
  c.on('error', () => undefined);
  try {
    await connectOnce(c);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** An unauthenticated connection must be refused (NOAUTH): proves `default` is not nopass. */
async function anonymousCheck(config: Config, target?: { host: string; port: number }): Promise<CheckResult> {
  const host = target?.host ?? (config.topology.kind === 'standalone' ? config.topology.host : undefined);
  const port = target?.port ?? (config.topology.kind === 'standalone' ? config.topology.port : undefined);
  if (host === undefined || port === undefined) {
    return { section: 'passwords', name: 'anonymous connections are refused', status: 'skip', detail: 'checked per node with --all-nodes' };
  }
  const c = new Redis({ host, port, retryStrategy: () => null, maxRetriesPerRequest: 0, enableReadyCheck: false, lazyConnect: true, protocol: 2, tls: config.tls.enabled ? {} : undefined });
  await connectQuietly(c);
  try {
    await c.ping();
    return { section: 'passwords', name: 'anonymous connections are refused', status: 'fail', detail: 'PING without AUTH was answered', hint: 'The default user is nopass: run `naboom acl apply`.' };
  } catch (err) {
    const msg = (err as Error).message;
    const ok = /NOAUTH/.test(msg);
    return { section: 'passwords', name: 'anonymous connections are refused', status: ok ? 'pass' : 'fail', detail: `PING → ${msg}` };
  } finally {
    c.disconnect();
  }
}

/** Runs the whole verification against the configured deployment. */
export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const { config } = opts;
  const clients = new Map<ClientRole, Redis>();
  for (const role of CLIENT_ROLES) {
    if (!config.credentials[role].password) continue;
    clients.set(role, verifyClient(config, role));
  }
  const connectErrors = new Map<ClientRole, Error>();
  await Promise.all(
    [...clients].map(async ([role, c]) => {
      const err = await connectQuietly(c);
      if (err) connectErrors.set(role, err);
    }),
  );
  const admin = clients.get('master');
  const checks: CheckResult[] = [];
  try {
    if (!admin) throw new Error('master credentials are required');
    const roleClients = new Map([...clients].filter(([r]) => r !== 'master'));
    // The master's own PING belongs in (a) too.
    const acl = await aclChecks({ config, admin, clients: new Map([['master', admin], ...roleClients]), connectErrors });
    checks.push(...acl);
    checks.push(await anonymousCheck(config));
    for (const group of opts.extra ?? []) {
      checks.push(...(await group({ config, logger: opts.logger, clients: roleClients, admin })));
    }
  } catch (err) {
    checks.push({
      section: 'auth',
      name: 'reach the server as the master role',
      status: 'fail',
      detail: (err as Error).message,
      hint: 'Is Redis running and are REDIS_HOST/REDIS_PORT and REDIS_MASTER_PASSWORD right?',
    });
  } finally {
    for (const c of clients.values()) c.disconnect();
  }
  return buildReport(checks, Date.now() - started);
}
