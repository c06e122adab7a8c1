/**
 * `naboom verify`: opens one short-lived connection per role (named `naboom:<role>:verify-<pid>` so their
 * deliberate denials can be told apart in ACL LOG), runs every check and returns the report.
 *
 * On Sentinel and Cluster it also checks every node — masters, replicas, cluster nodes — because ACL changes
 * do not replicate: each node must carry the desired users, and each role must be able to log in to it, so
 * a replica promoted by a failover accepts the application at once.
 */
import { Cluster, Redis } from 'ioredis';
import type { Config, HostPort } from '../config/load.js';
import { isNaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import { connectAdmin, listNodes, nodeName } from '../redis/admin.js';
import { diagnoseClusterAcl, isSlotsRefreshFailure } from '../redis/cluster-acl.js';
import { diffServer } from '../redis/acl/provision.js';
import { desiredRules } from '../redis/acl/rules.js';
import { connectOnce, roleClusterOptions, roleRedisOptions, type RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { CLIENT_ROLES, type ClientRole } from '../redis/roles.js';
import { sentinelView } from '../redis/sentinel.js';
import { classifyTlsError, explainConnectError, probePort, tlsConnectionOptions, tlsMismatch } from '../redis/tls.js';
import { aclChecks, aclLogChecks } from './acl-checks.js';
import { groupAclLog, parseAclLog, VERIFY_CLIENT_MARK, type AclLogEntry } from './acl-log.js';
import { buildReport } from './report.js';
import { tlsChecks } from './tls-checks.js';
import type { CheckResult, VerifyContext, VerifyReport } from './types.js';

export interface VerifyOptions {
  readonly config: Config;
  readonly keys: KeySpace;
  readonly logger: Logger;
  /** Extra check groups (round trips) run after the ACL checks, with the role connections. */
  readonly extra?: readonly ((ctx: VerifyContext) => Promise<CheckResult[]>)[];
  /** `--strict`: ACL LOG denials from clients outside Naboom fail instead of warning. */
  readonly strict?: boolean;
}

const LABEL = `${VERIFY_CLIENT_MARK.slice(1)}${process.pid}`;
const NO_RETRY = { retryStrategy: () => null, maxRetriesPerRequest: 0, enableAutoPipelining: false, enableReadyCheck: false, lazyConnect: true } as const;

/** A non-retrying connection for one role (to one node when `target` is given), so a wrong password fails once and clearly. */
export function verifyClient(config: Config, role: ClientRole, target?: HostPort): Redis {
  const opts = roleRedisOptions(config, config.credentials[role], 'command', LABEL);
  return new Redis({
    ...opts,
    ...(target ? { host: target.host, port: target.port, sentinels: undefined, name: undefined, role: undefined } : {}),
    ...(config.topology.kind === 'cluster' ? { db: 0 } : {}),
    ...NO_RETRY,
  });
}

/** The role's client for the deployment as a whole: a Cluster client on Cluster, else one connection. */
function deploymentClient(config: Config, role: ClientRole): RedisClient {
  if (config.topology.kind !== 'cluster') return verifyClient(config, role);
  const opts = { ...roleRedisOptions(config, config.credentials[role], 'command', LABEL), ...NO_RETRY };
  return new Cluster(
    config.topology.nodes.map((n) => ({ host: n.host, port: n.port })),
    { ...roleClusterOptions(opts), clusterRetryStrategy: () => null, lazyConnect: true, enableReadyCheck: true },
  );
}

/** The first error each client reported: a handshake failure that a later "Connection is closed." hides. */
const firstErrors = new WeakMap<RedisClient, Error>();

/** Connects; returns the connection error (e.g. WRONGPASS) instead of throwing. */
async function connectQuietly(c: RedisClient): Promise<Error | undefined> {
  c.on('error', (e: Error) => {
    if (!firstErrors.has(c)) firstErrors.set(c, e);
  });
  try {
    if (c instanceof Cluster) await c.connect();
    else await connectOnce(c);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** ACL LOG as the master role; undefined when it cannot be read (the checks that follow report why). */
async function readAclLog(admin: Redis): Promise<AclLogEntry[] | undefined> {
  try {
    return parseAclLog(await admin.call('ACL', 'LOG', '512'));
  } catch {
    return undefined;
  }
}

/** The node verify's master-role checks (ACL DRYRUN, GETUSER, LOG) run on. */
async function primaryNode(config: Config): Promise<HostPort> {
  const t = config.topology;
  if (t.kind === 'standalone') return { host: t.host, port: t.port };
  if (t.kind === 'sentinel') return (await sentinelView(config)).master;
  const first = t.nodes[0];
  if (!first) throw new Error('REDIS_CLUSTER_NODES is empty');
  return first;
}

/** An unauthenticated connection must be refused (NOAUTH): proves `default` is not nopass. */
async function anonymousCheck(config: Config, at: HostPort, node?: string): Promise<CheckResult> {
  // Over TLS like every other connection (with the client certificate, if any): the question is whether the
  // server asks for a password, not whether it speaks TLS.
  const c = new Redis({ host: at.host, port: at.port, ...NO_RETRY, protocol: 2, tls: tlsConnectionOptions(config.tls) });
  const base = { section: 'passwords', name: 'anonymous connections are refused', ...(node ? { node } : {}) } as const;
  const connectError = await connectQuietly(c);
  const tlsError = connectError ? await explainConnectError(connectError, config.tls, at, nodeName(at)) : undefined;
  if (tlsError) {
    c.disconnect();
    return { ...base, status: 'fail', detail: `connect → ${tlsError.code}: ${tlsError.message}`, hint: tlsError.hint };
  }
  try {
    await c.ping();
    return { ...base, status: 'fail', detail: 'PING without AUTH was answered', hint: 'The default user is nopass: run `naboom acl apply --all-nodes`.' };
  } catch (err) {
    const msg = (err as Error).message;
    return { ...base, status: /NOAUTH/.test(msg) ? 'pass' : 'fail', detail: `PING → ${msg}` };
  } finally {
    c.disconnect();
  }
}

/** Every node: the desired users, every role able to log in, nothing refused in ACL LOG, no anonymous access. */
async function nodeChecks(config: Config, primary: HostPort | undefined, strict: boolean): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const rules = desiredRules(config);
  for (const n of await listNodes(config)) {
    const node = `${nodeName(n)} (${n.role ?? 'node'})`;
    let admin: Redis | undefined;
    try {
      admin = await connectAdmin(config, n);
      const drift = (await diffServer(admin, rules)).filter((d) => d.problems.length > 0);
      out.push({
        section: 'nodes',
        node,
        name: 'carries the desired ACL users',
        status: drift.length === 0 ? 'pass' : 'fail',
        detail: drift.length === 0 ? 'in sync' : drift.map((d) => `${d.username}: ${d.problems.join('; ')}`).join(' | '),
        hint: drift.length === 0 ? undefined : 'ACL changes do not replicate: run `naboom acl apply --all-nodes`.',
      });
      const groups = groupAclLog(parseAclLog(await admin.call('ACL', 'LOG', '512')), Date.now(), node);
      // The primary's foreign denials are already reported in section acl-log.
      const isPrimary = primary !== undefined && n.host === primary.host && n.port === primary.port;
      out.push(...aclLogChecks(groups, { strict, node, section: 'nodes', name: 'ACL LOG holds no denial of normal operation', foreign: !isPrimary }));
    } catch (err) {
      out.push({ section: 'nodes', node, name: 'reachable as the master role', status: 'fail', detail: (err as Error).message, hint: 'Check the node and REDIS_MASTER_PASSWORD.' });
      continue;
    } finally {
      admin?.disconnect();
    }
    for (const role of CLIENT_ROLES) {
      if (role === 'master' || !config.credentials[role].password) continue;
      const c = verifyClient(config, role, n);
      const err = await connectQuietly(c);
      const pong = err ? undefined : await c.ping().catch((e: Error) => e.message);
      c.disconnect();
      out.push({
        section: 'nodes',
        node,
        role,
        name: `${config.credentials[role].username} can log in${n.role === 'replica' ? ' (a promoted replica accepts it)' : ''}`,
        status: pong === 'PONG' ? 'pass' : 'fail',
        detail: err ? `connect → ${err.message}` : `PING → ${pong ?? ''}`,
      });
    }
    out.push(await anonymousCheck(config, n, node));
  }
  return out;
}

/** Runs the whole verification against the configured deployment. */
export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const { config } = opts;
  const checks: CheckResult[] = [];
  const clients = new Map<ClientRole, RedisClient>();
  let admin: Redis | undefined;
  try {
    const primary = await primaryNode(config);
    // A TLS client on a plaintext port waits out its whole connect timeout, once per connection: ask the
    // port first (a TLS handshake and a PING, well under a second when it answers) and stop there.
    const speaks = await probePort(primary, config.tls);
    if (speaks === 'plain' && config.tls.enabled) throw tlsMismatch(nodeName(primary), true);
    if ((speaks === 'tls' || speaks === 'tls-closed-after-handshake') && !config.tls.enabled) throw tlsMismatch(nodeName(primary), false);
    for (const role of CLIENT_ROLES) {
      if (role === 'master' || !config.credentials[role].password) continue;
      clients.set(role, deploymentClient(config, role));
    }
    const connectErrors = new Map<ClientRole, Error>();
    await Promise.all(
      [...clients].map(async ([role, c]) => {
        const err = await connectQuietly(c);
        if (!err) return;
        const tls = await explainConnectError(err, config.tls, config.topology.kind === 'cluster' ? undefined : primary, nodeName(primary));
        connectErrors.set(role, tls ?? (isSlotsRefreshFailure(err) ? ((await diagnoseClusterAcl(config, [role]).catch(() => undefined)) ?? err) : err));
      }),
    );
    admin = verifyClient(config, 'master', primary);
    const adminError = await connectQuietly(admin);
    if (adminError) connectErrors.set('master', (await explainConnectError(adminError, config.tls, primary, nodeName(primary))) ?? adminError);
    const logBefore = adminError ? undefined : await readAclLog(admin);
    const acl = await aclChecks({
      config,
      admin,
      clients: new Map<ClientRole, RedisClient>([['master', admin], ...clients]),
      connectErrors,
      strict: opts.strict ?? false,
      ...(logBefore ? { logBefore, runMark: `:${LABEL}` } : {}),
    });
    checks.push(...acl);
    checks.push(await anonymousCheck(config, primary));
    if (!adminError) checks.push(...(await tlsChecks(config, new Map<ClientRole, RedisClient>([['master', admin], ...clients]))));
    if (config.topology.kind !== 'standalone') checks.push(...(await nodeChecks(config, primary, opts.strict ?? false)));
    for (const group of opts.extra ?? []) {
      checks.push(...(await group({ config, keys: opts.keys, logger: opts.logger, clients, admin })));
    }
  } catch (caught) {
    // A plaintext client on a TLS port connects, then the server closes it: the first command says only
    // "Connection is closed.", so ask the port whether it speaks TLS.
    const t = config.topology;
    const hidden = [admin, ...clients.values()].map((c) => (c ? firstErrors.get(c) : undefined)).find((e) => e !== undefined && classifyTlsError(e, config.tls));
    const err = (await explainConnectError(hidden ?? caught, config.tls, t.kind === 'standalone' ? { host: t.host, port: t.port } : undefined, t.kind === 'standalone' ? `${t.host}:${t.port}` : 'Redis').catch(() => undefined)) ?? caught;
    checks.push({
      section: 'auth',
      name: 'reach the server as the master role',
      status: 'fail',
      detail: isNaboomError(err) ? `${err.code}: ${err.message}` : (err as Error).message,
      hint: isNaboomError(err) && err.code.startsWith('NABOOM_REDIS_TLS_') ? err.hint : 'Is Redis running and are REDIS_HOST/REDIS_PORT (or REDIS_SENTINELS / REDIS_CLUSTER_NODES) and REDIS_MASTER_PASSWORD right?',
    });
  } finally {
    for (const c of clients.values()) c.disconnect();
    admin?.disconnect();
  }
  return buildReport(checks, Date.now() - started);
}
