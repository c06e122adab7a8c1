// Idle footprint of a `naboom serve` process: RSS after start (and `--settle-s` seconds of idleness, which lets
// V8's memory reducer run) and after 1,000 idle subscribed WebSocket connections (KiB per connection), from
// /proc. `--workers N` measures the workers of `serve --workers N` (the average; the primary apart).
// BENCH_NODE_ARGS passes node options as for the other benchmarks (e.g. "--heapsnapshot-signal=SIGUSR2").
// Usage: npm run bench:idle-rss -- --help
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RoleClients } from '../dist/redis/connections.js';
import { UserStore } from '../dist/auth/users.js';
import { createLogger } from '../dist/log/logger.js';
import { createKeySpace, layoutOf } from '../dist/redis/keys.js';
import { log, spawnServe, startBenchRedis, writeResult } from './lib.mjs';
import { benchOptions } from './options.mjs';
import { WebSocket } from 'ws';

const USAGE = `Usage: npm run build && npm run bench:idle-rss -- [options]
RSS of an idle \`naboom serve\` after start and after idle subscribed WebSocket connections (KiB per
connection); writes bench/results/idle-rss.json (idle-rss-workers.json with --workers > 1).
  --connections N   idle subscribed connections (1000)
  --workers N       \`serve --workers N\` (1): the workers' average, the primary apart
  --settle-s S      idle seconds before each reading (3; 30 lets V8's memory reducer run)
Environment: BENCH_BIN, BENCH_NODE_ARGS (e.g. "--heapsnapshot-signal=SIGUSR2").`;
const opts = benchOptions('bench:idle-rss', USAGE, {
  connections: { type: 'number', default: 1000, min: 1, max: 100_000 },
  workers: { type: 'number', default: 1, min: 1, max: 64 },
  'settle-s': { type: 'number', default: 3, min: 0, max: 3600 },
});
const CONNECTIONS = opts.connections;
const WORKERS = opts.workers;
const SETTLE_MS = opts['settle-s'] * 1000;

const redis = await startBenchRedis({ LIVE_MAX_CONNECTIONS_PER_USER: '100000', LIVE_SUBSCRIBES_PER_MIN: '1000000', LOG_LEVEL: 'error' });
const clients = new RoleClients(redis.config, createLogger({ level: 'silent' }));
const users = new UserStore(clients.get('app'), createKeySpace(layoutOf(redis.config)));
await users.add('idle', 'responder', 'idle-password-123');
const token = await users.issueToken('idle');
await clients.close();

// A serve that fails to start must not leave the benchmark's redis-server behind.
const serve = await spawnServe(redis.envFile, { SERVE_WORKERS: String(WORKERS) }).catch(async (err) => {
  await redis.stop();
  throw err;
});
const kiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const workers = WORKERS > 1 ? execFileSync('ps', ['-o', 'pid=', '--ppid', String(serve.pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean) : [serve.pid];
/** The average RSS of the serve processes that hold connections. */
const rssKiB = () => workers.map(kiB).reduce((a, b) => a + b, 0) / workers.length;
const settle = async () => {
  // Let start-up garbage be collected the way an idle process would see it.
  await sleep(SETTLE_MS);
};
await settle();
const idleKiB = rssKiB();
const primaryKiB = WORKERS > 1 ? kiB(serve.pid) : undefined;
log(`idle RSS ${(idleKiB / 1024).toFixed(1)} MiB${primaryKiB ? ` per worker (primary ${(primaryKiB / 1024).toFixed(1)} MiB)` : ''}`);

const sockets = [];
for (let i = 0; i < CONNECTIONS; i++) {
  const ws = new WebSocket(`${serve.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const live = new Promise((resolve) => ws.on('message', (d) => d.toString().includes('"type":"live"') && resolve()));
  ws.send(JSON.stringify({ type: 'subscribe' }));
  await live;
  sockets.push(ws);
}
await settle();
const connectedKiB = rssKiB();
const perConnKiB = ((connectedKiB - idleKiB) * workers.length) / CONNECTIONS;
log(`with ${CONNECTIONS} subscribed: ${(connectedKiB / 1024).toFixed(1)} MiB, ${perConnKiB.toFixed(1)} KiB per connection`);
for (const ws of sockets) ws.terminate();
await serve.stop();
await redis.stop();
const path = writeResult(WORKERS > 1 ? 'idle-rss-workers' : 'idle-rss', { workers: WORKERS, settleS: SETTLE_MS / 1000, ...(primaryKiB ? { primaryRssMiB: Math.round(primaryKiB / 102.4) / 10 } : {}), idleRssMiB: Math.round(idleKiB / 102.4) / 10, connections: CONNECTIONS, connectedRssMiB: Math.round(connectedKiB / 102.4) / 10, perConnectionKiB: Math.round(perConnKiB * 10) / 10 });
log(`result: ${path}`);
