/**
 * "A provisioned redis-server": our redis-server with the ACL file our code renders from the configuration,
 * so every role logs in as its own user exactly as in production. `startProvisionedNode` starts one node
 * (`naboom redis`, `naboom dev`, each node of a local Sentinel or Cluster topology);
 * `startProvisionedRedis` adds what tests and benchmarks need around it: fresh passwords, a free port, a
 * temporary directory with the env file, and a stop that removes it all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEnv } from '../config/generate.js';
import { loadConfig, type Config } from '../config/load.js';
import { renderAclFile } from '../redis/acl/render.js';
import { desiredRules } from '../redis/acl/rules.js';
import { createKeySpace, layoutOf, type KeyLayout, type KeySpace } from '../redis/keys.js';
import { ROLE_NAMES } from '../redis/roles.js';
import { freePort, startRedisServer, type RedisServerOptions, type RunningRedis } from './redis-server.js';
import { ensureLocalCertificates, localTlsEnv, serverTls, type LocalCertificates } from './tls-certs.js';

export interface ProvisionedNodeOptions extends Omit<RedisServerOptions, 'aclFileContent'> {
  /** Whose users the node carries. */
  readonly config: Config;
  /** Key layout of the rendered ACL (a Cluster node needs the hash-tagged patterns); default the config's. */
  readonly layout?: KeyLayout;
  /** Replaces the rendered ACL file, given it (to reproduce a misconfiguration). */
  readonly aclFileContent?: (rendered: string) => string;
}

/** Starts one redis-server whose users.acl is rendered from `config` by our own ACL code. */
export async function startProvisionedNode(o: ProvisionedNodeOptions): Promise<RunningRedis> {
  const { config, layout, aclFileContent, ...server } = o;
  const rendered = renderAclFile(desiredRules(config, layout ?? layoutOf(config)));
  return await startRedisServer({ ...server, aclFileContent: aclFileContent ? aclFileContent(rendered) : rendered });
}

export interface ProvisionedRedisOptions {
  /** Extra variables written into the env file (over the generated ones). */
  readonly env?: Readonly<Record<string, string>>;
  /** Replaces the rendered ACL file, given it. */
  readonly aclFileContent?: (rendered: string) => string;
  /** AOF on or off (default on, as `naboom redis` runs it). */
  readonly appendonly?: boolean;
  /** Prefix of the temporary directory's name. */
  readonly tmpPrefix?: string;
  /**
   * A TLS-only server with certificates from a fresh local CA (under `<dir>/tls`), the env pointing at them;
   * `clientCertificate` also sets REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE (mutual TLS).
   */
  readonly tls?: { readonly authClients?: 'optional' | 'yes'; readonly clientCertificate?: boolean };
}

export interface ProvisionedRedis {
  readonly server: RunningRedis;
  readonly port: number;
  /** The temporary directory: the env file, and the server's data under `redis/`. */
  readonly dir: string;
  readonly envFile: string;
  /** The generated environment (passwords included): for child processes only, never logged. */
  readonly env: Record<string, string>;
  readonly config: Config;
  /** The key space of `config`, built once as a process does at start. */
  readonly keys: KeySpace;
  /** The local certificates when started with `tls`. */
  readonly certs: LocalCertificates | undefined;
  /** Reloads the config from the env file (after a rotation). */
  reload(): Config;
  /** Stops the server and removes the temporary directory. */
  stop(): Promise<void>;
}

/** Fresh passwords, a free port and a temporary directory, and a provisioned redis-server on them. */
export async function startProvisionedRedis(o: ProvisionedRedisOptions = {}): Promise<ProvisionedRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), o.tmpPrefix ?? 'naboom-'));
  try {
    const certs = o.tls ? ensureLocalCertificates(join(dir, 'tls')) : undefined;
    const env: Record<string, string> = {
      ...generateEnv(port).vars,
      REDIS_PORT: String(port),
      NABOOM_REDIS_PORT: String(port),
      LOG_LEVEL: 'warn',
      ...(certs ? localTlsEnv(certs, o.tls?.clientCertificate ?? false) : {}),
      ...o.env,
    };
    const envFile = join(dir, '.env');
    writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    const load = (): Config => loadConfig({ env: {}, envFile, requireRoles: ROLE_NAMES, requireSecretKey: true });
    const config = load();
    const server = await startProvisionedNode({
      config,
      port,
      dir: join(dir, 'redis'),
      appendonly: o.appendonly ?? true,
      ...(certs ? { tls: serverTls(certs, o.tls?.authClients) } : {}),
      ...(o.aclFileContent ? { aclFileContent: o.aclFileContent } : {}),
    });
    return {
      server,
      port,
      dir,
      envFile,
      env,
      config,
      keys: createKeySpace(layoutOf(config)),
      certs,
      reload: load,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

