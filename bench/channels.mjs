#!/usr/bin/env node
// Channel-layer benchmark (run `npm run build` first): `node bench/channels.mjs [--messages N] [--group-sends K]`.
//   1. send → receive on ONE channel: messages/s with p50/p99 latency, saturated (a windowed sender in a
//      second process, batch pops on the receiver) and at a fixed moderate rate; for a normal channel and a
//      process-local one; plus sender and receiver sharing one process, for comparison.
//   2. group send to 5,000 members spread over 2 real processes (the second process holds half): deliveries/s
//      and per-delivery latency from the groupSend call to local delivery.
// It starts its own redis-server on a free port (our ACL file, AOF on as in `naboom redis`), prints a JSON
// summary, writes bench/results/channels.json, and stops the server and the child whatever happens.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ChannelLayer } from '../dist/channels/layer.js';
import { loadConfig } from '../dist/config/load.js';
import { startProvisionedRedis } from '../dist/local/provisioned.js';
import { createLogger } from '../dist/log/logger.js';
import { Metrics } from '../dist/metrics/registry.js';
import { RoleClients } from '../dist/redis/connections.js';
import { createKeySpace, layoutOf } from '../dist/redis/keys.js';
import { benchOptions } from './options.mjs';

const SELF = fileURLToPath(import.meta.url);
const GROUP = 'bench.group';
const MEMBERS_PER_PROCESS = 2500;
/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const now = () => performance.timeOrigin + performance.now();
const logger = createLogger({ level: 'silent' });

const USAGE = `Usage: npm run build && node bench/channels.mjs [options]
The channel layer: send → receive on one channel (saturated and at a moderate rate) and a group send to
5,000 members over 2 processes; writes bench/results/channels.json.
  --messages N      messages on one channel (100000)
  --group-sends K   group sends to the 5,000 members (200)`;

function openLayer(config) {
  const clients = new RoleClients(config, logger);
  const metrics = new Metrics();
  const layer = new ChannelLayer({ clients, config, keys: createKeySpace(layoutOf(config)), logger, metrics, receiveBatch: 256 });
  return { clients, metrics, layer, close: async () => (await layer.close(), await clients.close()) };
}

function stats(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (q) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100 : null);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : null;
  return { samples: s.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1), mean_ms: mean === null ? null : Math.round(mean * 100) / 100 };
}

/** Local members that record the latency of every delivery; `done` resolves after `expected` deliveries. */
function consumers(layer, count) {
  const channels = Array.from({ length: count }, () => layer.newChannel('bench'));
  let latencies = new Float64Array(0);
  let received = 0;
  let expected = 0;
  let last = 0;
  let finish = () => {};
  const loops = channels.map(async (c) => {
    for (;;) {
      let m;
      try {
        m = await layer.receive(c);
      } catch {
        return;
      }
      const t = now();
      if (received < latencies.length) latencies[received] = t - m.t;
      received += 1;
      last = t;
      if (received === expected) finish();
    }
  });
  return {
    channels,
    loops,
    expect(n) {
      latencies = new Float64Array(n);
      received = 0;
      expected = n;
      return new Promise((res) => (finish = () => res({ latencies, last })));
    },
  };
}

// ---- child process: holds half of the group's members -------------------------------------------------
async function childMain(envFile) {
  const config = loadConfig({ env: {}, envFile, requireRoles: ['websocket'], requireSecretKey: true });
  const p = openLayer(config);
  await p.layer.start();
  let members;
  process.on('message', async (cmd) => {
    if (cmd.cmd === 'send') {
      const fullRetries = await sendAll(p.layer, cmd.channel, cmd.count, cmd.window);
      process.send({ type: 'sent', fullRetries });
    } else if (cmd.cmd === 'members') {
      members = consumers(p.layer, MEMBERS_PER_PROCESS);
      await Promise.all(members.channels.map((c) => p.layer.groupAdd(GROUP, c)));
      process.send({ type: 'members' });
    } else if (cmd.cmd === 'expect') {
      const { latencies, last } = await members.expect(cmd.count);
      process.send({ type: 'done', latencies, last });
    } else if (cmd.cmd === 'close') {
      await p.close();
      await Promise.all(members?.loops ?? []);
      process.send({ type: 'closed', skipped: (await p.metrics.groupSkipped.get()).values.reduce((a, v) => a + v.value, 0) });
      process.disconnect();
    }
  });
  process.send({ type: 'ready' });
}

// ---- parent ------------------------------------------------------------------------------------------
async function sendAll(layer, channel, n, window) {
  let next = 0;
  let fullRetries = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      for (;;) {
        try {
          await layer.send(channel, { type: 'bench', i, t: now() });
          break;
        } catch (err) {
          if (err.code !== 'NABOOM_CHANNEL_FULL') throw err;
          fullRetries += 1;
          await new Promise((r) => setTimeout(r, 1));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return fullRetries;
}

/**
 * `send(channel, n, window)` resolves with the number of full-channel retries once all n are sent.
 * `out_of_order` counts arrivals whose index is below the previous one. The layer is FIFO per successful
 * send; only a send retried after NABOOM_CHANNEL_FULL can be overtaken by later ones, so it stays 0 unless
 * `full_retries` is non-zero.
 */
async function pointToPoint(send, receiver, channel, n, window) {
  const latencies = new Float64Array(n);
  let outOfOrder = 0;
  const started = now();
  const receiving = (async () => {
    let prev = -1;
    for (let k = 0; k < n; k++) {
      const m = await receiver.receive(channel);
      latencies[k] = now() - m.t;
      if (m.i <= prev) outOfOrder += 1;
      prev = m.i;
    }
  })();
  const fullRetries = await send(channel, n, window);
  await receiving;
  const seconds = (now() - started) / 1000;
  return { messages: n, sender_window: window, msgs_per_s: Math.round(n / seconds), latency: stats(latencies), out_of_order: outOfOrder, full_retries: fullRetries };
}

async function paced(sender, receiver, channel, rate, seconds) {
  const n = rate * seconds;
  const latencies = new Float64Array(n);
  const receiving = (async () => {
    for (let k = 0; k < n; k++) latencies[k] = now() - (await receiver.receive(channel)).t;
  })();
  const start = now();
  const sends = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    if (due > now()) await new Promise((r) => setTimeout(r, due - now()));
    sends.push(sender.send(channel, { type: 'bench', i, t: now() }));
  }
  await Promise.all(sends);
  await receiving;
  return { rate_msgs_per_s: rate, messages: n, latency: stats(latencies) };
}

async function groupPhase(p, child, childReply, members, sends, ratePerS) {
  const total = sends * MEMBERS_PER_PROCESS;
  const here = members.expect(total);
  child.send({ cmd: 'expect', count: total });
  const there = childReply('done');
  const started = now();
  const sendLatency = [];
  const results = [];
  for (let k = 0; k < sends; k++) {
    if (ratePerS) {
      const due = started + (k * 1000) / ratePerS;
      if (due > now()) await new Promise((r) => setTimeout(r, due - now()));
    }
    const t = now();
    results.push(await p.layer.groupSend(GROUP, { type: 'bench.alert', k, t }));
    sendLatency.push(now() - t);
  }
  const [a, b] = await Promise.all([here, there]);
  const seconds = (Math.max(a.last, b.last) - started) / 1000;
  const all = new Float64Array(a.latencies.length + b.latencies.length);
  all.set(a.latencies);
  all.set(b.latencies, a.latencies.length);
  return {
    group_sends: sends,
    members: 2 * MEMBERS_PER_PROCESS,
    processes: 2,
    pacing: ratePerS ? `${ratePerS} group sends/s` : 'back to back',
    deliveries: all.length,
    deliveries_per_s: Math.round(all.length / seconds),
    delivery_latency: stats(all),
    group_send_call: stats(sendLatency),
    redis_envelopes_per_send: results[0]?.processes,
    skipped: results.reduce((n, r) => n + r.skipped.length + r.skippedProcesses.length, 0),
  };
}

async function main() {
  const loadBefore = Math.round(loadavg()[0] * 100) / 100;
  const opts = benchOptions('bench/channels.mjs', USAGE, {
    messages: { type: 'number', default: 100_000, min: 1, max: 100_000_000 },
    'group-sends': { type: 'number', default: 200, min: 1, max: 1_000_000 },
  });
  const messages = opts.messages;
  const groupSends = opts['group-sends'];
  const redis = await startProvisionedRedis({ env: { LOG_LEVEL: 'silent' }, appendonly: true, tmpPrefix: 'naboom-bench-' });
  const { config, envFile } = redis;
  let child;
  const opened = [];
  const stopAll = async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const p of opened) await p.close().catch(() => undefined);
    await redis.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void stopAll().finally(() => process.exit(130)));
  // A stuck phase must not leave the server and the child running: give up after 5 minutes.
  const watchdog = setTimeout(() => {
    process.stderr.write('benchmark timed out\n');
    void stopAll().finally(() => process.exit(1));
  }, 300_000);
  watchdog.unref();
  try {
    const a = openLayer(config);
    const b = openLayer(config);
    opened.push(a, b);
    await a.layer.start();
    await b.layer.start();
    child = fork(SELF, ['--child', envFile], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const waiting = new Map();
    child.on('message', (m) => waiting.get(m.type)?.(m));
    const childReply = (type) => new Promise((res) => waiting.set(type, res));
    await childReply('ready');
    const remoteSend = async (channel, count, window) => {
      const sent = childReply('sent');
      child.send({ cmd: 'send', channel, count, window });
      return (await sent).fullRetries;
    };
    const localSend = (channel, count, window) => sendAll(a.layer, channel, count, window);

    process.stderr.write('1/2 send → receive on one channel …\n');
    await pointToPoint(remoteSend, b.layer, 'bench.warmup', 5000, 64);
    const normal = await pointToPoint(remoteSend, b.layer, 'bench.q', messages, 256);
    const normalPaced = await paced(a.layer, b.layer, 'bench.q', 2000, 2);
    const local = await pointToPoint(remoteSend, b.layer, b.layer.newChannel('bench'), messages, 256);
    const sameProcess = await pointToPoint(localSend, b.layer, 'bench.same', messages, 256);

    process.stderr.write('2/2 group send to 5,000 members over 2 processes …\n');
    const p = openLayer(config);
    opened.push(p);
    await p.layer.start();
    const members = consumers(p.layer, MEMBERS_PER_PROCESS);
    await Promise.all(members.channels.map((c) => p.layer.groupAdd(GROUP, c)));
    const childMembers = childReply('members');
    child.send({ cmd: 'members' });
    await childMembers;

    await groupPhase(p, child, childReply, members, 10, 0); // warm-up
    const groupPaced = await groupPhase(p, child, childReply, members, groupSends, 20);
    const groupBurst = await groupPhase(p, child, childReply, members, groupSends, 0);
    const closed = childReply('closed');
    child.send({ cmd: 'close' });
    const childSkipped = (await closed).skipped;

    const summary = {
      benchmark: 'channels',
      date: new Date().toISOString(),
      // Other work on the machine moves these numbers a lot: the load average says how busy it was.
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg_1m_before: loadBefore, loadavg_1m_after: Math.round(loadavg()[0] * 100) / 100 },
      redis: { appendonly: true, acl_user: config.credentials.websocket.username },
      send_receive_one_channel: {
        normal_channel_saturated: normal,
        normal_channel_at_2000_msgs_per_s: normalPaced,
        process_local_channel_saturated: local,
        normal_channel_sender_in_the_receiving_process: sameProcess,
        target_msgs_per_s: 20_000,
        meets_target: normal.msgs_per_s >= 20_000,
      },
      group_send_5000_members_2_processes: {
        paced: groupPaced,
        back_to_back: groupBurst,
        child_reported_skipped: childSkipped,
        target_p99_ms: 50,
        meets_target: groupPaced.delivery_latency.p99_ms < 50,
      },
    };
    const json = JSON.stringify(summary, null, 2);
    process.stdout.write(`${json}\n`);
    const out = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'channels.json'), `${json}\n`);
  } finally {
    clearTimeout(watchdog);
    await stopAll();
  }
}

if (process.argv[2] === '--child') await childMain(process.argv[3]);
else await main();
