// Idle footprint of one `naboom serve` process: RSS after start and after 1,000 idle subscribed WebSocket
// connections (KiB per connection), with V8's heap numbers, from /proc. BENCH_NODE_ARGS profiles as for the
// other benchmarks (e.g. "--heapsnapshot-signal=SIGUSR2").
// Usage: npm run build && node bench/idle-rss.mjs [--connections 1000]
import { setTimeout as sleep } from 'node:timers/promises';
import { RoleClients } from '../dist/redis/connections.js';
import { UserStore } from '../dist/auth/users.js';
import { createLogger } from '../dist/log/logger.js';
import { createKeySpace, layoutOf } from '../dist/redis/keys.js';
import { log, spawnServe, startBenchRedis, writeResult } from './lib.mjs';
import { WebSocket } from 'ws';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CONNECTIONS = arg('connections', 1000);

const redis = await startBenchRedis({ LIVE_MAX_CONNECTIONS_PER_USER: '100000', LIVE_SUBSCRIBES_PER_MIN: '1000000', LOG_LEVEL: 'error' });
const clients = new RoleClients(redis.config, createLogger({ level: 'silent' }));
const users = new UserStore(clients.get('app'), createKeySpace(layoutOf(redis.config)));
await users.add('idle', 'responder', 'idle-password-123');
const token = await users.issueToken('idle');
await clients.close();

const serve = await spawnServe(redis.envFile);
const settle = async () => {
  // Let start-up garbage be collected the way an idle process would see it.
  await sleep(3000);
};
await settle();
const idleKiB = serve.rssKiB();
log(`idle RSS ${(idleKiB / 1024).toFixed(1)} MiB`);

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
const connectedKiB = serve.rssKiB();
const perConnKiB = (connectedKiB - idleKiB) / CONNECTIONS;
log(`with ${CONNECTIONS} subscribed: ${(connectedKiB / 1024).toFixed(1)} MiB, ${perConnKiB.toFixed(1)} KiB per connection`);
for (const ws of sockets) ws.terminate();
await serve.stop();
await redis.stop();
const path = writeResult('idle-rss', { idleRssMiB: Math.round(idleKiB / 102.4) / 10, connections: CONNECTIONS, connectedRssMiB: Math.round(connectedKiB / 102.4) / 10, perConnectionKiB: Math.round(perConnKiB * 10) / 10 });
log(`result: ${path}`);
