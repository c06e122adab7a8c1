/**
 * Starts our own `redis-server` processes: the one `naboom redis` and `naboom dev` run, and the ones the
 * test suite starts on free ports. Settings go into a 0600 config file in the data directory, never on the
 * command line (where `ps` would show a replication password).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { NaboomError } from '../errors/catalogue.js';

/** A TLS-only server: no plaintext port, the certificates, and whether clients must show one. */
export interface LocalTlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** `optional` (default): a client certificate is checked when given; `yes`: mutual TLS is required. */
  readonly authClients?: 'optional' | 'yes';
}

export interface RedisServerOptions {
  readonly port: number;
  /** Data directory (created); holds the config file, AOF and logs. */
  readonly dir: string;
  /** Contents of the ACL file to use (written to `<dir>/users.acl`). */
  readonly aclFileContent: string;
  readonly appendonly?: boolean;
  readonly bind?: string;
  /** Replicate from this master (needs `replicationAuth`). */
  readonly replicaOf?: { host: string; port: number };
  /** masteruser/masterauth: how this node logs in to a master (set on every node that may become a replica). */
  readonly replicationAuth?: { user: string; password: string };
  readonly cluster?: boolean;
  /** Listen with TLS only (`port 0`), replicating and (with `cluster`) gossiping over TLS too. */
  readonly tls?: LocalTlsOptions;
  /** Extra `directive value` lines. */
  readonly extraConfig?: readonly string[];
  /** Called with every line the server prints. */
  readonly onLine?: (line: string) => void;
  readonly startTimeoutMs?: number;
  /**
   * Run the server in a process group of its own (`naboom dev`): a terminal's Ctrl-C reaches only the parent,
   * which stops its services first and the server last — instead of the server shutting down at once while
   * they still drain. The server is stopped when the parent exits in any way it can react to.
   */
  readonly ownProcessGroup?: boolean;
}

export interface RunningRedis extends LaunchedProcess {
  readonly dir: string;
  readonly aclFile: string;
  /** Starts the same server again (same config, data and AOF), e.g. after a kill in a fault test. */
  restart(): Promise<RunningRedis>;
}

/** Absolute path of redis-server, or a NaboomError telling how to install it. */
export function findRedisServer(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin', '/usr/sbin'])) {
    if (!dir) continue;
    const p = join(dir, 'redis-server');
    if (existsSync(p)) return p;
  }
  throw new NaboomError('NABOOM_REDIS_SERVER_MISSING');
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return await new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** The directives of a TLS-only listener on `port` (shared by nodes and Sentinels). */
export function tlsDirectives(t: LocalTlsOptions, port: number): string[] {
  return [
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${resolve(t.certFile)}`,
    `tls-key-file ${resolve(t.keyFile)}`,
    `tls-ca-cert-file ${resolve(t.caFile)}`,
    `tls-auth-clients ${t.authClients ?? 'optional'}`,
  ];
}

/** Renders the redis.conf for our servers. */
export function renderRedisConf(o: RedisServerOptions, aclFile: string): string {
  const lines = [
    ...(o.tls ? tlsDirectives(o.tls, o.port) : [`port ${o.port}`]),
    `bind ${o.bind ?? '127.0.0.1'}`,
    'protected-mode yes',
    'daemonize no',
    `dir ${resolve(o.dir)}`,
    `aclfile ${aclFile}`,
    `appendonly ${o.appendonly === false ? 'no' : 'yes'}`,
    'appendfsync everysec',
    'save ""',
    'enable-debug-command no',
    'enable-module-command no',
    'enable-protected-configs no',
    'acllog-max-len 512',
    // Replicas sync at once instead of after the default 5 s diskless-sync delay.
    'repl-diskless-sync-delay 0',
    'logfile ""',
    'loglevel notice',
  ];
  if (o.replicationAuth) lines.push(`masteruser ${o.replicationAuth.user}`, `masterauth ${o.replicationAuth.password}`);
  if (o.replicaOf) lines.push(`replicaof ${o.replicaOf.host} ${o.replicaOf.port}`);
  if (o.tls) lines.push('tls-replication yes', ...(o.cluster ? ['tls-cluster yes'] : []));
  if (o.cluster) {
    lines.push('cluster-enabled yes', `cluster-config-file nodes-${o.port}.conf`, 'cluster-node-timeout 2000', 'cluster-require-full-coverage yes');
  }
  lines.push(...(o.extraConfig ?? []));
  return lines.join('\n') + '\n';
}

/** Starts redis-server and resolves once it accepts connections. */
export async function startRedisServer(o: RedisServerOptions): Promise<RunningRedis> {
  const bin = findRedisServer();
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const aclFile = join(dir, 'users.acl');
  writeFileSync(aclFile, o.aclFileContent, { mode: 0o600 });
  chmodSync(aclFile, 0o600);
  const confFile = join(dir, 'redis.conf');
  writeFileSync(confFile, renderRedisConf(o, aclFile), { mode: 0o600 });
  chmodSync(confFile, 0o600);

  const run = async (): Promise<RunningRedis> => {
    const proc = await launch(bin, [confFile], 'Ready to accept connections', o.port, o.onLine, o.startTimeoutMs, o.ownProcessGroup);
    return { ...proc, dir, aclFile, restart: run };
  };
  return await run();
}

export interface LaunchedProcess {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

/** Spawns a redis-server (or Sentinel) and resolves once it prints `readyMarker`. */
export async function launch(
  bin: string,
  args: readonly string[],
  readyMarker: string,
  port: number,
  onLine?: (line: string) => void,
  startTimeoutMs = 15_000,
  ownProcessGroup = false,
): Promise<LaunchedProcess> {
  const child = spawn(bin, [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: ownProcessGroup });
  // Out of the terminal's reach, the server must not outlive this process: stopped on exit (process.exit
  // included; a SIGKILL of this process leaves it, as it would leave any child).
  const stopOnExit = (): void => void child.kill('SIGTERM');
  if (ownProcessGroup) process.once('exit', stopOnExit);
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code) => {
      process.off('exit', stopOnExit);
      res(code);
    }),
  );
  const tail: string[] = [];
  let ready: (() => void) | undefined;
  const readyP = new Promise<void>((res) => (ready = res));
  let buf = '';
  const onData = (chunk: Buffer): void => {
    buf += chunk.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      tail.push(line);
      if (tail.length > 30) tail.shift();
      onLine?.(line);
      if (line.includes(readyMarker)) ready?.();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    readyP.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), startTimeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    if (outcome === 'timeout') child.kill('SIGKILL');
    throw new NaboomError('NABOOM_REDIS_START_FAILED', `${bin} on port ${port} ${outcome === 'timeout' ? 'did not become ready' : 'exited'}:\n${tail.join('\n')}`);
  }

  const stopWith = async (signal: NodeJS.Signals, timeoutMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((res) => (t = setTimeout(res, timeoutMs)))]);
    clearTimeout(t);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    port,
    pid: child.pid ?? -1,
    child,
    exited,
    stop: (ms = 5000) => stopWith('SIGTERM', ms),
    kill: () => stopWith('SIGKILL', 5000),
  };
}
