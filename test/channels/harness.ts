/** Channel-layer test helpers: one "process" = its own RoleClients, Metrics and ChannelLayer. */
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll } from 'vitest';
import { ChannelLayer } from '../../src/channels/layer.js';
import type { Config } from '../../src/config/load.js';
import type { Settings } from '../../src/config/schema.js';
import { Secret } from '../../src/config/secret.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { createKeySpace, layoutOf } from '../../src/redis/keys.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

export interface TestProcess {
  readonly layer: ChannelLayer;
  readonly clients: RoleClients;
  readonly metrics: Metrics;
  readonly config: Config;
  close(): Promise<void>;
}

export interface ProcessOptions {
  readonly settings?: Partial<Pick<Settings, 'CHANNEL_CAPACITY' | 'CHANNEL_EXPIRY_S' | 'GROUP_EXPIRY_S'>>;
  /** SECRET_KEY entries (plain strings, ≥ 32 characters); default: the test server's. */
  readonly secretKeys?: readonly string[];
  readonly logger?: Logger;
  readonly start?: boolean;
}

export const silent = createLogger({ level: 'silent' });

/** A config with other channel limits or keys, same server and credentials. */
export function withChannelSettings(config: Config, opts: ProcessOptions): Config {
  return Object.freeze({
    ...config,
    settings: Object.freeze({ ...config.settings, ...opts.settings }),
    secretKeys: opts.secretKeys ? Object.freeze(opts.secretKeys.map((k) => new Secret(k))) : config.secretKeys,
  });
}

export async function startProcess(base: Config, opts: ProcessOptions = {}): Promise<TestProcess> {
  const config = withChannelSettings(base, opts);
  const logger = opts.logger ?? silent;
  const clients = new RoleClients(config, logger);
  const metrics = new Metrics();
  const layer = new ChannelLayer({ clients, config, keys: createKeySpace(layoutOf(config)), logger, metrics });
  if (opts.start !== false) await layer.start();
  return {
    layer,
    clients,
    metrics,
    config,
    close: async () => {
      await layer.close();
      await clients.close();
    },
  };
}

/** Current value of a counter for one label set (0 when never incremented). */
export async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const data = await counter.get();
  const hit = data.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}

export const key32 = (c: string): string => c.repeat(40);

/** What `twoProcesses()` provides once its `beforeAll` has run. */
export interface TwoProcesses {
  t: TestRedis;
  /** Admin connection on the channel layer's DB (1). */
  admin: Redis;
  a: TestProcess;
  b: TestProcess;
  /** Starts one more process, closed with the others. */
  proc: (opts?: ProcessOptions) => Promise<TestProcess>;
}

/**
 * For the enclosing `describe`: one redis-server with the generated ACL, an admin connection and two
 * channel-layer processes, all stopped after the suite.
 */
export function twoProcesses(): TwoProcesses {
  const opened: TestProcess[] = [];
  const env = {} as TwoProcesses;
  env.proc = async (opts = {}) => {
    const p = await startProcess(env.t.config, opts);
    opened.push(p);
    return p;
  };
  beforeAll(async () => {
    env.t = await startTestRedis();
    env.admin = await connectAdmin(env.t.config);
    await env.admin.select(1);
    env.a = await env.proc();
    env.b = await env.proc();
  });
  afterAll(async () => {
    for (const p of opened) await p.close();
    env.admin?.disconnect();
    await env.t?.stop();
  });
  return env;
}
