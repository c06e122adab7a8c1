/** Sentinel and Cluster topologies for tests: our local topologies plus a config pointing Naboom at them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEnv } from '../../src/config/generate.js';
import { loadConfig, type Config, type HostPort } from '../../src/config/load.js';
import { ensureLocalCertificates, localTlsEnv, serverTls } from '../../src/local/tls-certs.js';
import { startClusterTopology, startSentinelTopology, type ClusterTopology, type SentinelTopology, type TopologyOptions } from '../../src/local/topologies.js';
import { createKeySpace, layoutOf, type KeySpace } from '../../src/redis/keys.js';
import { ROLE_NAMES } from '../../src/redis/roles.js';
import { sentinelView } from '../../src/redis/sentinel.js';
import { waitFor } from '../../src/local/wait.js';

export interface TestTopology<T> {
  readonly topo: T;
  readonly config: Config;
  readonly keys: KeySpace;
  readonly envFile: string;
  readonly env: Record<string, string>;
  /** The Sentinels' event lines so far (`+sdown`, `+odown`, `+try-failover`, `-failover-abort-…`, `+switch-master`…), newest last. */
  sentinelEvents(): readonly string[];
  stop(): Promise<void>;
}

/** Sentinel event lines kept for a failure message: enough for several election rounds. */
const KEPT_EVENTS = 200;

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
  const events: string[] = [];
  // Sentinel logs each state change as `# +event …` or `# -event …`; kept to explain a failover that did not happen.
  const onLine = (who: string, line: string): void => {
    if (!who.startsWith('sentinel-') || !/ [#*] [+-][a-z]/.test(line)) return;
    events.push(`${who}: ${line}`);
    if (events.length > KEPT_EVENTS) events.shift();
  };
  const bootstrap = loadConfig({ env: base, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true });
  const topo = (kind === 'sentinel'
    ? await startSentinelTopology(bootstrap, { dir: join(dir, 'redis'), appendonly: true, onLine, ...serverSide })
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
    sentinelEvents: () => [...events],
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

/**
 * Waits for the Sentinels to promote another node than `oldMasterPort`, and says how long that took. Sentinel
 * retries an election that split its votes only after twice the failover timeout (10 s here), so a loaded
 * machine may need two or three rounds; on timeout the error carries the Sentinels' own account of them.
 */
export async function awaitFailover(t: TestTopology<SentinelTopology>, oldMasterPort: number, since: number, timeoutMs = 45_000): Promise<{ master: HostPort; ms: number }> {
  try {
    return await waitFor(
      `Sentinel to promote a node other than ${oldMasterPort}`,
      async () => {
        const v = await sentinelView(t.config).catch(() => undefined);
        return v && v.master.port !== oldMasterPort ? { master: v.master, ms: Date.now() - since } : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nSentinel events:\n${t.sentinelEvents().join('\n')}`, { cause: err });
  }
}
