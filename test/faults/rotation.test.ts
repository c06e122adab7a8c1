/**
 * `naboom acl rotate app` while alerts are being raised: zero failed requests. The running server re-reads
 * the new password from the env file, and when every app connection is then cut (as a network blip would),
 * it reconnects with the new one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, WaitTimeoutError } from '../../src/local/wait.js';
import { readEnvFile } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';
import { auth, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

describe('password rotation under load', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '100000', RATE_LIMIT_ALERTS_PER_IP: '100000' } });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('rotates the app password with zero failed requests', async () => {
    const before = readEnvFile(s.redis.envFile)?.['REDIS_APP_PASSWORD'];
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member)).catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status === 201) ok += 1;
        else failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
      }
    })();
    const started = Date.now();
    const rotate = await runCli(['acl', 'rotate', 'app', '--grace', '7'], { env: { NABOOM_ENV_FILE: s.redis.envFile } });
    expect(rotate.code, rotate.stderr).toBe(0);
    // Every app-role connection is cut after the old password is gone: the server must log in with the new one.
    const killed = Number(await s.admin.call('CLIENT', 'KILL', 'USER', 'app_user'));
    const resumedFrom = ok;
    // Timed out or not, the load stops here; the assertions below say what went wrong.
    await waitFor('20 requests answered after the rotation', () => ok >= resumedFrom + 20, { timeoutMs: 10_000, intervalMs: 50 }).catch((err: unknown) => {
      if (!(err instanceof WaitTimeoutError)) throw err;
    });
    running = false;
    await load;
    const after = readEnvFile(s.redis.envFile)?.['REDIS_APP_PASSWORD'];
    expect(after).not.toBe(before);
    expect(killed).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(resumedFrom + 19);
    expect(failures).toEqual([]);
    expect(s.logs.join('')).toMatch(/role passwords changed; used from the next connection on/);
    for (const secret of [before, after]) expect(s.logs.join('') + rotate.stdout + rotate.stderr).not.toContain(secret);
    process.stdout.write(`[rotation] ${ok} alerts raised during rotation (${Date.now() - started} ms), 0 failed, ${killed} app connections cut and re-established with the new password\n`);
  }, 60_000);
});
