// Shared helpers for the benchmarks: our own redis-server with the generated ACL (never port 6379),
// the configuration it implies, and `naboom serve` child processes. Imports the built code in dist/.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProvisionedRedis } from '../dist/local/provisioned.js';
import { freePort } from '../dist/local/redis-server.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
// BENCH_BIN runs another build of the CLI (an A/B of two builds), e.g. a checkout of an older commit.
export const BIN = process.env.BENCH_BIN ?? join(ROOT, 'bin', 'naboom.js');

/** Starts a provisioned redis-server (AOF on, as `naboom redis` runs it; BENCH_AOF=no turns it off) and its env file. */
export async function startBenchRedis(extraEnv = {}) {
  return await startProvisionedRedis({ env: extraEnv, appendonly: process.env.BENCH_AOF !== 'no', tmpPrefix: 'naboom-bench-' });
}

/** Spawns `naboom serve` on a free port and resolves once it listens. */
/** Starts `naboom serve`; BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles it. */
export async function spawnServe(envFile, extra = {}, nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)) {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--port', String(port)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NABOOM_ENV_FILE: envFile, SERVE_WORKERS: '1', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d.toString();
      if (out.includes('naboom serve: listening on')) resolve();
      if (process.env.BENCH_SERVE_STDERR) process.stderr.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    /** The process and, with SERVE_WORKERS > 1, its cluster workers. */
    pids: () => [child.pid, ...childrenOf(child.pid)],
    /** RSS of the whole serve (primary and workers), KiB. */
    rssKiB: () => [child.pid, ...childrenOf(child.pid)].reduce((sum, pid) => sum + rssKiBOf(pid), 0),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The pids of a process's children (the workers of `naboom serve --workers N`). */
export const childrenOf = (pid) => {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch (err) {
    if (err.status !== 1) throw err; // ps exits 1 when the process has no children
  }
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
};

/** Resident set size of one process, KiB (0 once it is gone). */
export const rssKiBOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The median of `values` (the mean of the two middle ones when their number is even); NaN when empty. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length / 2;
  return s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2;
}

export function summarise(values) {
  const s = [...values].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

export function machine() {
  return { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

export function writeResult(name, result) {
  const path = join(ROOT, 'bench', 'results', `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...result, machine: machine(), at: new Date().toISOString() }, null, 2) + '\n');
  return path;
}

export const log = (...a) => process.stderr.write(a.join(' ') + '\n');

/**
 * The messages a forked child sends, kept in arrival order. `next(match, ms)` resolves with the first one `match`
 * accepts (removing it), as soon as it arrives; with `undefined` after `ms` without one.
 */
export function inboxOf(child) {
  const inbox = [];
  let wake = () => undefined;
  child.on('message', (m) => {
    inbox.push(m);
    wake();
  });
  return {
    next: (match = () => true, ms = Infinity) =>
      new Promise((resolve) => {
        const timer = Number.isFinite(ms) ? setTimeout(() => done(undefined), ms) : undefined;
        const done = (m) => {
          clearTimeout(timer);
          wake = () => undefined;
          resolve(m);
        };
        const look = () => {
          const i = inbox.findIndex(match);
          if (i >= 0) done(inbox.splice(i, 1)[0]);
        };
        wake = look;
        look();
      }),
  };
}
