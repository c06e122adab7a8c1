// Soak: the whole system under steady load and rotating faults for N minutes, with compressed time.
// One command starts the local Sentinel topology (1 master, 1 replica, 3 Sentinels, AOF on), `naboom serve`
// ×2 and `naboom worker`, raises alerts at a steady rate through both serve processes (retried with their
// Idempotency-Key on 503, as a panic app does), keeps WebSocket subscribers connected the whole run (split
// across both processes), has others reconnect periodically with `since`, and injects a fault in rotation
// every --fault-every seconds. It checks that every acknowledged alert reached every subscriber, that no
// request got a 5xx other than 503 or hung, that no subscription leaks, and records p99 latency and RSS per
// minute. Writes bench/results/soak.json; exits 1 when a must-hold property fails.
// Usage: npm run soak -- [--minutes 10] [--subscribers 500] [--rate 20] [--reconnectors 50] [--fault-every 60]
/* global AbortSignal */
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserStore } from '../dist/auth/users.js';
import { generateEnv } from '../dist/config/generate.js';
import { loadConfig } from '../dist/config/load.js';
import { freePort } from '../dist/local/redis-server.js';
import { startSentinelTopology } from '../dist/local/topologies.js';
import { waitFor, WaitTimeoutError } from '../dist/local/wait.js';
import { createLogger } from '../dist/log/logger.js';
import { connectAdmin } from '../dist/redis/admin.js';
import { RoleClients } from '../dist/redis/connections.js';
import { createKeySpace, layoutOf } from '../dist/redis/keys.js';
import { sentinelConnection, sentinelView } from '../dist/redis/sentinel.js';
import { ROLE_NAMES } from '../dist/redis/roles.js';
import { connectWs } from './ws-client.mjs';
import { BIN, log, machine, ROOT } from './lib.mjs';

const HELP = `npm run soak -- [options]   (builds first; or: node bench/soak.mjs after npm run build)

Runs a local Sentinel topology + naboom serve x2 + naboom worker under steady load with rotating faults and
compressed time, then reports delivery, 5xx, latency, RSS and leaked subscriptions per minute and in total.

  --minutes N          how long the load runs (default 10)
  --subscribers N      WebSocket subscribers connected the whole run, split over both serve processes (500)
  --rate N             alerts per second, alternating between the serve processes (20)
  --reconnectors N     extra subscribers that reconnect with "since" every --reconnect-every s (50)
  --reconnect-every S  (20)
  --fault-every S      seconds between faults, 0 for none (60); rotation: replica restart, master restart,
                       serve restart (always the second process), Sentinel failover
  --group-expiry S     GROUP_EXPIRY_S for the run (30: compressed; memberships must not expire under a feed)
  --out FILE           result file (bench/results/soak.json)
  --help               this text

Compressed time: GROUP_EXPIRY_S=30, SESSION_TTL_S=30, ESCALATE_AFTER_S=5, RATE_LIMIT_WINDOW_S=10,
CHANNEL_EXPIRY_S=30, and ALERT_STREAM_MAXLEN=5000 (streams reach their trimmed length within minutes). SOAK_SERVE_NODE_ARGS (e.g. "--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/heap") is
passed to serve; SOAK_HEAP_SNAPSHOTS=60,240 then sends serve A SIGUSR2 at those seconds of the load.
Exit status 1 when a must-hold property fails, 2 on a usage error, 130 when interrupted (Ctrl-C).`;

function parseArgs(argv) {
  const spec = { 'group-expiry': [30, 1, 31 * 86_400], minutes: [10, 0.1, 24 * 60], subscribers: [500, 0, 20_000], rate: [20, 0.1, 2000], reconnectors: [50, 0, 5000], 'reconnect-every': [20, 1, 3600], 'fault-every': [60, 0, 3600] };
  const out = Object.fromEntries(Object.entries(spec).map(([k, [d]]) => [k, d]));
  out.out = join(ROOT, 'bench', 'results', 'soak.json');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(HELP + '\n');
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) usage(`unexpected argument ${a}`);
    const name = m[1];
    const value = m[2] ?? argv[++i];
    if (value === undefined) usage(`--${name} needs a value`);
    if (name === 'out') out.out = resolve(value);
    else if (name in spec) {
      const n = Number(value);
      const [, min, max] = spec[name];
      if (!Number.isFinite(n) || n < min || n > max) usage(`--${name} must be a number from ${min} to ${max}, got "${value}"`);
      out[name] = n;
    } else usage(`unknown option --${name}`);
  }
  return out;
}
function usage(message) {
  process.stderr.write(`soak: ${message}\n\n${HELP}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const MINUTES = opts.minutes;
const RUN_MS = MINUTES * 60_000;
const HARD_DEADLINE = Date.now() + RUN_MS + 10 * 60_000;
const REQUEST_TIMEOUT_MS = 5000;
const DEADLINE_MS = 3000;
const PER_USER = 10;
const COMPRESSED = { GROUP_EXPIRY_S: String(opts['group-expiry']), SESSION_TTL_S: '30', ESCALATE_AFTER_S: '5', RATE_LIMIT_WINDOW_S: '10', CHANNEL_EXPIRY_S: '30', ALERT_STREAM_MAXLEN: '5000' };
const idMs = (id) => Number(id.split('-')[0]);
const newerId = (a, b) => {
  if (a === undefined) return b;
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return bm > am || (bm === am && bs > as) ? b : a;
};
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).map(Number);
const rssKiB = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return null;
  }
};

// ---------------------------------------------------------------------------------------------- stats
const t0Holder = { t0: 0 };
const minuteOf = (t) => Math.max(0, Math.floor((t - t0Holder.t0) / 60_000));
const minutes = [];
function minute(t = Date.now()) {
  const m = minuteOf(t);
  while (minutes.length <= m) {
    minutes.push({ minute: minutes.length, loopDelayMaxMs: null, raised: 0, acknowledged: 0, status: {}, fiveXX: 0, s503: 0, networkErrors: 0, hung: 0, overDeadline: 0, maxRequestMs: 0, faults: [], hist: new Uint32Array(10_001), replayed: 0, rss: undefined });
  }
  return minutes[m];
}
/** Latency histogram in 1 ms buckets up to 10 s (the last bucket holds everything slower). */
function observe(ms) {
  minute().hist[Math.min(10_000, Math.max(0, Math.round(ms)))]++;
}
function histP(hist, p) {
  let n = 0;
  for (const c of hist) n += c;
  if (n === 0) return null;
  const want = Math.ceil((p / 100) * n);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= want) return i;
  }
  return hist.length - 1;
}
const histCount = (hist) => hist.reduce((a, c) => a + c, 0);

// Alerts raised, by a small integer each (subscribers keep one bit per alert).
const alerts = []; // { id, raisedAt, minute, acked }
const alertIndex = new Map();
function indexOf(id) {
  let i = alertIndex.get(id);
  if (i === undefined) {
    i = alerts.length;
    alerts.push({ id, raisedAt: idMs(id), acked: false });
    alertIndex.set(id, i);
  }
  return i;
}
const failures = { raiseAbandoned: 0, raise4xx: [], ack5xx: 0, ackFailed: 0, errors: {}, hung: [] };
const countError = (what) => (failures.errors[what] = (failures.errors[what] ?? 0) + 1);

// ------------------------------------------------------------------------------------------ processes
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function spawnNaboom(args, envFile, readyMarker, nodeArgs = [], extraEnv = {}) {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NABOOM_ENV_FILE: envFile, SERVE_WORKERS: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const tail = [];
  let errorLines = 0;
  const onData = (d) => {
    for (const line of d.toString().split('\n')) {
      if (!line) continue;
      if (/"level":(50|60)/.test(line)) errorLines++;
      tail.push(line.slice(0, 400));
      if (tail.length > 30) tail.shift();
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  exited.then(() => children.delete(child));
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} not ready after 60 s: ${tail.join('\n')}`)), 60_000);
    const check = (d) => {
      if (d.toString().includes(readyMarker)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code}): ${tail.join('\n')}`));
    });
  });
  return {
    child,
    pid: child.pid,
    ready,
    tail,
    errorLines: () => errorLines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function startServe(envFile, port) {
  const nodeArgs = (process.env.SOAK_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const p = spawnNaboom(['serve', '--port', String(port), '--host', '127.0.0.1'], envFile, 'naboom serve: listening on', nodeArgs);
  await p.ready;
  return { ...p, url: `http://127.0.0.1:${port}`, port };
}

// ------------------------------------------------------------------------------------------- the run
let stopping = false;
const stopSignal = new AbortController();
// Every pending pause (thousands of retry waits) listens on it.
setMaxListeners(0, stopSignal.signal);
process.on('SIGINT', () => {
  if (stopping) return;
  log('soak: interrupted; stopping everything it started …');
  stopping = true;
  stopSignal.abort();
});
const pause = (ms) => sleep(ms, undefined, { signal: stopSignal.signal }).catch(() => undefined);
/** The soak measures what it can: a wait that runs out continues the run (callers count what matters). */
const timedOut = (err) => {
  if (err instanceof WaitTimeoutError) return undefined;
  throw err;
};

const loadStart = loadavg();
const dir = mkdtempSync(join(tmpdir(), 'naboom-soak-'));
const metricsToken = randomBytes(24).toString('base64url');
const base = {
  ...generateEnv(6379).vars,
  LOG_LEVEL: 'warn',
  RATE_LIMIT_ALERTS_PER_USER: '1000000',
  RATE_LIMIT_ALERTS_PER_IP: '1000000',
  RATE_LIMIT_LOGINS: '1000',
  // Reconnectors and fault-driven reconnects subscribe far more often than a person would.
  LIVE_SUBSCRIBES_PER_MIN: '600',
  LIVE_HEARTBEAT_MS: '5000',
  METRICS_TOKEN: metricsToken,
  ...COMPRESSED,
};
const bootstrap = loadConfig({ env: base, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true });
log(`soak: ${MINUTES} min, ${opts.subscribers} subscribers + ${opts.reconnectors} reconnectors, ${opts.rate} alerts/s, a fault every ${opts['fault-every']} s`);
const topo = await startSentinelTopology(bootstrap, { dir: join(dir, 'redis'), appendonly: true });
const serves = [];
let worker;
let exitCode = 1;
const timers = new Set();
try {
  const envFile = join(dir, '.env');
  writeFileSync(envFile, Object.entries({ ...base, ...topo.env }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const config = loadConfig({ env: {}, envFile, requireRoles: ROLE_NAMES, requireSecretKey: true });

  // Accounts: reporters (members), subscribers (responders, PER_USER connections each) and an acknowledger.
  const clients = new RoleClients(config, createLogger({ level: 'silent' }));
  const users = new UserStore(clients.get('app'), createKeySpace(layoutOf(config)));
  const mkUser = async (name, role) => {
    await users.add(name, role, 'soak-password-123');
    return await users.issueToken(name);
  };
  const reporters = [];
  for (let i = 0; i < 20; i++) reporters.push(await mkUser(`soak-reporter-${i}`, 'member'));
  const watchers = [];
  for (let i = 0; i < Math.ceil((opts.subscribers + opts.reconnectors) / PER_USER); i++) watchers.push(await mkUser(`soak-watcher-${i}`, 'responder'));
  const acker = await mkUser('soak-acker', 'responder');
  await clients.close();

  serves.push(await startServe(envFile, await freePort()), await startServe(envFile, await freePort()));
  // At info level only for its start line (the ready marker); it logs nothing per job.
  worker = spawnNaboom(['worker', '--summary', 'off', '--grace', '2'], envFile, 'worker started', [], { LOG_LEVEL: 'info' });
  await worker.ready;
  log(`soak: serve ${serves.map((s) => `${s.url} (pid ${s.pid})`).join(', ')}; worker pid ${worker.pid}; redis ${topo.nodes.map((n) => `:${n.port}`).join(' ')}`);

  const body = (k) => JSON.stringify({ type: 'panic', severity: ['low', 'medium', 'high', 'critical'][k % 4], location: { lat: -33.9249, lon: 18.4241, accuracy_m: 20, address: `${k} Long St` }, description: `soak ${k}` });

  // One marker alert: its id is where a subscriber that saw nothing yet resumes from.
  const marker = await fetch(`${serves[0].url}/api/emergency/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${reporters[0]}` }, body: body(0) });
  const startId = (await marker.json()).alert_id;
  if (!startId) throw new Error(`could not raise the marker alert (${marker.status})`);
  await fetch(`${serves[0].url}/api/emergency/alerts/${startId}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acker}` }, body: '{}' });

  // ------------------------------------------------------------------------------------ subscribers
  const ALERT = Buffer.from('{"type":"alert","id":"');
  const UPDATED = Buffer.from('{"type":"alert.updated","id":"');
  const subs = [];
  const steadyCount = opts.subscribers;
  const deliveredTo = []; // per alert index: how many steady subscribers have it
  function makeSub(i, kind) {
    return { i, kind, serve: i % 2, token: watchers[Math.floor(i / PER_USER)], bits: new Uint8Array(1024), lastId: undefined, conn: undefined, gen: 0, live: false, closing: false, reconnects: 0, errors: [] };
  }
  function mark(sub, id) {
    const k = indexOf(id);
    if (k >= sub.bits.length * 8) {
      const grown = new Uint8Array(Math.max(sub.bits.length * 2, (k >> 3) + 1024));
      grown.set(sub.bits);
      sub.bits = grown;
    }
    const byte = k >> 3;
    const bit = 1 << (k & 7);
    if (sub.bits[byte] & bit) return;
    sub.bits[byte] |= bit;
    if (sub.kind === 'steady') deliveredTo[k] = (deliveredTo[k] ?? 0) + 1;
  }
  const onMessage = (sub) => (payload) => {
    if (payload.subarray(0, ALERT.length).equals(ALERT)) {
      const id = payload.toString('latin1', ALERT.length, payload.indexOf(0x22, ALERT.length));
      sub.lastId = newerId(sub.lastId, id);
      mark(sub, id);
      if (sub.live) observe(Date.now() - idMs(id));
      else minute().replayed++;
      return;
    }
    if (payload.subarray(0, UPDATED.length).equals(UPDATED)) {
      sub.lastId = newerId(sub.lastId, payload.toString('latin1', UPDATED.length, payload.indexOf(0x22, UPDATED.length)));
      return;
    }
    let msg;
    try {
      msg = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    if (msg.type === 'live') sub.live = true;
    else if (msg.type === 'error') {
      sub.errors.push(msg.code);
      countError(`ws ${msg.code}`);
    }
  };
  async function connect(sub) {
    const url = `${serves[sub.serve].url}/ws`;
    const gen = ++sub.gen;
    const onClose = () => {
      // A connection this subscriber already replaced (or closed on purpose) is no news.
      if (gen !== sub.gen) return;
      sub.conn = undefined;
      sub.live = false;
      if (!sub.closing && !stopping) void reconnect(sub);
    };
    sub.conn = await connectWs(url, { authorization: `Bearer ${sub.token}` }, onMessage(sub), onClose);
    sub.live = false;
    sub.conn.send(JSON.stringify({ type: 'subscribe', since: sub.lastId ?? startId }));
  }
  async function reconnect(sub) {
    sub.reconnects++;
    for (let attempt = 0; attempt < 600 && !stopping && Date.now() < HARD_DEADLINE; attempt++) {
      try {
        await connect(sub);
        return;
      } catch {
        await pause(Math.min(1000, 100 * (attempt + 1)));
      }
    }
    countError('subscriber could not reconnect');
  }
  for (let i = 0; i < steadyCount + opts.reconnectors; i++) subs.push(makeSub(i, i < steadyCount ? 'steady' : 'reconnector'));
  for (let i = 0; i < subs.length; i += 50) await Promise.all(subs.slice(i, i + 50).map((s) => connect(s)));
  await waitFor('every subscriber live', () => stopping || subs.every((s) => s.live), { timeoutMs: 60_000, intervalMs: 100 }).catch(timedOut);
  log(`soak: ${subs.filter((s) => s.live).length}/${subs.length} subscribers live`);

  // --------------------------------------------------------------------------------------- requests
  const reqStats = (status, ms) => {
    const m = minute();
    m.status[status] = (m.status[status] ?? 0) + 1;
    if (typeof status === 'number' && status >= 500) {
      if (status === 503) m.s503++;
      else m.fiveXX++;
    }
    if (ms > DEADLINE_MS) m.overDeadline++;
    m.maxRequestMs = Math.max(m.maxRequestMs, Math.round(ms));
  };
  async function call(url, init) {
    const started = performance.now();
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await res.text();
      reqStats(res.status, performance.now() - started);
      return { status: res.status, text, retryAfter: Number(res.headers.get('retry-after') ?? 0) };
    } catch (err) {
      const hung = err?.name === 'TimeoutError';
      const m = minute();
      if (hung) {
        m.hung++;
        if (failures.hung.length < 20) failures.hung.push({ t_s: +((Date.now() - t0Holder.t0) / 1000).toFixed(1), sent_s: +((Date.now() - REQUEST_TIMEOUT_MS - t0Holder.t0) / 1000).toFixed(1), url: url.replace(/^http:\/\/127\.0\.0\.1:/, ':') });
      } else m.networkErrors++;
      reqStats(hung ? 'timeout' : 'network', performance.now() - started);
      return { status: 0, hung };
    }
  }
  const retryPause = (r, attempt) => pause(r.retryAfter > 0 ? Math.min(1000, r.retryAfter * 1000) : Math.min(1000, 50 * 2 ** Math.min(attempt, 5)));

  const ackTimers = new Set();
  async function acknowledge(id, k) {
    for (let attempt = 0; attempt < 20 && !stopping; attempt++) {
      const r = await call(`${serves[(k + attempt) % 2].url}/api/emergency/alerts/${id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acker}` }, body: '{}' });
      if (r.status === 200 || r.status === 409) return;
      if (r.status >= 500 && r.status !== 503) failures.ack5xx++;
      if (r.status !== 0 && r.status < 500) break;
      await retryPause(r, attempt);
    }
    failures.ackFailed++;
  }
  async function raise(k) {
    const key = randomUUID();
    const m = minute();
    m.raised++;
    const init = { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${reporters[k % reporters.length]}`, 'idempotency-key': key }, body: body(k) };
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; attempt < 200 && Date.now() < deadline; attempt++) {
      // Alternate the serve processes, and move to the other one on every retry.
      const r = await call(`${serves[(k + attempt) % 2].url}/api/emergency/alerts`, init);
      if (r.status === 201 || r.status === 200) {
        const id = JSON.parse(r.text).alert_id;
        alerts[indexOf(id)].acked = true;
        m.acknowledged++;
        // Most alerts are acknowledged within a second; every tenth waits for an escalation first.
        const delay = k % 10 === 0 ? Number(COMPRESSED.ESCALATE_AFTER_S) * 1000 + 2000 : 1000;
        const t = setTimeout(() => {
          ackTimers.delete(t);
          void acknowledge(id, k);
        }, delay);
        ackTimers.add(t);
        return;
      }
      if (r.status >= 400 && r.status < 500 && r.status !== 429) {
        failures.raise4xx.push(`${r.status} ${r.text.slice(0, 200)}`);
        return;
      }
      if (stopping) break;
      await retryPause(r, attempt);
    }
    failures.raiseAbandoned++;
  }

  // ------------------------------------------------------------------------------------------ faults
  const HOST = '127.0.0.1';
  async function topologyHealthy() {
    const { master } = await sentinelView(config);
    const replica = topo.nodes.find((n) => n.port !== master.port);
    const admin = await connectAdmin(config, { host: HOST, port: replica.port });
    try {
      const info = await admin.info('replication');
      return info.includes('role:slave') && info.includes(`master_port:${master.port}`) && info.includes('master_link_status:up');
    } finally {
      admin.disconnect();
    }
  }
  async function waitHealthy(what) {
    const healthy = await waitFor(`the topology to be healthy after ${what}`, async () => (stopping ? 'stopped' : topologyHealthy()), { timeoutMs: 60_000, intervalMs: 200, ignoreErrors: true }).catch(timedOut);
    if (healthy === true) return true;
    countError(`topology not healthy within 60 s after ${what}`);
    return false;
  }
  async function restartNode(index) {
    await topo.nodes[index].stop();
    topo.nodes[index] = await topo.nodes[index].restart();
    // As a supervisor would: make it follow the current master at once (Sentinel would, after its next poll).
    const { master } = await sentinelView(config);
    if (master.port !== topo.nodes[index].port) {
      const a = await connectAdmin(config, { host: HOST, port: topo.nodes[index].port });
      await a.call('REPLICAOF', master.host, String(master.port));
      a.disconnect();
    }
  }
  const FAULTS = [
    [
      'replica restart',
      async () => {
        const { master } = await sentinelView(config);
        await restartNode(topo.nodes.findIndex((n) => n.port !== master.port));
      },
    ],
    [
      'master restart',
      async () => {
        const { master } = await sentinelView(config);
        await restartNode(topo.nodes.findIndex((n) => n.port === master.port));
      },
    ],
    [
      'serve restart',
      async () => {
        const old = serves[1];
        await old.stop();
        serves[1] = await startServe(envFile, old.port);
      },
    ],
    [
      'sentinel failover',
      async () => {
        const before = (await sentinelView(config)).master.port;
        const s = sentinelConnection(config, topo.sentinelAddresses[0]);
        s.on('error', () => undefined);
        try {
          await s.connect();
          await s.call('SENTINEL', 'FAILOVER', topo.masterName);
        } finally {
          s.disconnect();
        }
        await waitFor('the Sentinels to name a new master', async () => (await sentinelView(config).catch(() => ({ master: { port: before } }))).master.port !== before, { timeoutMs: 30_000, intervalMs: 100 }).catch(timedOut);
      },
    ],
  ];
  const faultLog = [];
  async function faults() {
    let n = 0;
    for (;;) {
      // No fault in the last seconds of the run: its recovery would fall outside the measured load.
      if (Date.now() - t0Holder.t0 + opts['fault-every'] * 1000 > RUN_MS - 5000) return;
      await pause(opts['fault-every'] * 1000);
      if (stopping) return;
      const [name, run] = FAULTS[n++ % FAULTS.length];
      const at = Date.now();
      minute().faults.push(name);
      log(`soak: fault at ${Math.round((at - t0Holder.t0) / 1000)} s: ${name}`);
      try {
        await run();
        const healthy = await waitHealthy(name);
        faultLog.push({ at_s: Math.round((at - t0Holder.t0) / 1000), fault: name, recovered_ms: Date.now() - at, healthy });
      } catch (err) {
        countError(`fault ${name}: ${err.message}`);
        faultLog.push({ at_s: Math.round((at - t0Holder.t0) / 1000), fault: name, error: err.message });
        await waitHealthy(name);
      }
    }
  }

  // ---------------------------------------------------------------------------------------- sampling
  const rssSamples = [];
  /** V8 heap used/total and external (Buffer) memory of one serve, from its own /metrics (MiB). */
  async function heapOf(serve) {
    try {
      const r = await fetch(`${serve.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await r.text();
      const value = (name) => Number(new RegExp(`^naboom_process_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
      const round = (x) => (Number.isNaN(x) ? null : Math.round(x * 10) / 10);
      return { heapUsed: round(value('nodejs_heap_size_used_bytes')), heapTotal: round(value('nodejs_heap_size_total_bytes')), external: round(value('nodejs_external_memory_bytes')) };
    } catch {
      return null;
    }
  }
  // The load generator's own event-loop delay: when it is high, "hung" and latency numbers are partly its own.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  function sampleRss() {
    const m = minute();
    m.loopDelayMaxMs = Math.max(m.loopDelayMaxMs ?? 0, Math.round(loopDelay.max / 1e6));
    loopDelay.reset();
    const s = { t_s: Math.round((Date.now() - t0Holder.t0) / 1000), serveA: rssKiB(serves[0].pid), serveB: rssKiB(serves[1].pid), worker: rssKiB(worker.pid), redis: Object.fromEntries(topo.nodes.map((n) => [n.port, rssKiB(n.pid)])) };
    rssSamples.push(s);
    minute().rss = s;
    void Promise.all(serves.map(heapOf)).then(([a, b]) => {
      s.heapA = a;
      s.heapB = b;
    });
    return s;
  }

  // -------------------------------------------------------------------------------------------- load
  t0Holder.t0 = Date.now();
  minute();
  sampleRss();
  const rssTimer = setInterval(sampleRss, 10_000);
  timers.add(rssTimer);
  const faultLoop = opts['fault-every'] > 0 ? faults() : Promise.resolve();
  // Heap snapshots of serve A for leak hunting (serve must run with --heapsnapshot-signal=SIGUSR2).
  for (const at of (process.env.SOAK_HEAP_SNAPSHOTS ?? '').split(',').filter(Boolean).map(Number)) {
    const t = setTimeout(() => {
      log(`soak: heap snapshot of serve A (pid ${serves[0].pid}) at ${at} s, RSS ${mib(rssKiB(serves[0].pid))} MiB`);
      serves[0].child.kill('SIGUSR2');
    }, at * 1000);
    timers.add(t);
  }
  const reconnectLoop = (async () => {
    const rec = subs.filter((s) => s.kind === 'reconnector');
    if (rec.length === 0) return;
    const gap = (opts['reconnect-every'] * 1000) / rec.length;
    for (let j = 0; !stopping && Date.now() - t0Holder.t0 < RUN_MS; j++) {
      await pause(gap);
      const sub = rec[j % rec.length];
      if (!sub.conn) continue;
      sub.gen++;
      sub.conn.close();
      sub.reconnects++;
      await connect(sub).catch(() => reconnect(sub));
    }
  })();
  const inflight = new Set();
  const interval = 1000 / opts.rate;
  let k = 1;
  let lastProgress = Date.now();
  for (let next = Date.now(); !stopping && Date.now() - t0Holder.t0 < RUN_MS; k++) {
    next += interval;
    const p = raise(k).catch((err) => countError(`raise: ${err.message}`));
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    if (inflight.size > 5000) await Promise.race(inflight);
    const wait = next - Date.now();
    if (wait > 0) await pause(wait);
    if (Date.now() - lastProgress > 30_000) {
      lastProgress = Date.now();
      const m = minute();
      log(`soak: ${Math.round((Date.now() - t0Holder.t0) / 1000)} s, ${k} alerts, ${m.s503} 503 and ${m.fiveXX} other 5xx this minute, serve RSS ${Math.round(rssKiB(serves[0].pid) / 1024)}/${Math.round(rssKiB(serves[1].pid) / 1024)} MiB`);
    }
  }
  const loadEndedAt = Date.now();
  log(`soak: load done (${k - 1} alerts); waiting for retries and deliveries …`);
  await faultLoop;
  await reconnectLoop;
  await Promise.race([Promise.allSettled([...inflight]), sleep(70_000)]);
  // Every acknowledged alert delivered to every subscriber, or 60 s passed.
  const ackedIdx = () => alerts.map((a, i) => (a.acked ? i : -1)).filter((i) => i >= 0);
  const has = (sub, i) => (sub.bits[i >> 3] ?? 0) & (1 << (i & 7));
  await waitFor('every acknowledged alert delivered to every subscriber', () => {
    const idx = ackedIdx();
    return stopping || subs.every((s) => idx.every((i) => has(s, i)));
  }, { timeoutMs: 60_000, intervalMs: 500 }).catch(timedOut);
  const drainMs = Date.now() - loadEndedAt;
  // Let the acknowledgements scheduled for the last alerts run, then stop sampling.
  await waitFor('the scheduled acknowledgements', () => stopping || ackTimers.size === 0, { timeoutMs: 15_000, intervalMs: 200 }).catch(timedOut);
  for (const t of ackTimers) clearTimeout(t);
  sampleRss();
  clearInterval(rssTimer);

  // ---------------------------------------------------------------------------------- leaks and totals
  for (const s of subs) {
    s.closing = true;
    s.conn?.close();
  }
  const perServeLive = [];
  const liveClients = async () => {
    let total = 0;
    perServeLive.length = 0;
    for (const s of serves) {
      const r = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      let mine = 0;
      for (const m of text.matchAll(/^naboom_live_clients(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)) mine += Number(m[1]);
      perServeLive.push(mine);
      total += mine;
    }
    return total;
  };
  let leaked = await liveClients();
  const leakBy = Date.now() + 15_000;
  while (!stopping && leaked > 0 && Date.now() < leakBy) {
    await sleep(250);
    leaked = await liveClients();
  }

  const idx = ackedIdx();
  const perSubMissing = (kind) => subs.filter((s) => s.kind === kind).map((s) => idx.filter((i) => !has(s, i)).length);
  const steadyMissing = perSubMissing('steady');
  const reconnectorMissing = perSubMissing('reconnector');
  const totalHist = new Uint32Array(10_001);
  const perMinute = minutes.map((m) => {
    m.hist.forEach((c, i) => (totalHist[i] += c));
    const mine = alerts.map((a, i) => ({ a, i })).filter(({ a }) => a.acked && minuteOf(a.raisedAt) === m.minute);
    return {
      minute: m.minute + 1,
      raised: m.raised,
      acknowledged: mine.length,
      deliveredToEverySteadySubscriber: mine.filter(({ i }) => (deliveredTo[i] ?? 0) === steadyCount).length,
      fiveXX: m.fiveXX,
      s503: m.s503,
      hung: m.hung,
      networkErrors: m.networkErrors,
      overDeadline: m.overDeadline,
      maxRequestMs: m.maxRequestMs,
      loadGeneratorLoopDelayMaxMs: m.loopDelayMaxMs,
      liveDeliveries: histCount(m.hist),
      replayedDeliveries: m.replayed,
      p50Ms: histP(m.hist, 50),
      p99Ms: histP(m.hist, 99),
      faults: m.faults,
      rssMiB: m.rss && { serveA: mib(m.rss.serveA), serveB: mib(m.rss.serveB), worker: mib(m.rss.worker), redis: Object.fromEntries(Object.entries(m.rss.redis).map(([p, v]) => [p, mib(v)])) },
      serveHeapMiB: m.rss && { serveA: m.rss.heapA ?? null, serveB: m.rss.heapB ?? null },
    };
  });
  const acknowledged = idx.length;
  const totals = {
    raised: minutes.reduce((a, m) => a + m.raised, 0),
    acknowledged,
    deliveredToEverySteadySubscriber: idx.filter((i) => (deliveredTo[i] ?? 0) === steadyCount).length,
    steadySubscribers: steadyCount,
    steadySubscribersMissingSome: steadyMissing.filter((n) => n > 0).length,
    steadyMissingDeliveries: steadyMissing.reduce((a, n) => a + n, 0),
    reconnectors: opts.reconnectors,
    reconnectorsMissingSome: reconnectorMissing.filter((n) => n > 0).length,
    reconnects: subs.reduce((a, s) => a + s.reconnects, 0),
    fiveXX: minutes.reduce((a, m) => a + m.fiveXX, 0),
    s503: minutes.reduce((a, m) => a + m.s503, 0),
    hung: minutes.reduce((a, m) => a + m.hung, 0),
    networkErrors: minutes.reduce((a, m) => a + m.networkErrors, 0),
    overDeadline: minutes.reduce((a, m) => a + m.overDeadline, 0),
    raiseAbandoned: failures.raiseAbandoned,
    raise4xx: failures.raise4xx.length,
    ackFailed: failures.ackFailed,
    ack5xx: failures.ack5xx,
    liveDeliveries: histCount(totalHist),
    p50Ms: histP(totalHist, 50),
    p99Ms: histP(totalHist, 99),
    maxMs: totalHist.findLastIndex((c) => c > 0),
    drainMs,
    leakedSubscriptions: leaked,
    leakedPerServe: [...perServeLive],
    serveErrorLogLines: serves.map((s) => s.errorLines()),
    otherErrors: failures.errors,
  };

  // RSS after warm-up (the first third of the run, at least a minute) on serve A, which is never restarted.
  const warm = rssSamples.filter((s) => s.t_s >= Math.max(60, (RUN_MS / 1000) * (1 / 3)) && s.t_s <= RUN_MS / 1000 + 5);
  const rssGrowth = warm.length >= 3 && warm[0].serveA ? +(((warm.at(-1).serveA - warm[0].serveA) / warm[0].serveA) * 100).toFixed(1) : null;
  const evaluateRss = MINUTES >= 5 && rssGrowth !== null;
  const checks = {
    everyAcknowledgedAlertDeliveredToEverySteadySubscriber: totals.steadyMissingDeliveries === 0 && acknowledged > 0,
    reconnectorsMissedNothing: totals.reconnectorsMissingSome === 0,
    no5xxOtherThan503: totals.fiveXX === 0 && totals.ack5xx === 0,
    noRequestHung: totals.hung === 0,
    everyRaiseAcknowledged: totals.raiseAbandoned === 0 && totals.raise4xx === 0,
    noLeakedSubscriptions: leaked === 0,
    ...(evaluateRss ? { serveRssFlatAfterWarmup: rssGrowth < 5 } : {}),
  };
  const interrupted = stopping;
  const ok = !interrupted && Object.values(checks).every(Boolean);
  const result = {
    command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...opts, out: undefined },
    compressedTime: COMPRESSED,
    topology: 'local Sentinel: 1 master, 1 replica, 3 Sentinels (AOF everysec), ALERT_MIN_REPLICAS=1; naboom serve x2, naboom worker',
    latency: 'raise (the alert id is its creation time in ms) to receipt by a live subscriber, every delivery; replayed deliveries after a reconnect are counted, not timed',
    loadavg: { start: loadStart, end: loadavg() },
    interrupted,
    checks,
    ok,
    rssGrowthServeAPercentAfterWarmup: rssGrowth,
    rssEvaluated: evaluateRss ? true : 'no: runs shorter than 5 minutes report RSS only',
    totals,
    perMinute,
    faults: faultLog,
    rssSamples: rssSamples.map((s) => ({ ...s, serveA: mib(s.serveA), serveB: mib(s.serveB), worker: mib(s.worker), redis: Object.fromEntries(Object.entries(s.redis).map(([p, v]) => [p, mib(v)])) })),
    firstRaise4xx: failures.raise4xx.slice(0, 5),
    firstHungRequests: failures.hung,
    machine: machine(),
    at: new Date().toISOString(),
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  printSummary(result);
  log(`soak: results written to ${opts.out}`);
  exitCode = interrupted ? 130 : ok ? 0 : 1;
} catch (err) {
  log(`soak: failed: ${err.stack ?? err}`);
  for (const s of serves) if (s.tail.length) log(`serve ${s.pid} last lines:\n${s.tail.join('\n')}`);
  exitCode = 1;
} finally {
  stopping = true;
  stopSignal.abort();
  for (const t of timers) clearTimeout(t);
  for (const s of serves) await s.stop().catch(() => undefined);
  await worker?.stop().catch(() => undefined);
  await topo.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);

function mib(kib) {
  return kib == null || Number.isNaN(kib) ? null : Math.round(kib / 102.4) / 10;
}

function printSummary(r) {
  const t = r.totals;
  const lines = [
    '',
    `Soak ${MINUTES} min: ${t.acknowledged}/${t.raised} alerts acknowledged, ${t.deliveredToEverySteadySubscriber} delivered to all ${t.steadySubscribers} steady subscribers (${t.steadyMissingDeliveries} deliveries missing), reconnectors missing some: ${t.reconnectorsMissingSome}`,
    `requests: ${t.fiveXX} 5xx other than 503, ${t.s503} 503, ${t.hung} hung (> ${REQUEST_TIMEOUT_MS / 1000} s), ${t.overDeadline} over ${DEADLINE_MS} ms, ${t.networkErrors} network errors; latency p50 ${t.p50Ms} ms p99 ${t.p99Ms} ms max ${t.maxMs} ms; leaked subscriptions ${t.leakedSubscriptions}`,
    'min  raised  acked  all-subs  5xx  503  hung  p99ms  lag-ms  serveA  serveB  worker  redis (RSS MiB)  serve A heap/external (MiB)  faults',
    ...r.perMinute.map(
      (m) =>
        `${String(m.minute).padStart(3)}  ${String(m.raised).padStart(6)}  ${String(m.acknowledged).padStart(5)}  ${String(m.deliveredToEverySteadySubscriber).padStart(8)}  ${String(m.fiveXX).padStart(3)}  ${String(m.s503).padStart(3)}  ${String(m.hung).padStart(4)}  ${String(m.p99Ms ?? '-').padStart(5)}  ${String(m.loadGeneratorLoopDelayMaxMs ?? '-').padStart(6)}  ${String(m.rssMiB?.serveA ?? '-').padStart(6)}  ${String(m.rssMiB?.serveB ?? '-').padStart(6)}  ${String(m.rssMiB?.worker ?? '-').padStart(6)}  ${Object.values(m.rssMiB?.redis ?? {}).join('/')}  ${m.serveHeapMiB?.serveA ? `${m.serveHeapMiB.serveA.heapUsed}/${m.serveHeapMiB.serveA.external}` : '-'}  ${m.faults.join(', ')}`,
    ),
    '(lag-ms: the load generator\'s own worst event-loop delay in that minute)',
    `serve A RSS growth after warm-up: ${r.rssGrowthServeAPercentAfterWarmup ?? 'n/a'} % (${r.rssEvaluated === true ? 'checked' : r.rssEvaluated})`,
    `load average: start ${r.loadavg.start.join(' ')}, end ${r.loadavg.end.join(' ')}`,
    ...Object.entries(r.checks).map(([k, v]) => `  ${v ? 'ok  ' : 'FAIL'} ${k}`),
    r.interrupted ? 'soak: INTERRUPTED (Ctrl-C): partial numbers, properties not judged' : r.ok ? 'soak: every must-hold property held' : 'soak: a must-hold property FAILED',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
