// The floor under any fan-out on this machine: one Node.js thread writes the same bytes (the size of one
// alert frame) to N plain loopback TCP sockets whose reader is another process — no WebSocket, no Redis,
// no Naboom. What this costs is the least one serve process can take to reach N clients.
// Usage: node bench/socket-floor.mjs [clients] [bytes]   (also run by bench/alerts.mjs)
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { inboxOf, summarise } from './lib.mjs';

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
            const all = lat.splice(0);
            process.send({ ...summarise(all), all });
          }
        });
        return new Promise((r) => c.once('connect', r));
      }),
    );
  }
  process.send('ready');
}

/**
 * Opens the floor: N plain TCP sockets whose reader is another process. `round()` writes `bytes` to each of
 * them from this thread and resolves with the write loop's time and every reader's receipt latency;
 * `close()` ends it. bench/alerts.mjs runs its rounds between Naboom's alerts, so both meet the same machine.
 */
export async function openFloor(n = 10_000, bytes = 620) {
  const sockets = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    sockets.push(s);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const child = fork(SELF, ['--reader', String(n), String(server.address().port)], { stdio: 'inherit' });
  const { next } = inboxOf(child);
  const close = () => {
    child.kill();
    for (const s of sockets) s.destroy();
    server.close();
  };
  try {
    if ((await next()) !== 'ready') throw new Error('reader failed');
    while (sockets.length < n) await new Promise((r) => setTimeout(r, 10));
  } catch (err) {
    close();
    throw err;
  }
  return {
    clients: n,
    bytes,
    /** One round of `size` bytes per socket (default: the size the floor was opened with). */
    async round(size = bytes) {
      const payload = Buffer.from(String(Date.now()) + 'x'.repeat(Math.max(0, size - 13)));
      const t0 = process.hrtime.bigint();
      for (const s of sockets) s.write(payload);
      const loopMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const { all, ...readers } = await next();
      return { loopMs: Math.round(loopMs), readers, all };
    },
    close,
  };
}

/**
 * The floor's part of a result: the measured rounds, the readers' latency over every measured delivery
 * (`summarise`, as Naboom's own deliveries are) and the write loop's cost per socket.
 */
export function floorSummary(clients, bytes, warmupRounds, rounds, every) {
  const loopMs = rounds.reduce((a, r) => a + r.loopMs, 0);
  return { clients, bytes, warmupRounds, rounds, readersMs: summarise(every), loopMsPerRound: rounds.map((r) => r.loopMs), usPerWrite: Math.round(((1000 * loopMs) / (rounds.length * clients)) * 10) / 10 };
}

/**
 * Returns the write-loop time and the readers' receipt latency for each of `rounds` rounds after `warmup`
 * unmeasured ones (`floorSummary`).
 */
export async function socketFloor(n = 10_000, bytes = 620, rounds = 10, warmup = 1) {
  const floor = await openFloor(n, bytes);
  try {
    const out = [];
    const every = [];
    for (let round = 0; round < warmup + rounds; round++) {
      const { all, ...r } = await floor.round();
      if (round < warmup) continue;
      out.push(r);
      for (const x of all) every.push(x);
      await new Promise((r) => setTimeout(r, 200));
    }
    return floorSummary(n, bytes, warmup, out, every);
  } finally {
    floor.close();
  }
}

if (process.argv[2] === '--reader') {
  await reader(Number(process.argv[3]), Number(process.argv[4]));
} else if (process.argv[1] === SELF) {
  const r = await socketFloor(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 620));
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  process.exit(0);
}
