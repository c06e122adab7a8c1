// The latency cost of acknowledging an alert only after a replica has it (WAIT), on the local Sentinel
// topology (1 master, 1 replica, 3 Sentinels, AOF on): the same load against `naboom serve` with
// ALERT_MIN_REPLICAS=1 (the HA default) and with ALERT_MIN_REPLICAS=0.
// Usage: npm run bench:wait -- --help
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { UserStore } from '../dist/auth/users.js';
import { generateEnv } from '../dist/config/generate.js';
import { loadConfig } from '../dist/config/load.js';
import { startSentinelTopology } from '../dist/local/topologies.js';
import { createLogger } from '../dist/log/logger.js';
import { RoleClients } from '../dist/redis/connections.js';
import { createKeySpace, layoutOf } from '../dist/redis/keys.js';
import { ROLE_NAMES } from '../dist/redis/roles.js';
import { log, spawnServe, writeResult } from './lib.mjs';
import { benchOptions } from './options.mjs';

const USAGE = `Usage: npm run build && npm run bench:wait -- [options]
Raise latency with ALERT_MIN_REPLICAS=1 (WAIT for a replica) and 0, on the local Sentinel topology;
writes bench/results/wait.json.
  --connections N   HTTP connections (16)
  --seconds S       seconds per setting (8)`;
const opts = benchOptions('bench:wait', USAGE, {
  connections: { type: 'number', default: 16, min: 1, max: 10_000 },
  seconds: { type: 'number', default: 8, min: 1, max: 3600 },
});
const CONNECTIONS = opts.connections;
const SECONDS = opts.seconds;
const body = JSON.stringify({ type: 'panic', severity: 'high', location: { lat: -33.9, lon: 18.4 } });

function cannon(url, token, duration) {
  return new Promise((resolve, reject) =>
    autocannon(
      { url: `${url}/api/emergency/alerts`, method: 'POST', connections: CONNECTIONS, duration, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body },
      (err, r) => (err ? reject(err) : resolve(r)),
    ),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'naboom-bench-wait-'));
const base = { ...generateEnv(6379).vars, LOG_LEVEL: 'error', RATE_LIMIT_ALERTS_PER_USER: '1000000', RATE_LIMIT_ALERTS_PER_IP: '1000000' };
const bootstrap = loadConfig({ env: base, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true });
const topo = await startSentinelTopology(bootstrap, { dir: join(dir, 'redis'), appendonly: true });
const servers = [];
try {
  const envFor = (minReplicas) => {
    const file = join(dir, `env-${minReplicas}`);
    writeFileSync(file, Object.entries({ ...base, ...topo.env, ALERT_MIN_REPLICAS: String(minReplicas) }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    return file;
  };
  const withWait = envFor(1);
  const config = loadConfig({ env: {}, envFile: withWait, requireRoles: ROLE_NAMES, requireSecretKey: true });
  const clients = new RoleClients(config, createLogger({ level: 'silent' }));
  const users = new UserStore(clients.get('app'), createKeySpace(layoutOf(config)));
  await users.add('bench', 'member', 'bench-password-123');
  const token = await users.issueToken('bench');
  await clients.close();

  const results = {};
  for (const minReplicas of [0, 1]) {
    const serve = await spawnServe(envFor(minReplicas));
    servers.push(serve);
    await cannon(serve.url, token, 2);
    const r = await cannon(serve.url, token, SECONDS);
    results[`ALERT_MIN_REPLICAS=${minReplicas}`] = { alertsPerS: Math.round(r.requests.average), latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99 }, non2xx: r.non2xx };
    log(`ALERT_MIN_REPLICAS=${minReplicas}`, JSON.stringify(results[`ALERT_MIN_REPLICAS=${minReplicas}`]));
    await serve.stop();
    servers.pop();
  }
  const a = results['ALERT_MIN_REPLICAS=0'];
  const b = results['ALERT_MIN_REPLICAS=1'];
  const result = {
    command: 'node bench/wait.mjs',
    topology: 'local Sentinel: 1 master, 1 replica (loopback), 3 Sentinels, AOF everysec',
    connections: CONNECTIONS,
    results,
    waitCostMs: { p50: +(b.latencyMs.p50 - a.latencyMs.p50).toFixed(2), p99: +(b.latencyMs.p99 - a.latencyMs.p99).toFixed(2) },
  };
  log(`results written to ${writeResult('wait', result)}`);
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  for (const s of servers) await s.stop().catch(() => undefined);
  await topo.stop();
  rmSync(dir, { recursive: true, force: true });
}
