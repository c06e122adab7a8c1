/**
 * Role clients: one ioredis client per (role, purpose) per process, created on first use, named
 * `naboom:<role>:<pid>`, authenticated as the role's own ACL user and closed on shutdown. Request-path
 * clients fail fast (command timeout, one retry); blocking and subscriber clients wait for Redis instead.
 * The original helper opened a new pool on every call; here a second `get()` returns the same client.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config, RoleCredentials } from '../config/load.js';
import type { Secret } from '../config/secret.js';
import { rereadPassword, rereadTls } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import { isNoPermError } from './errors.js';
import { CLIENT_ROLES, roleSpec, type ClientRole } from './roles.js';
import { classifyTlsError, explainConnectError, tlsConnectionOptions } from './tls.js';

export type RedisClient = Redis | Cluster;

/**
 * - `command`: request paths (HTTP handlers); fails fast so the API can answer 503 instead of hanging.
 * - `blocking`: XREAD BLOCK / BLPOP loops and workers; waits through outages.
 * - `subscriber`: pub/sub; waits and resubscribes.
 */
export type ClientPurpose = 'command' | 'blocking' | 'subscriber';

export interface RoleClientHooks {
  /** Called for every NOPERM reply, with the role that received it (metrics). */
  onNoPerm?(role: ClientRole): void;
}

/**
 * Connects a `lazyConnect` client once. ioredis reports the real reason (WRONGPASS, ECONNREFUSED) on the
 * 'error' event and rejects `connect()` with a generic "Connection is closed": this returns the real one.
 */
export async function connectOnce(client: Redis): Promise<void> {
  let reported: Error | undefined;
  const onError = (err: Error): void => {
    reported ??= err;
  };
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    throw reported ?? err;
  } finally {
    client.off('error', onError);
  }
}

/** Capped exponential backoff with jitter: 50 ms, 100 ms, … up to 2 s. */
export function reconnectDelay(times: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(times, 6));
  return base + Math.floor(Math.random() * 100);
}

/** True for an ACL refusal, also when a Lua script ran into it. */
export function isNoPerm(err: unknown): boolean {
  return isNoPermError(err);
}

/**
 * ioredis options for one role; exported for libraries that open their own connections (BullMQ).
 * `db` overrides the role's default database (standalone/Sentinel only; Cluster has DB 0).
 */
export function roleRedisOptions(config: Config, cred: RoleCredentials, purpose: ClientPurpose, label = `${process.pid}`, db?: number): RedisOptions {
  const spec = roleSpec(cred.role);
  if (!cred.password) {
    throw new NaboomError('NABOOM_CONFIG_MISSING_SECRET', `Missing or empty: ${cred.passwordVariable}`);
  }
  const s = config.settings;
  const opts: RedisOptions = {
    username: cred.username,
    password: cred.password.reveal(),
    connectionName: `naboom:${cred.role}:${label}`,
    // CLIENT SETINFO is an unknown subcommand on Redis 7.0 and needs an extra grant on 7.2+.
    disableClientInfo: true,
    keepAlive: 10_000,
    noDelay: true,
    connectTimeout: 5000,
    retryStrategy: reconnectDelay,
    lazyConnect: false,
  };
  const database = db ?? spec.db;
  if (config.topology.kind !== 'cluster' && database !== undefined) opts.db = database;
  const tls = tlsConnectionOptions(config.tls);
  if (tls) opts.tls = tls;
  if (purpose === 'command') {
    opts.commandTimeout = s.REDIS_COMMAND_TIMEOUT_MS;
    opts.maxRetriesPerRequest = 1;
    opts.enableAutoPipelining = true;
  } else {
    opts.maxRetriesPerRequest = null;
  }
  if (config.topology.kind === 'sentinel') {
    const sentinel = config.credentials.sentinel;
    opts.sentinels = config.topology.sentinels.map((n) => ({ host: n.host, port: n.port }));
    opts.name = config.topology.masterName;
    opts.role = 'master';
    if (sentinel.password) {
      opts.sentinelUsername = sentinel.username;
      opts.sentinelPassword = sentinel.password.reveal();
    }
    opts.sentinelRetryStrategy = reconnectDelay;
    // The Sentinels and the nodes they name are reached over TLS alike (tls-replication on the nodes).
    opts.enableTLSForSentinelMode = config.tls.enabled;
    if (tls) opts.sentinelTLS = tls;
    // A demoted master answers READONLY after a failover: reconnect so Sentinel hands us the new one.
    opts.reconnectOnError = (err) => (err.message.startsWith('READONLY') ? 2 : false);
  } else if (config.topology.kind === 'standalone') {
    opts.host = config.topology.host;
    opts.port = config.topology.port;
  }
  return opts;
}

/** Cluster options wrapping the per-node role options. */
export function roleClusterOptions(redisOptions: RedisOptions): ClusterOptions {
  return {
    redisOptions,
    clusterRetryStrategy: reconnectDelay,
    // No auto-pipelining on Cluster: ioredis retries a pipelined command after a failover (connection closed,
    // CLUSTERDOWN, TRYAGAIN) with a fresh command timeout each time, so one call could wait up to
    // maxRedirections × REDIS_COMMAND_TIMEOUT_MS. A plain command keeps the one timer armed when it was issued.
    enableAutoPipelining: false,
    scaleReads: 'master',
    enableOfflineQueue: true,
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    maxRedirections: 16,
  };
}

/**
 * Starts a Cluster command's timeout when the command is issued, not when it reaches a node.
 *
 * Why: a node connection arms `commandTimeout` only when it writes the command; while the Cluster itself is not
 * ready (slots refresh after a failover, every node reconnecting) commands wait in the Cluster's offline queue
 * with no timer at all, so a request could hang for the whole failover. Arming the timer here covers that wait,
 * the retries after MOVED/TRYAGAIN/CLUSTERDOWN and the node's own queue (ioredis arms a command's timer once).
 * ioredis 6 has no supported hook for this: its `ioredis:command` tracing channel only observes, and only
 * commands a node connection writes. test/foundation/role-clients.test.ts pins the offline-queue behaviour this
 * relies on; when it fails after an ioredis upgrade, this wrapper may be unnecessary.
 */
function timeClusterCommandsFromIssue(cluster: Cluster, timeoutMs: number): void {
  const send = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = (command, stream, node) => {
    command.setTimeout(timeoutMs);
    return send(command, stream, node);
  };
}

/**
 * Calls `onRefused` with the command name for every NOPERM reply a client receives, by wrapping each command's
 * reject as the command is sent (no extra promise per command on the hot path).
 *
 * Why a wrapper and not ioredis' tracing channel: ioredis 6 publishes every command and its reply error on the
 * `ioredis:command` diagnostics channel, but the context names only the command, its arguments, the database and
 * the server address, not the client that sent it. Every role talks to the same server (on Cluster all in DB 0),
 * so the role would be lost. test/foundation/role-clients.test.ts pins what that context carries.
 *
 * A Cluster sends every command through one of its node connections: those are wrapped as they appear.
 * A command issued before the connection is ready passes sendCommand twice (queued, then flushed): wrap once.
 */
function countNoPermReplies(client: RedisClient, onRefused: (command: string) => void): void {
  const wrapped = new WeakSet<object>();
  const wrap = (conn: Redis): void => {
    const send = conn.sendCommand.bind(conn);
    conn.sendCommand = (command, stream) => {
      if (wrapped.has(command)) return send(command, stream);
      wrapped.add(command);
      const reject = command.reject;
      command.reject = (err: Error) => {
        if (isNoPerm(err)) onRefused(command.name);
        reject(err);
      };
      return send(command, stream);
    };
  };
  if (client instanceof Cluster) {
    for (const node of client.nodes()) wrap(node);
    client.on('+node', (node: Redis) => wrap(node));
  } else {
    wrap(client);
  }
}

/** Creates one client for a role (not cached; use `RoleClients.get` in services). */
export function createRoleClient(config: Config, cred: RoleCredentials, purpose: ClientPurpose, label?: string, db?: number): RedisClient {
  const opts = roleRedisOptions(config, cred, purpose, label, db);
  if (config.topology.kind === 'cluster') {
    const cluster = new Cluster(
      config.topology.nodes.map((n) => ({ host: n.host, port: n.port })),
      roleClusterOptions(opts),
    );
    if (opts.commandTimeout !== undefined) timeClusterCommandsFromIssue(cluster, opts.commandTimeout);
    return cluster;
  }
  return new Redis(opts);
}

/** Options of a dedicated client. */
export interface DedicatedOptions {
  /** Default `blocking`: a loop that owns its connection waits through outages. */
  readonly purpose?: ClientPurpose;
  /** Another of the role's databases (standalone/Sentinel only; ignored on Cluster). */
  readonly db?: number;
}

interface Registered {
  readonly role: ClientRole;
  readonly client: RedisClient;
}

/**
 * The per-process registry of role clients: every client it creates or adopts gets the one error-log throttle,
 * the one NOPERM count, the one password reload and the one close.
 */
export class RoleClients {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #hooks: RoleClientHooks;
  readonly #clients = new Map<string, Registered>();
  readonly #lastErrorLog = new Map<string, number>();
  /** Passwords re-read after a rotation; they win over the (frozen) configuration for new clients. */
  readonly #rotated = new Map<ClientRole, Secret>();
  /** TLS material re-read after a certificate rotation; wins over the configuration for new connections. */
  #tls: Config['tls'];
  /** The last TLS failure of each client, so a "Connection is closed." later can be explained. */
  readonly #tlsFailures = new WeakMap<object, NaboomError>();
  readonly #tlsProbed = new WeakSet<object>();
  #adopted = 0;
  #closed = false;

  constructor(config: Config, logger: Logger, hooks: RoleClientHooks = {}) {
    this.#config = config;
    this.#log = logger;
    this.#hooks = hooks;
    this.#tls = config.tls;
  }

  get config(): Config {
    return this.#config;
  }

  /**
   * The client for a role and purpose, created on first use. `db` selects another of the role's databases
   * (the app role keeps cache, queue and sessions in DBs 0, 2 and 3 on standalone; see databases.ts).
   */
  get(role: ClientRole, purpose: ClientPurpose = 'command', db?: number): RedisClient {
    this.#assertOpen();
    const database = this.#config.topology.kind === 'cluster' ? undefined : db;
    const id = `${role}/${purpose}${database === undefined ? '' : `/db${database}`}`;
    const existing = this.#clients.get(id);
    if (existing) return existing.client;
    const label = [process.pid, purpose === 'command' ? undefined : purpose, database === undefined ? undefined : `db${database}`].filter((x) => x !== undefined).join(':');
    return this.#register(role, id, createRoleClient(this.#current(), this.#credentials(role), purpose, label, database));
  }

  /**
   * A client of its own, named `naboom:<role>:<pid>:<name>` (for a loop that must own a connection, e.g. one
   * BLPOP per channel, or a library such as BullMQ that needs one). The same name returns the same client.
   */
  dedicated(role: ClientRole, name: string, opts: DedicatedOptions = {}): RedisClient {
    this.#assertOpen();
    const id = `${role}/dedicated/${name}`;
    const existing = this.#clients.get(id);
    if (existing) return existing.client;
    const database = this.#config.topology.kind === 'cluster' ? undefined : opts.db;
    return this.#register(role, id, createRoleClient(this.#current(), this.#credentials(role), opts.purpose ?? 'blocking', `${process.pid}:${name}`, database));
  }

  /**
   * Takes in a copy that a library made of one of these clients (BullMQ duplicates a worker's client for its
   * blocking reads, under its own connection name): its NOPERM replies are counted for the role, its errors
   * logged, rotated passwords reach it (also one rotated before it was adopted) and `close()` ends it unless
   * its owner already did.
   */
  adopt(role: ClientRole, client: RedisClient): void {
    this.#assertOpen();
    for (const r of this.#clients.values()) if (r.client === client) return;
    this.#adopted += 1;
    this.#register(role, `${role}/adopted/${this.#adopted}`, client);
    this.#applyRotated(role, client);
  }

  #assertOpen(): void {
    if (this.#closed) throw new NaboomError('NABOOM_SHUTTING_DOWN', 'Redis clients are closed');
  }

  /** The configuration with the TLS material as last re-read. */
  #current(): Config {
    return this.#tls === this.#config.tls ? this.#config : { ...this.#config, tls: this.#tls };
  }

  /** The TLS failure (NABOOM_REDIS_TLS_*) that last stopped this client from connecting, if any. */
  tlsFailure(client: RedisClient): NaboomError | undefined {
    return this.#tlsFailures.get(client);
  }

  /**
   * Re-reads the CA, client certificate and key files (a rotated certificate) and uses them from every
   * client's next (re)connect; true when something changed. Connections already open keep their session.
   */
  reloadTls(): boolean {
    const fresh = rereadTls(this.#tls);
    const same = fresh.ca === this.#tls.ca && fresh.cert === this.#tls.cert && fresh.key?.reveal() === this.#tls.key?.reveal();
    if (same) return false;
    this.#tls = fresh;
    const opts = tlsConnectionOptions(fresh);
    if (!opts) return false;
    for (const { client } of this.#clients.values()) {
      const targets = client instanceof Cluster ? [(client.options.redisOptions ??= {}), ...client.nodes().map((n) => n.options)] : [client.options];
      for (const t of targets) {
        t.tls = opts;
        if (t.sentinelTLS) t.sentinelTLS = opts;
      }
    }
    return true;
  }

  #credentials(role: ClientRole): RoleCredentials {
    const rotated = this.#rotated.get(role);
    return rotated ? { ...this.#config.credentials[role], password: rotated } : this.#config.credentials[role];
  }

  /** Re-reads every role's password from its source and uses it for the next (re)connect and new clients. */
  reloadCredentials(): string[] {
    // Certificates rotate the same way as passwords: new files, picked up at the next (re)connect.
    if (this.reloadTls()) this.#log.info({ ca: this.#tls.caFile, cert: this.#tls.certFile }, 'TLS certificates re-read; used from the next connection on');
    const changed = new Set<ClientRole>();
    for (const role of CLIENT_ROLES) {
      const fresh = rereadPassword(this.#config.credentials[role]);
      if (!fresh || fresh.reveal() === this.#credentials(role).password?.reveal()) continue;
      this.#rotated.set(role, fresh);
      changed.add(role);
    }
    for (const { role, client } of this.#clients.values()) {
      if (this.#applyRotated(role, client)) changed.add(role);
    }
    return [...changed];
  }

  /** Writes the role's rotated password where the client reads it on its next (re)connect; true if it changed. */
  #applyRotated(role: ClientRole, client: RedisClient): boolean {
    const fresh = this.#rotated.get(role)?.reveal();
    if (fresh === undefined) return false;
    // A Cluster keeps one connection per node, each with its own copy of the options.
    const targets = client instanceof Cluster ? [(client.options.redisOptions ??= {}), ...client.nodes().map((n) => n.options)] : [client.options];
    let changed = false;
    for (const t of targets) {
      if (t.password === fresh) continue;
      t.password = fresh;
      changed = true;
    }
    return changed;
  }

  /** Closes every client: QUIT where possible, disconnect after a short grace. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#clients.values()].map((r) => r.client);
    this.#clients.clear();
    await Promise.all(
      all.map(async (c) => {
        // Already gone (disconnected or closed by its owner): QUIT would fail and the fallback would keep the
        // process alive for ioredis' reconnect timer.
        if (c.status === 'end') return;
        // QUIT never settles on a connection that is down (it waits behind the offline queue, and a disconnect
        // while ioredis waits to reconnect flushes nothing): give up on it after a second.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), 1000);
        });
        const quit = await Promise.race([c.quit().then(() => true, () => false), late]);
        clearTimeout(timer);
        if (!quit) c.disconnect();
      }),
    );
  }

  /**
   * A plaintext client on a TLS port, a TLS client on a plaintext port and a server that wants a client
   * certificate all look like a connection that ended without a word: ask the port once, so the log and
   * /health/redis can name the cause instead of "Connection is closed.".
   */
  #probeTlsPort(role: ClientRole, id: string, client: RedisClient, err: unknown): void {
    const t = this.#config.topology;
    if (t.kind !== 'standalone' || this.#tlsProbed.has(client)) return;
    this.#tlsProbed.add(client);
    void explainConnectError(err, this.#tls, { host: t.host, port: t.port }, `${t.host}:${t.port}`).then(
      (found) => {
        if (!found) return;
        this.#tlsFailures.set(client, found);
        this.#log.error({ role, client: id, code: found.code, hint: found.hint, err: found.message }, 'redis TLS handshake failed');
      },
      () => undefined,
    );
  }

  #register(role: ClientRole, id: string, client: RedisClient): RedisClient {
    client.on('error', (err: unknown) => {
      const tlsFailure = classifyTlsError(err, this.#tls);
      if (tlsFailure) this.#tlsFailures.set(client, tlsFailure);
      else this.#probeTlsPort(role, id, client, err);
      const now = Date.now();
      if (now - (this.#lastErrorLog.get(id) ?? 0) < 5000) return;
      this.#lastErrorLog.set(id, now);
      // A TLS failure does not heal by retrying: say what it is and which variable fixes it.
      if (tlsFailure) this.#log.error({ role, client: id, code: tlsFailure.code, hint: tlsFailure.hint, err: tlsFailure.message }, 'redis TLS handshake failed');
      else this.#log.warn({ role, client: id, err }, 'redis connection error');
    });
    countNoPermReplies(client, (command) => {
      this.#log.error({ role, command }, 'redis refused a command (NOPERM)');
      this.#hooks.onNoPerm?.(role);
    });
    this.#clients.set(id, { role, client });
    return client;
  }
}
