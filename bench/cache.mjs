// Cache benchmark: our `Cache` get/set ops/s against `redis-benchmark` on the same server, in the same run,
// at the same concurrency and as the same ACL user (app_user, keys under naboom:cache:*).
// Target (issue 3): the cache within 2× of redis-benchmark.
// Usage: node bench/cache.mjs --help
import { spawn } from 'node:child_process';
import { createCaches } from '../dist/cache/caches.js';
import { createLogger } from '../dist/log/logger.js';
import { Metrics } from '../dist/metrics/registry.js';
import { RoleClients } from '../dist/redis/connections.js';
import { createKeySpace, layoutOf } from '../dist/redis/keys.js';
import { log, startBenchRedis, summarise, writeResult } from './lib.mjs';
import { benchOptions } from './options.mjs';

const USAGE = `Usage: npm run build && node bench/cache.mjs [options]
Our Cache get/set against redis-benchmark on the same server, same concurrency, same ACL user;
writes bench/results/cache.json.
  --concurrency N   clients in flight (50)
  --seconds S       seconds per measurement (8)`;
const opts = benchOptions('bench/cache.mjs', USAGE, {
  concurrency: { type: 'number', default: 50, min: 1, max: 10_000 },
  seconds: { type: 'number', default: 8, min: 1, max: 3600 },
});
const CONCURRENCY = opts.concurrency;
const SECONDS = opts.seconds;
const VALUE = { v: 1, note: 'x'.repeat(40) };

/** redis-benchmark as app_user on one of our keys; the password goes through the environment, not argv. */
function redisBenchmark(port, password, command) {
  const n = 200_000;
  const args = ['-p', String(port), '--user', 'app_user', '-c', String(CONCURRENCY), '-n', String(n), '-r', '100000', '-q', '--csv', ...command];
  return new Promise((resolve, reject) => {
    // redis-benchmark has no password variable; -a is the only way, so this throwaway server's password is
    // briefly on its command line (never printed).
    const child = spawn('redis-benchmark', ['-a', password, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', () => undefined);
    child.once('exit', (code) => {
      // The test name (our command, JSON included) may contain commas: read the 7 numbers from the end.
      const line = out.trim().split('\n').filter((l) => l.startsWith('"')).pop() ?? '';
      const nums = [...line.matchAll(/"([0-9.]+)"/g)].map((m) => Number(m[1])).slice(-7);
      const [rps, , , p50, , p99] = nums;
      if (code !== 0 || nums.length < 7 || !Number.isFinite(rps)) reject(new Error(`redis-benchmark failed (${code}): ${out}`));
      else resolve({ opsPerS: Math.round(rps), p50Ms: p50, p99Ms: p99 });
    });
  });
}

async function ours(cache, op) {
  const latencies = [];
  let ops = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async (w) => {
    let i = w;
    while (performance.now() < deadline) {
      const key = `bench:${i++ % 100_000}`;
      const t0 = performance.now();
      if (op === 'set') await cache.set(key, VALUE);
      else await cache.get(key);
      latencies.push(performance.now() - t0);
      ops++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const s = summarise(latencies);
  return { opsPerS: Math.round(ops / ((performance.now() - started) / 1000)), p50Ms: s.p50, p99Ms: s.p99 };
}

const redis = await startBenchRedis();
const clients = new RoleClients(redis.config, createLogger({ level: 'silent' }));
const metrics = new Metrics();
try {
  const caches = createCaches({ clients, keys: createKeySpace(layoutOf(redis.config)), logger: createLogger({ level: 'silent' }), metrics });
  await caches.default.set('warm', 1);
  log(`cache benchmark: concurrency ${CONCURRENCY}, ${SECONDS} s per measurement`);
  const json = JSON.stringify(VALUE);
  const pw = redis.env.REDIS_APP_PASSWORD;
  const baseline = {
    set: await redisBenchmark(redis.port, pw, ['SET', 'naboom:cache:1:bench:__rand_int__', json, 'EX', '300']),
    get: await redisBenchmark(redis.port, pw, ['GET', 'naboom:cache:1:bench:__rand_int__']),
  };
  log('redis-benchmark', JSON.stringify(baseline));
  const cache = { set: await ours(caches.default, 'set'), get: await ours(caches.default, 'get') };
  log('naboom cache  ', JSON.stringify(cache));
  const ratio = { set: +(baseline.set.opsPerS / cache.set.opsPerS).toFixed(2), get: +(baseline.get.opsPerS / cache.get.opsPerS).toFixed(2) };
  const result = {
    command: 'node bench/cache.mjs',
    concurrency: CONCURRENCY,
    redisBenchmark: baseline,
    cache,
    slowdown: ratio,
    target: { withinFactor: 2, met: ratio.set <= 2 && ratio.get <= 2 },
    errors: await metrics.registry.getSingleMetricAsString('naboom_cache_errors_total'),
  };
  log(`results written to ${writeResult('cache', result)}`);
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  await clients.close();
  await redis.stop();
}
