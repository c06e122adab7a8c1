/** `naboom redis`: our own redis-server with the generated aclfile, AOF on, data under NABOOM_DATA_DIR. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { createKeySpace, layoutOf } from '../../src/redis/keys.js';
import { freePort } from '../../src/local/redis-server.js';
import { runVerify } from '../../src/verify/run.js';
import { childEnv, NABOOM_BIN, runCli } from '../helpers/cli.js';

describe('naboom redis', () => {
  it('starts a provisioned Redis with AOF on that `naboom verify` accepts, and stops on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-local-'));
    const port = await freePort();
    expect((await runCli(['init', '--dir', dir, '--redis-port', String(port)])).code).toBe(0);
    const child = spawn(process.execPath, [NABOOM_BIN, 'redis', '--quiet'], { cwd: dir, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl-C stops it')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    expect(out).toMatch(new RegExp(`Redis ${port} is ready`));
    try {
      const config = loadConfig({ env: {}, envFile: join(dir, '.env'), requireRoles: ['master', 'app', 'websocket', 'realtime', 'monitoring'] });
      const admin = await connectAdmin(config);
      expect(await admin.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(((await admin.config('GET', 'dir')))[1]).toBe(join(dir, '.naboom', `redis-${port}`));
      admin.disconnect();
      const report = await runVerify({ config, keys: createKeySpace(layoutOf(config)), logger: createLogger({ level: 'silent' }) });
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
    expect(existsSync(join(dir, '.naboom', `redis-${port}`, 'appendonlydir'))).toBe(true);
  });
});
