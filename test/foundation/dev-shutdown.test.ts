/**
 * `naboom dev` stopped with Ctrl-C from its terminal: the signal reaches the terminal's whole foreground process
 * group. Redis must not be in it — it would shut down at once while serve and the worker are still draining
 * against it — and must still be stopped, last, by `naboom dev` itself.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { generateEnv } from '../../src/config/generate.js';
import { freePort } from '../../src/local/redis-server.js';
import { childEnv, NABOOM_BIN } from '../helpers/cli.js';

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts `naboom dev` on a fresh env file and resolves once it is running. */
async function startDev(dir: string): Promise<{ child: ChildProcessWithoutNullStreams; port: number; url: string; output: () => string; exited: Promise<number | null> }> {
  const port = await freePort();
  const envFile = join(dir, '.env');
  writeFileSync(envFile, `${generateEnv(port).text}\nPORT=0\nNABOOM_DATA_DIR=${join(dir, 'data')}\nLOG_LEVEL=info\n`, { mode: 0o600 });
  // As a shell runs a job: naboom dev leads a process group of its own, which Ctrl-C signals as a whole.
  const child = spawn(process.execPath, [NABOOM_BIN, '--env-file', envFile, 'dev'], { env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /Naboom is running: (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`naboom dev exited with ${code}:\n${out}`)));
  });
  return { child, port, url, output: () => out, exited };
}

/** The redis-server naboom dev started: [pid, process group]. */
function redisOf(devPid: number): [number, number] {
  const row = execFileSync('ps', ['-o', 'pid=,pgid=,comm=', '--ppid', String(devPid)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[2] === 'redis-server');
  if (!row) throw new Error('naboom dev has no redis-server child');
  return [Number(row[0]), Number(row[1])];
}

describe('naboom dev and Ctrl-C', () => {
  const dir = mkdtempSync(join(tmpdir(), 'naboom-dev-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops serve and the worker while Redis still answers, then Redis, and leaves nothing running', async () => {
    const { child, port, url, output, exited } = await startDev(mkdtempSync(join(dir, 'one-')));
    try {
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      const pid = child.pid;
      if (pid === undefined) throw new Error('no pid');
      // Not in the process group Ctrl-C signals.
      const [redisPid, redisGroup] = redisOf(pid);
      expect(redisGroup).not.toBe(pid);
      process.kill(-pid, 'SIGINT');
      expect(await exited).toBe(0);
      expect(output()).toContain('stopping serve, worker and redis');
      // Nothing talked to a Redis that had gone away while serve and the worker drained.
      expect(output()).not.toMatch(/ECONNREFUSED|Connection is closed|connect ECONN/);
      expect(await refused(port)).toBe(true);
      expect(isRunning(redisPid)).toBe(false);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }
  }, 90_000);

  it('a Redis in its own process group is still stopped when its parent exits at once (a second Ctrl-C, a deadline)', async () => {
    const data = mkdtempSync(join(dir, 'exit-'));
    const script = `
      import { freePort, startRedisServer } from ${JSON.stringify(new URL('../../dist/local/redis-server.js', import.meta.url).href)};
      const port = await freePort();
      const r = await startRedisServer({ port, dir: ${JSON.stringify(data)}, aclFileContent: 'user default on nopass ~* &* +@all\\n', ownProcessGroup: true });
      console.log(JSON.stringify({ port, pid: r.pid }));
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: childEnv({}), encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(3);
    const { port, pid } = JSON.parse(r.stdout) as { port: number; pid: number };
    try {
      await waitFor('the redis-server process to exit', () => !isRunning(pid), { timeoutMs: 15_000 });
      expect(await refused(port)).toBe(true);
    } finally {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 60_000);
});
