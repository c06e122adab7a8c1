// The peer benchmark: Socket.IO 4.8 + @socket.io/redis-adapter (2 processes on an ACL'd Redis), plain ws
// (1 process, no Redis) and Naboom (`naboom serve --workers 2`: 2 serve processes on one port; alerts
// POSTed to the API, through the durable feed, received on /ws), one after another on this machine, with the same client processes and publisher.
// Writes bench/results/peers.json: per contender p50/p95/p99/max, deliveries/s, lost, duplicates, server CPU
// per delivery and RSS per 1,000 connections. Usage: npm run bench:peers -- --help
import { fork, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { UserStore } from '../../dist/auth/users.js';
import { createLogger } from '../../dist/log/logger.js';
import { freePort } from '../../dist/local/redis-server.js';
import { RoleClients } from '../../dist/redis/connections.js';
import { createKeySpace, layoutOf } from '../../dist/redis/keys.js';
import { childrenOf, cpuSeconds, log, median, percentile, spawnServe, startBenchRedis, writeResult } from '../lib.mjs';
import { benchOptions } from '../options.mjs';

const PROFILES = {
  light: { clients: 1000, rate: 10, messages: 200 },
  saturating: { clients: 2000, rate: 100, messages: 500 },
};
const USAGE = `Usage: npm run build && npm run bench:peers -- [options]
Socket.IO 4.8 + redis-adapter (2 processes), plain ws (1 process) and Naboom (serve --workers 2), one after
another with the same client processes and publisher; writes bench/results/peers.json.
  --profile P        light (1,000 clients, 10/s × 200), saturating (2,000, 100/s × 500) or both (both)
  --clients N        clients (the profile's)            --rate R          alerts per second (the profile's)
  --messages M       measured alerts (the profile's)    --payload BYTES   padding of each alert (200)
  --client-procs P   client processes (2)               --warmup W        unmeasured alerts first (20)
  --rounds R         rounds per profile, contenders interleaved, median reported (light 5, saturating 1)
  --only LIST        contenders, comma-separated: socketio, ws, naboom (all three)
  --naboom MODE      workers (serve --workers 2), separate (2 serve processes on 2 ports) or
                     single (1 serve process: what the second process costs or saves on this machine)
Environment: BENCH_BIN (another build's bin/naboom.js), BENCH_NODE_ARGS (node options for every server).`;
const opts = benchOptions('bench:peers', USAGE, {
  profile: { type: 'string', default: 'both', choices: ['light', 'saturating', 'both'] },
  clients: { type: 'number', min: 1, max: 100_000 },
  rate: { type: 'number', min: 0.1, max: 100_000 },
  messages: { type: 'number', min: 1, max: 1_000_000 },
  payload: { type: 'number', default: 200, min: 0, max: 1_000_000 },
  'client-procs': { type: 'number', default: 2, min: 1, max: 64 },
  warmup: { type: 'number', default: 20, min: 0, max: 10_000 },
  rounds: { type: 'number', min: 1, max: 100 },
  only: { type: 'list', default: ['socketio', 'ws', 'naboom'], choices: ['socketio', 'ws', 'naboom'] },
  naboom: { type: 'string', default: 'workers', choices: ['workers', 'separate', 'single'] },
});
const profileNames = opts.profile === 'both' ? ['light', 'saturating'] : [opts.profile];
const PAYLOAD = opts.payload;
const CLIENT_PROCS = opts['client-procs'];
const ONLY = opts.only;
const NABOOM_MODE = opts.naboom;
const DRAIN_IDLE_MS = 5000;
// Every contender first gets WARMUP alerts at the profile's rate, not measured (their seq starts at
// WARM_BASE; client.mjs counts them apart): the first alerts after a start pay for JIT compilation and first
// connections in every contender, and in a profile of 200 alerts two slow ones are its p99. Their worst
// latency is reported as `warmupMaxMs`.
const WARMUP = opts.warmup;
const WARM_BASE = 1_000_000;
// The light profile's p99 is its two slowest alerts: one run is one draw of a noisy tail. Each profile runs
// `--rounds` times (contenders interleaved) and reports each contender's median round. Five light rounds: on a
// 2-core machine one contender's p99 moves by a third from one round to the next, and three rounds' median still
// moved the ratio across its limit from run to run.
const DEFAULT_ROUNDS = { light: 5, saturating: 1 };
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const rssKiB = async (pid) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** A peer server process (servers.mjs); resolves once it listens. */
async function spawnPeer(kind, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), here('./servers.mjs'), kind, String(port)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d.toString();
      if (err.includes('listening')) resolve();
      if (!d.toString().includes('listening')) process.stderr.write(`[${kind}] ${d}`);
    });
    child.once('exit', (code) => reject(new Error(`${kind} exited ${code}: ${err}`)));
  });
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The same publisher for everyone: `messages` alerts at `rate`/s, each stamped with its send time. */
async function publish(p, post, base = 0) {
  const start = now();
  const pending = [];
  const pad = (s) => s + ' '.repeat(Math.max(0, PAYLOAD - s.length));
  for (let i = 0; i < p.messages; i++) {
    const due = start + (i * 1000) / p.rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    pending.push(post(base + i, now(), pad));
  }
  const statuses = await Promise.all(pending);
  return { start, failed: statuses.filter((s) => s >= 300).length };
}

async function forkClients(kind, urls, p, token) {
  const procs = [];
  for (let i = 0; i < CLIENT_PROCS; i++) {
    const count = Math.floor(p.clients / CLIENT_PROCS) + (i < p.clients % CLIENT_PROCS ? 1 : 0);
    // Connections spread over the contender's processes: each client process starts at another one.
    const rotated = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
    const child = fork(here('./client.mjs'), [JSON.stringify({ kind, urls: rotated, count, token, expectedPerConnection: p.messages })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    procs.push(child);
  }
  await Promise.all(procs.map((c) => new Promise((resolve, reject) => {
    c.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error('client not ready'))));
    c.once('exit', (code) => reject(new Error(`client exited ${code}`)));
  })));
  const ask = (c, type) => new Promise((resolve) => {
    const on = (m) => {
      if (m.type === (type === 'finish' ? 'result' : type)) {
        c.off('message', on);
        resolve(m);
      }
    };
    c.on('message', on);
    c.send({ type });
  });
  return {
    received: async () => (await Promise.all(procs.map((c) => ask(c, 'status')))).reduce((a, m) => a + m.received, 0),
    warm: async () => {
      const all = await Promise.all(procs.map((c) => ask(c, 'status')));
      return { received: all.reduce((a, m) => a + m.warm, 0), worst: Math.max(...all.map((m) => m.warmWorst)) };
    },
    finish: () => Promise.all(procs.map((c) => ask(c, 'finish'))),
  };
}

async function measure(name, p, servers, post, token, redisPid) {
  // A cluster primary only hands connections over: its RSS is reported apart, its CPU counted with its workers'.
  const primaries = servers.filter((s) => s.workers).map((s) => s.pid);
  const pids = servers.flatMap((s) => (s.workers ? childrenOf(s.pid) : [s.pid]));
  const cpuPids = [...pids, ...primaries];
  const primaryRssMiB = primaries.length ? Math.round((await rssKiB(primaries[0])) / 10.24) / 100 : null;
  const rssIdle = (await Promise.all(pids.map(rssKiB))).reduce((a, b) => a + b, 0);
  const clients = await forkClients(name === 'naboom' ? 'naboom' : name, servers.map((s) => s.url), p, token);
  await sleep(1000);
  const rssConnected = (await Promise.all(pids.map(rssKiB))).reduce((a, b) => a + b, 0);
  let warmupMaxMs = null;
  if (WARMUP > 0) {
    await publish({ ...p, messages: WARMUP }, post, WARM_BASE);
    const want = p.clients * WARMUP;
    let w = await clients.warm();
    for (let lastChange = Date.now(), last = w.received; w.received < want && Date.now() - lastChange < DRAIN_IDLE_MS; w = await clients.warm()) {
      if (w.received !== last) [last, lastChange] = [w.received, Date.now()];
      await sleep(100);
    }
    if (w.received < want) throw new Error(`warm-up: ${w.received} of ${want} deliveries arrived`);
    warmupMaxMs = Math.round(w.worst * 10) / 10;
  }
  const cpu0 = cpuPids.map(cpuSeconds);
  const redisCpu0 = redisPid ? cpuSeconds(redisPid) : 0;
  const load = loadavg()[0];
  const { start, failed } = await publish(p, post);
  const expected = p.clients * p.messages;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const got = await clients.received();
    if (got >= expected) break;
    if (got !== last) {
      last = got;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > DRAIN_IDLE_MS) break;
    await sleep(100);
  }
  const cpu = cpuPids.map(cpuSeconds).reduce((a, c, i) => a + c - cpu0[i], 0);
  const redisCpu = redisPid ? cpuSeconds(redisPid) - redisCpu0 : 0;
  const results = await clients.finish();
  const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const deliveries = results.reduce((a, r) => a + r.deliveries, 0);
  const lastAt = Math.max(...results.map((r) => r.lastAt));
  const seconds = (lastAt - start) / 1000;
  const r2 = (x) => Math.round(x * 100) / 100;
  // The five slowest alerts (their slowest delivery over every client process), and their seq.
  const worst = new Map();
  for (const r of results) for (const [seq, ms] of r.worst) worst.set(seq, Math.max(worst.get(seq) ?? 0, ms));
  const slowestAlerts = [...worst].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([seq, ms]) => ({ seq, ms }));
  return {
    processes: pids.length,
    deliveries,
    expected,
    lost: results.reduce((a, r) => a + r.lost, 0),
    duplicates: results.reduce((a, r) => a + r.duplicates, 0),
    publishFailed: failed,
    warmup: WARMUP,
    warmupMaxMs,
    slowestAlerts,
    latencyMs: { p50: r2(percentile(all, 50)), p95: r2(percentile(all, 95)), p99: r2(percentile(all, 99)), max: r2(all.at(-1) ?? NaN) },
    deliveriesPerS: Math.round(deliveries / seconds),
    serverCpuUsPerDelivery: r2((cpu * 1e6) / deliveries),
    redisCpuUsPerDelivery: redisPid ? r2((redisCpu * 1e6) / deliveries) : null,
    rssIdleMiBPerProcess: r2(rssIdle / 1024 / pids.length),
    ...(primaryRssMiB !== null ? { primaryRssMiB } : {}),
    rssMiBPer1000Connections: r2((rssConnected - rssIdle) / 1024 / (p.clients / 1000)),
    loadAverage1mAtStart: r2(load),
  };
}

async function makeNaboomUsers(config) {
  const clients = new RoleClients(config, createLogger({ level: 'silent' }));
  const users = new UserStore(clients.get('app'), createKeySpace(layoutOf(config)));
  await users.add('peer-publisher', 'member', 'peer-password-123');
  await users.add('peer-board', 'responder', 'peer-password-123');
  const publisher = await users.issueToken('peer-publisher');
  const board = await users.issueToken('peer-board');
  await clients.close();
  return { publisher, board };
}

const post = async (url, body, headers = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await res.arrayBuffer();
  return res.status;
};

// Every benchmark alert is raised at one spot: linking's worst case (README "Related alerts"). BENCH_RELATED=off
// switches linking off to measure the fan-out alone.
const redis = await startBenchRedis({ RATE_LIMIT_ALERTS_PER_USER: '1000000', RATE_LIMIT_ALERTS_PER_IP: '1000000', LIVE_MAX_CONNECTIONS_PER_USER: '100000', LIVE_SUBSCRIBES_PER_MIN: '1000000', LOG_LEVEL: 'error', ...(process.env.BENCH_RELATED === 'off' ? { RELATED_RADIUS_M: '0' } : {}) });
// Socket.IO's adapter gets a user of its own on the same Redis: pub/sub on its channels and nothing else
// (a PSUBSCRIBE pattern must be granted literally).
const sioPassword = `sio-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const admin = new Redis({ host: '127.0.0.1', port: redis.port, username: redis.env.REDIS_MASTER_USER ?? 'default', password: redis.env.REDIS_MASTER_PASSWORD });
await admin.call('ACL', 'SETUSER', 'socketio_bench', 'reset', 'on', `>${sioPassword}`, 'resetchannels', '&socket.io*', '&socket.io#/#*', '-@all', '+publish', '+spublish', '+subscribe', '+psubscribe', '+unsubscribe', '+punsubscribe', '+pubsub|numsub', '+pubsub|shardnumsub', '+ping');
await admin.quit();
const sioRedis = JSON.stringify({ port: redis.port, username: 'socketio_bench', password: sioPassword });
const tokens = await makeNaboomUsers(redis.config);

const out = { command: `npm run bench:peers -- ${process.argv.slice(2).join(' ')}`.trim(), payloadBytes: PAYLOAD, clientProcesses: CLIENT_PROCS, naboom: NABOOM_MODE, profiles: {} };
try {
  for (const profileName of profileNames) {
    const p = { ...PROFILES[profileName] };
    if (opts.clients !== undefined) p.clients = opts.clients;
    if (opts.rate !== undefined) p.rate = opts.rate;
    if (opts.messages !== undefined) p.messages = opts.messages;
    const rounds = opts.rounds ?? DEFAULT_ROUNDS[profileName] ?? 1;
    const profile = { ...p, rounds, contenders: {} };
    out.profiles[profileName] = profile;
    const runs = Object.fromEntries(ONLY.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      // Each round starts with another contender, so none is always first (or last) on a warming machine.
      const order = ONLY.map((_, i) => ONLY[(i + round) % ONLY.length]);
      for (const name of order) {
        log(`${profileName} round ${round + 1}/${rounds}: ${name}, ${p.clients} clients, ${p.rate}/s × ${p.messages} …`);
        let servers = [];
        try {
          if (name === 'socketio') {
            servers = await Promise.all([spawnPeer('socketio', { BENCH_SIO_REDIS: sioRedis }), spawnPeer('socketio', { BENCH_SIO_REDIS: sioRedis })]);
            let i = 0;
            runs.socketio.push(await measure(name, p, servers, (seq, t, pad) => post(`${servers[i++ % 2].url}/publish`, JSON.stringify({ seq, t, pad: pad('') })), undefined, redis.server.pid));
          } else if (name === 'ws') {
            servers = [await spawnPeer('ws')];
            runs.ws.push(await measure(name, p, servers, (seq, t, pad) => post(`${servers[0].url}/publish`, JSON.stringify({ seq, t, pad: pad('') })), undefined, undefined));
          } else if (name === 'naboom') {
            // `naboom serve --workers 2`: two serve processes on one port, connections spread by the primary;
            // `--naboom separate`: two single serve processes on two ports (versions without --workers);
            // `--naboom single`: one serve process (diagnosis: what the second process costs on this machine).
            if (NABOOM_MODE === 'single') servers = [await spawnServe(redis.envFile)];
            else if (NABOOM_MODE === 'separate') servers = await Promise.all([spawnServe(redis.envFile), spawnServe(redis.envFile)]);
            else servers = [{ ...(await spawnServe(redis.envFile, { SERVE_WORKERS: '2' })), workers: 2 }];
            await sleep(500);
            let i = 0;
            const raise = (seq, t, pad) =>
              post(`${servers[i++ % servers.length].url}/api/emergency/alerts`, JSON.stringify({ type: 'panic', severity: 'high', location: { lat: -33.92, lon: 18.42 }, description: pad(`seq=${seq} t=${t} `) }), { authorization: `Bearer ${tokens.publisher}` });
            runs.naboom.push(await measure(name, p, servers, raise, tokens.board, redis.server.pid));
          }
          log(JSON.stringify(runs[name].at(-1)));
        } finally {
          await Promise.all(servers.map((s) => s.stop()));
        }
      }
    }
    // Each contender is reported by its median round (by the profile's measure: p99 when light, deliveries/s
    // when saturating), whole, with every round's summary beside it.
    for (const name of ONLY) {
      const measureOf = (r) => (profileName === 'light' ? r.latencyMs.p99 : -r.deliveriesPerS);
      const sorted = [...runs[name]].sort((a, b) => measureOf(a) - measureOf(b));
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      if (!median) continue;
      profile.contenders[name] = {
        ...median,
        ...(rounds > 1 ? { roundsSummary: runs[name].map((r) => ({ p50: r.latencyMs.p50, p99: r.latencyMs.p99, deliveriesPerS: r.deliveriesPerS, cpuUs: r.serverCpuUsPerDelivery, lost: r.lost, load: r.loadAverage1mAtStart })) } : {}),
      };
    }
    const c = profile.contenders;
    if (c.naboom && c.socketio) {
      profile.ratios = {
        naboomDeliveriesVsSocketio: Math.round((c.naboom.deliveriesPerS / c.socketio.deliveriesPerS) * 100) / 100,
        naboomCpuPerDeliveryVsSocketio: Math.round((c.naboom.serverCpuUsPerDelivery / c.socketio.serverCpuUsPerDelivery) * 100) / 100,
        ...(c.ws ? { naboomP99VsWs: Math.round((c.naboom.latencyMs.p99 / c.ws.latencyMs.p99) * 100) / 100 } : {}),
      };
    }
    // The same ratio round by round: Naboom's p99 against plain ws's in the same round (run minutes apart at
    // most), and its median — a second reading of the light target that a slow stretch of the machine in one
    // contender's median round does not move. The target is judged on naboomP99VsWs above.
    if (c.naboom && c.ws && runs.naboom.length === runs.ws.length && rounds > 1) {
      const perRound = runs.naboom.map((r, i) => Math.round((r.latencyMs.p99 / runs.ws[i].latencyMs.p99) * 100) / 100);
      profile.ratios = { ...profile.ratios, naboomP99VsWsPerRound: perRound, naboomP99VsWsPerRoundMedian: Math.round(median(perRound) * 100) / 100 };
    }
  }
  log(`results written to ${writeResult('peers', out)}`);
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} finally {
  await redis.stop();
}
