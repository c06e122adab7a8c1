/**
 * `naboom redis --tls`: a local CA and certificates under .naboom/tls (openssl), redis-server TLS-only, and
 * printed variables that — added to the .env — give a deployment whose `naboom verify` is green, TLS section included.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/redis-server.js';
import { childEnv, NABOOM_BIN, runCli } from '../helpers/cli.js';

describe('naboom redis --tls', () => {
  it('starts a TLS-only Redis and prints the variables that make verify green', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-tls-cli-'));
    const port = await freePort();
    expect((await runCli(['init', '--dir', dir, '--redis-port', String(port)])).code).toBe(0);
    const child = spawn(process.execPath, [NABOOM_BIN, 'redis', '--quiet', '--tls'], { cwd: dir, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl-C stops it')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited early: ${out}${err}`)));
    });
    try {
      expect(out).toContain(`Redis ${port} is ready`);
      for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'client.crt', 'client.key']) expect(existsSync(join(dir, '.naboom', 'tls', f)), f).toBe(true);
      const printed = [...out.matchAll(/^ {2}(REDIS_TLS[A-Z_]*)=(.+)$/gm)].map((m) => `${m[1]}=${m[2]}`);
      expect(printed).toEqual([`REDIS_TLS=true`, `REDIS_TLS_CA_FILE=${join(dir, '.naboom', 'tls', 'ca.crt')}`, expect.stringMatching(/^REDIS_TLS_CERT_FILE=/), expect.stringMatching(/^REDIS_TLS_KEY_FILE=/)]);

      // Before the variables: a plaintext client on the TLS port is told so, not "Connection is closed."
      const plain = await runCli(['verify'], { cwd: dir, env: {} });
      expect(plain.code).toBe(1);
      expect(plain.stdout).toContain('NABOOM_REDIS_TLS_MISMATCH');

      appendFileSync(join(dir, '.env'), `${printed.slice(0, 2).join('\n')}\n`);
      const v = await runCli(['verify', '--json'], { cwd: dir, env: {} });
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const report = JSON.parse(v.stdout) as { checks: { section: string; status: string; name: string }[] };
      const tls = report.checks.filter((c) => c.section === 'tls');
      expect(tls.length).toBeGreaterThanOrEqual(7);
      expect(tls.filter((c) => c.status !== 'pass')).toEqual([]);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
