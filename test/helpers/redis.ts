/**
 * Test Redis servers: each test file starts its own redis-server on a free port with the ACL file our code
 * generates, and stops it afterwards. Never the machine's Redis on 6379.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEnv } from '../../src/config/generate.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { freePort, startRedisServer, type RunningRedis } from '../../src/local/redis-server.js';
import { renderAclFile } from '../../src/redis/acl/render.js';
import { desiredRules } from '../../src/redis/acl/rules.js';
import { createKeySpace, layoutOf, type KeySpace } from '../../src/redis/keys.js';
import { ROLE_NAMES } from '../../src/redis/roles.js';

export interface TestRedis {
  readonly server: RunningRedis;
  readonly port: number;
  readonly dir: string;
  readonly envFile: string;
  /** The generated environment (passwords included): for child processes only, never logged. */
  readonly env: Record<string, string>;
  readonly config: Config;
  /** The key space of `config`, built once as a process does at start. */
  readonly keys: KeySpace;
  /** Reloads the config from the env file (after a rotation). */
  reload(): Config;
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** Extra variables written into the env file. */
  readonly env?: Record<string, string>;
  /** Replace the generated ACL file. */
  readonly aclFileContent?: (generated: string) => string;
  readonly appendonly?: boolean;
}

export async function startTestRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  if (process.env['REDIS_PORT'] === '6379') delete process.env['REDIS_PORT'];
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'naboom-test-'));
  const generated = generateEnv(port);
  const env: Record<string, string> = { ...generated.vars, REDIS_PORT: String(port), NABOOM_REDIS_PORT: String(port), LOG_LEVEL: 'warn', ...opts.env };
  const envFile = join(dir, '.env');
  writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const load = (): Config => loadConfig({ env: {}, envFile, requireRoles: ROLE_NAMES, requireSecretKey: true });
  const config = load();
  const acl = renderAclFile(desiredRules(config));
  const server = await startRedisServer({
    port,
    dir: join(dir, 'redis'),
    aclFileContent: opts.aclFileContent ? opts.aclFileContent(acl) : acl,
    appendonly: opts.appendonly ?? false,
  });
  return {
    server,
    port,
    dir,
    envFile,
    env,
    config,
    keys: createKeySpace(layoutOf(config)),
    reload: load,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
