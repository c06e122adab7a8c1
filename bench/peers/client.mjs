// One load-generating client process of the peer benchmark (forked by run.mjs): opens its share of the
// connections to one contender, counts every alert per connection (lost, duplicates) and records each
// delivery's latency from the moment the publisher sent the alert (the same clock: one machine).
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

const cfg = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const OPEN_AT_ONCE = 50;

let latencies = new Float64Array(1 << 16);
let n = 0;
let lastAt = 0;
let duplicates = 0;
const seen = [];
/** The slowest delivery of each alert (by seq): tells a slow alert (one tail event) from a slow path. */
const worstBySeq = new Map();

/** Warm-up alerts (seq ≥ WARM_BASE) are counted apart and never measured: run.mjs sends them first. */
const WARM_BASE = 1_000_000;
let warm = 0;
let warmWorst = 0;

function record(conn, seq, t) {
  const at = now();
  if (seq >= WARM_BASE) {
    warm += 1;
    warmWorst = Math.max(warmWorst, at - t);
    return;
  }
  const s = seen[conn];
  if (s.has(seq)) {
    duplicates += 1;
    return;
  }
  s.add(seq);
  if (n === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[n++] = at - t;
  if (!(worstBySeq.get(seq) >= at - t)) worstBySeq.set(seq, at - t);
  lastAt = at;
}

const SEQ = /"seq":(\d+),"t":([\d.]+)/;
const NABOOM = /seq=(\d+) t=([\d.]+)/;

function open(i) {
  const url = cfg.urls[i % cfg.urls.length];
  seen[i] = new Set();
  return new Promise((resolve, reject) => {
    if (cfg.kind === 'socketio') {
      const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
      s.on('alert', (m) => record(i, m.seq, m.t));
      s.once('connect', resolve);
      s.once('connect_error', reject);
      return;
    }
    const naboom = cfg.kind === 'naboom';
    const ws = new WebSocket(naboom ? `${url.replace('http', 'ws')}/ws` : url.replace('http', 'ws'), {
      perMessageDeflate: false,
      ...(naboom ? { headers: { authorization: `Bearer ${cfg.token}` } } : {}),
    });
    ws.on('message', (d) => {
      const text = d.toString();
      if (naboom) {
        if (text.startsWith('{"type":"live"')) resolve();
        if (!text.startsWith('{"type":"alert"')) return;
        const m = NABOOM.exec(text);
        if (m) record(i, Number(m[1]), Number(m[2]));
        return;
      }
      const m = SEQ.exec(text);
      if (m) record(i, Number(m[1]), Number(m[2]));
    });
    ws.once('error', reject);
    ws.once('open', () => {
      if (naboom) ws.send(JSON.stringify({ type: 'subscribe' }));
      else resolve();
    });
  });
}

for (let i = 0; i < cfg.count; i += OPEN_AT_ONCE) {
  const batch = [];
  for (let j = i; j < Math.min(cfg.count, i + OPEN_AT_ONCE); j++) batch.push(open(j));
  await Promise.all(batch);
}
process.send({ type: 'ready' });

process.on('message', (m) => {
  if (m.type === 'status') process.send({ type: 'status', received: n, warm, warmWorst });
  if (m.type === 'finish') {
    let lost = 0;
    for (const s of seen) lost += Math.max(0, cfg.expectedPerConnection - s.size);
    // Latencies to 0.01 ms: enough for the percentiles, and a tenth of the IPC size.
    const rounded = Array.from(latencies.subarray(0, n), (x) => Math.round(x * 100) / 100);
    const worst = [...worstBySeq].map(([seq, ms]) => [seq, Math.round(ms * 10) / 10]);
    process.send({ type: 'result', deliveries: n, duplicates, lost, lastAt, latencies: rounded, worst }, () => process.exit(0));
  }
});
