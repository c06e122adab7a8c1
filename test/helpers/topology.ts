/** Sentinel and Cluster topologies for tests: our local topologies plus a config pointing Naboom at them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEnv } from '../../src/config/generate.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { ensureLocalCertificates, localTlsEnv, serverTls } from '../../src/local/tls-certs.js';
import { startClusterTopology, startSentinelTopology, type ClusterTopology, type SentinelTopology, type TopologyOptions } from '../../src/local/topologies.js';
import { createKeySpace, layoutOf, type KeySpace } from '../../src/redis/keys.js';
import { ROLE_NAMES } from '../../src/redis/roles.js';

export interface TestTopology<T> {
  readonly topo: T;
  readonly config: Config;
  readonly keys: KeySpace;
  readonly envFile: string;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

async function start<T extends SentinelTopology | ClusterTopology>(
  kind: 'sentinel' | 'cluster',
  extraEnv: Record<string, string>,
  topoOptions: Partial<TopologyOptions> = {},
  tls = false,
): Promise<TestTopology<T>> {
  const dir = mkdtempSync(join(tmpdir(), `naboom-${kind}-`));
  // TLS: every node and Sentinel TLS-only with certificates from a local CA, Naboom pointed at the CA.
  const certs = tls ? ensureLocalCertificates(join(dir, 'tls')) : undefined;
  const base = { ...generateEnv(6379).vars, LOG_LEVEL: 'warn', ...(certs ? localTlsEnv(certs, false) : {}), ...extraEnv };
  const serverSide = certs ? { tls: serverTls(certs) } : {};
  const bootstrap = loadConfig({ env: base, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true });
  const topo = (kind === 'sentinel'
    ? await startSentinelTopology(bootstrap, { dir: join(dir, 'redis'), appendonly: true, ...serverSide })
    : await startClusterTopology(bootstrap, { dir: join(dir, 'redis'), appendonly: true, ...serverSide, ...topoOptions })) as T;
  const env: Record<string, string> = { ...base, ...topo.env };
  const envFile = join(dir, '.env');
  writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const config = loadConfig({ env: {}, envFile, requireRoles: ROLE_NAMES, requireSecretKey: true });
  return {
    topo,
    config,
    keys: createKeySpace(layoutOf(config)),
    envFile,
    env,
    stop: async () => {
      await topo.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const startTestSentinel = (env: Record<string, string> = {}): Promise<TestTopology<SentinelTopology>> => start<SentinelTopology>('sentinel', env);
/** `topoOptions.aclFileContent` replaces the nodes' ACL file (e.g. one rendered for the standalone layout). */
export const startTestCluster = (env: Record<string, string> = {}, topoOptions: Partial<TopologyOptions> = {}): Promise<TestTopology<ClusterTopology>> =>
  start<ClusterTopology>('cluster', env, topoOptions);

/** The same topologies with every node and Sentinel TLS-only (`tls-replication`, `tls-cluster`). */
export const startTestTlsSentinel = (env: Record<string, string> = {}): Promise<TestTopology<SentinelTopology>> => start<SentinelTopology>('sentinel', env, {}, true);
export const startTestTlsCluster = (env: Record<string, string> = {}): Promise<TestTopology<ClusterTopology>> => start<ClusterTopology>('cluster', env, {}, true);
