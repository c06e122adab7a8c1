/**
 * `naboom verify` against real servers started with the ACL file our code generates: it passes on a good
 * deployment and fails, with the right check, on each kind of broken one.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectAdmin } from '../../src/redis/admin.js';
import { createLogger } from '../../src/log/logger.js';
import type { VerifyReport } from '../../src/verify/types.js';
import { runVerify } from '../../src/verify/run.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });
const failed = (r: VerifyReport) => r.checks.filter((c) => c.status === 'fail');

describe('naboom verify', () => {
  let t: TestRedis;
  let admin: Redis;
  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
  });
  afterAll(async () => {
    admin.disconnect();
    await t.stop();
  });
  afterEach(async () => {
    // Put the good rules back and forget the denials each case caused.
    const r = await runCli(['acl', 'apply', '--prune'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(r.code, r.stderr).toBe(0);
    await admin.call('ACL', 'LOG', 'RESET');
  });

  it('passes on a freshly provisioned server, with every positive and negative cell', async () => {
    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    expect(failed(r)).toEqual([]);
    const cells = (section: string, role: string) => r.checks.filter((c) => c.section === section && c.role === role && c.status === 'pass').length;
    for (const role of ['master', 'app', 'websocket', 'realtime', 'monitoring']) expect(cells('auth', role), role).toBe(1);
    // 14 forbidden commands + every other role's namespace (the app role's include naboom:push:*), + the
    // realtime role's presence selector: others cannot touch it, and realtime's GEO grant stops at it.
    expect(cells('deny', 'app')).toBe(14 + 4 + 1);
    expect(cells('deny', 'websocket')).toBe(14 + 9 + 1);
    expect(cells('deny', 'realtime')).toBe(14 + 7 + 2);
    expect(cells('job', 'realtime')).toBeGreaterThanOrEqual(1);
    expect(r.checks.find((c) => c.role === 'realtime' && c.name === 'GEO commands in ~naboom:presence:* (selector)')?.status).toBe('pass');
    expect(cells('deny', 'monitoring')).toBe(12);
    expect(cells('job', 'app')).toBe(7);
    const names = r.checks.map((c) => `${c.role ?? ''} ${c.name}`);
    expect(names).toEqual(expect.arrayContaining(['app refuses FLUSHALL', 'websocket refuses KEYS', 'realtime refuses SCAN', 'monitoring refuses SET (live)', ' anonymous connections are refused']));
  });

  it('prints a table by default and exactly one JSON document with --json', async () => {
    const table = await runCli(['verify'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^STATUS\s+SECTION\s+ROLE\s+CHECK\s+DETAIL/);
    expect(table.stdout).toMatch(/OK: \d+ passed, 0 failed/);
    const json = await runCli(['verify', '--json'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as VerifyReport;
    expect(doc.ok).toBe(true);
    for (const v of Object.values(t.env)) if (v.length >= 32) expect(json.stdout + table.stdout + json.stderr).not.toContain(v);
  });

  it('fails on an extra grant (KEYS given to app_user)', async () => {
    await admin.call('ACL', 'SETUSER', 'app_user', '+keys');
    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    expect(r.ok).toBe(false);
    expect(failed(r).map((c) => c.name)).toEqual(expect.arrayContaining(['refuses KEYS', 'app_user matches the desired rules']));
    expect(failed(r).find((c) => c.name === 'refuses KEYS')?.hint).toMatch(/naboom acl apply/);
    const cli = await runCli(['verify'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^error NABOOM_VERIFY_FAILED: [1-9]\d* check\(s\) failed$/m);
    expect(cli.stdout).toMatch(/FAIL\s+deny\s+app\s+refuses KEYS\s+KEYS naboom-verify-none\* was ALLOWED/);
  });

  it('fails on a wrong password', async () => {
    await admin.call('ACL', 'SETUSER', 'websocket_user', 'resetpass', '>not-the-configured-password-at-all');
    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    const names = failed(r).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['websocket_user authenticates and PINGs on db 1', 'websocket_user matches the desired rules']));
    expect(failed(r).find((c) => c.section === 'auth')?.detail).toMatch(/WRONGPASS/);
  });

  it('fails on a missing user', async () => {
    await admin.call('ACL', 'DELUSER', 'realtime_user');
    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    expect(failed(r).find((c) => c.name === 'realtime_user matches the desired rules')?.detail).toBe('user does not exist');
  });

  it('fails when default is nopass', async () => {
    await admin.call('ACL', 'SETUSER', 'default', 'nopass');
    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    const names = failed(r).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['default requires a password', 'anonymous connections are refused']));
  });

  it("fails when one of Naboom's own connections was refused (ACL LOG), naming role, key and count", async () => {
    const c = new Redis({ port: t.port, username: 'app_user', password: t.env['REDIS_APP_PASSWORD'], connectionName: 'naboom:app:123', lazyConnect: true });
    await c.connect();
    await expect(c.get('panic:alerts:high')).rejects.toThrow(/NOPERM/);
    await expect(c.get('panic:alerts:high')).rejects.toThrow(/NOPERM/);
    c.disconnect();
    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    expect(r.ok).toBe(false);
    const log = failed(r).find((c) => c.section === 'acl-log');
    expect(log?.detail).toMatch(/^naboom:app:123 \(role app, user app_user\) from 127\.0\.0\.1 was refused GET key panic:alerts:high \(2×\): a grant is missing/);
    expect(log?.aclLog).toEqual([expect.objectContaining({ class: 'grant-missing', role: 'app', username: 'app_user', count: 2, address: '127.0.0.1' })]);
    // Only Naboom's own denial: nothing reported as coming from outside.
    expect(r.checks.filter((c) => c.name === 'denial from outside Naboom')).toEqual([]);
  });

  it('warns (and passes) on a denial from a client outside Naboom; --strict fails on it', async () => {
    // What `redis-cli --user app_user FLUSHALL` does: a connection with no Naboom client name.
    const probe = new Redis({ port: t.port, username: 'app_user', password: t.env['REDIS_APP_PASSWORD'], lazyConnect: true });
    await probe.connect();
    for (let i = 0; i < 3; i++) await expect(probe.flushall()).rejects.toThrow(/NOPERM/);
    probe.disconnect();

    const r = await runVerify({ config: t.config, keys: t.keys, logger });
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    const warn = r.checks.filter((c) => c.section === 'acl-log' && c.status === 'warn');
    expect(warn.map((c) => c.detail)).toEqual(['someone tried FLUSHALL as app_user from 127.0.0.1 (3×)']);
    expect(warn[0]?.aclLog).toEqual([expect.objectContaining({ class: 'foreign', username: 'app_user', what: 'FLUSHALL', count: 3 })]);
    expect(r.checks.find((c) => c.name === 'no denials caused by normal operation')?.status).toBe('pass');

    const env = { NABOOM_ENV_FILE: t.envFile };
    const table = await runCli(['verify'], { env });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/WARN\s+acl-log\s+denial from outside Naboom\s+someone tried FLUSHALL as app_user from 127\.0\.0\.1 \(3×\)/);
    const strict = await runCli(['verify', '--strict', '--json'], { env });
    expect(strict.code).toBe(1);
    const doc = JSON.parse(strict.stdout) as VerifyReport;
    expect(doc.ok).toBe(false);
    expect(doc.checks.filter((c) => c.status === 'fail').map((c) => c.detail)).toEqual(['someone tried FLUSHALL as app_user from 127.0.0.1 (3×)']);
  });
});
