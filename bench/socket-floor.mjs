// The floor under any fan-out on this machine: one Node.js thread writes the same bytes (the size of one
// alert frame) to N plain loopback TCP sockets whose reader is another process — no WebSocket, no Redis,
// no Naboom. What this costs is the least one serve process can take to reach N clients.
// Usage: node bench/socket-floor.mjs [clients] [bytes]   (also run by bench/alerts.mjs)
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

async function reader(n, port) {
  let got = 0;
  const lat = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, () => {
        const c = net.connect(port, '127.0.0.1');
        c.setNoDelay(true);
        c.on('data', (d) => {
          lat.push(Date.now() - Number(d.toString('latin1', 0, 13)));
          if (++got % n === 0) {
            const all = [...lat];
            lat.sort((a, b) => a - b);
            process.send({ p50: lat[lat.length >> 1], p99: lat[Math.floor(lat.length * 0.99)], max: lat.at(-1), all });
            lat.length = 0;
          }
        });
        return new Promise((r) => c.once('connect', r));
      }),
    );
  }
  process.send('ready');
}

/**
 * Returns the write-loop time and the readers' receipt latency for each of `rounds` rounds after `warmup`
 * unmeasured ones, and `readersMs`: the percentiles over every delivery of the measured rounds (the statistic
 * bench/alerts.mjs gives for Naboom's fan-out).
 */
export async function socketFloor(n = 10_000, bytes = 620, rounds = 10, warmup = 1) {
  const sockets = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    sockets.push(s);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const child = fork(SELF, ['--reader', String(n), String(server.address().port)], { stdio: 'inherit' });
  const messages = [];
  const next = () =>
    new Promise((resolve) => {
      const take = () => (messages.length ? resolve(messages.shift()) : setTimeout(take, 5));
      take();
    });
  child.on('message', (m) => messages.push(m));
  try {
    if ((await next()) !== 'ready') throw new Error('reader failed');
    while (sockets.length < n) await new Promise((r) => setTimeout(r, 10));
    const out = [];
    const every = [];
    for (let round = 0; round < warmup + rounds; round++) {
      const payload = Buffer.from(String(Date.now()) + 'x'.repeat(Math.max(0, bytes - 13)));
      const t0 = process.hrtime.bigint();
      for (const s of sockets) s.write(payload);
      const loopMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const { all, ...readers } = await next();
      if (round < warmup) continue;
      out.push({ loopMs: Math.round(loopMs), readers });
      for (const x of all) every.push(x);
      await new Promise((r) => setTimeout(r, 200));
    }
    every.sort((a, b) => a - b);
    const readersMs = { n: every.length, p50: every[every.length >> 1], p99: every[Math.floor(every.length * 0.99)], max: every.at(-1) };
    return { clients: n, bytes, warmupRounds: warmup, rounds: out, readersMs, loopMsPerRound: out.map((r) => r.loopMs), usPerWrite: Math.round((1000 * out.reduce((a, r) => a + r.loopMs, 0)) / (rounds * n) * 10) / 10 };
  } finally {
    child.kill();
    for (const s of sockets) s.destroy();
    server.close();
  }
}

if (process.argv[2] === '--reader') {
  await reader(Number(process.argv[3]), Number(process.argv[4]));
} else if (process.argv[1] === SELF) {
  const r = await socketFloor(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 620));
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  process.exit(0);
}
