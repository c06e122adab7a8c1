/** `naboom acl render|apply|diff|rotate` and `naboom init`, run as a user runs them. */
import { readFileSync, statSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvFile } from '../../src/config/load.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const parseAclLogLength = (reply: unknown): number => (Array.isArray(reply) ? reply.length : -1);

describe('naboom acl', () => {
  let t: TestRedis;
  let admin: Redis;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    env = { NABOOM_ENV_FILE: t.envFile };
  });
  afterAll(async () => {
    admin.disconnect();
    await t.stop();
  });

  it('render prints hashes only', async () => {
    const r = await runCli(['acl', 'render'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(7);
    for (const [k, v] of Object.entries(t.env)) if (k.endsWith('_PASSWORD')) expect(r.stdout).not.toContain(v);
  });

  it('diff exits 0 in sync, 1 on drift (printed per user), 2 on error; apply fixes drift idempotently', async () => {
    expect((await runCli(['acl', 'diff'], { env })).code).toBe(0);
    await admin.call('ACL', 'SETUSER', 'app_user', '+flushall', '~*');
    await admin.call('ACL', 'DELUSER', 'monitoring_user');
    const drift = await runCli(['acl', 'diff'], { env });
    expect(drift.code).toBe(1);
    expect(drift.stderr).toMatch(/^error NABOOM_ACL_DRIFT: 2 user\(s\) drifted\n {2}hint: Run `naboom acl apply`/m);
    expect(drift.stdout).toMatch(/app_user: DRIFT\n(\s+- .*\n)*\s+- extra key patterns: ~\*\n/);
    expect(drift.stdout).toMatch(/extra commands: \+flushall/);
    expect(drift.stdout).toMatch(/monitoring_user: DRIFT\n\s+- user does not exist/);
    expect(drift.stdout).toMatch(/websocket_user: in sync/);

    const apply = await runCli(['acl', 'apply'], { env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/updated app_user, monitoring_user; ACL SAVE done/);
    expect((await runCli(['acl', 'diff'], { env })).code).toBe(0);
    const again = await runCli(['acl', 'apply'], { env });
    expect(again.stdout).toMatch(/no change needed/);
    // ACL SAVE persisted it: the aclfile holds the fixed rules, hashed.
    const saved = readFileSync(t.server.aclFile, 'utf8');
    expect(saved).toMatch(/^user monitoring_user on #[0-9a-f]{64}/m);
    expect(saved).not.toContain(t.env['REDIS_MONITORING_PASSWORD']);

    const broken = await runCli(['acl', 'diff'], { env: { ...env, REDIS_PORT: '1' } });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error NABOOM_REDIS_UNAVAILABLE: 127\.0\.0\.1:1: .*ECONNREFUSED/m);
  });

  it('a wrong master password is a clear error (exit 2), not a hang', async () => {
    const r = await runCli(['acl', 'diff'], { env: { ...env, REDIS_MASTER_PASSWORD: 'wrong-password-wrong-password-00' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error NABOOM_REDIS_AUTH: .*the master role \(default\) was refused/);
    expect(r.stderr).not.toContain('wrong-password-wrong-password-00');
  });

  it('rotate keeps a connected client working, lets a new client in with the new password, then retires the old one', async () => {
    const oldPw = t.env['REDIS_APP_PASSWORD'] ?? '';
    const connected = new Redis({ port: t.port, username: 'app_user', password: oldPw, lazyConnect: true, maxRetriesPerRequest: 0 });
    await connected.connect();
    let failures = 0;
    let ops = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          await connected.set('naboom:cache:1:rotate', String(ops));
          ops += 1;
        } catch {
          failures += 1;
        }
      }
    })();
    const r = await runCli(['acl', 'rotate', 'app', '--grace', '1'], { env });
    running = false;
    await load;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/app_user: new password added .*\napp_user: new password written to .*\.env\napp_user: old password removed; rotation complete/);
    expect(r.stderr).toMatch(/grace period: old password removed in 1s/);
    expect(failures).toBe(0);
    expect(ops).toBeGreaterThan(0);
    expect(await connected.get('naboom:cache:1:rotate')).not.toBeNull();
    connected.disconnect();

    const newPw = readEnvFile(t.envFile)?.['REDIS_APP_PASSWORD'] ?? '';
    expect(newPw).not.toBe(oldPw);
    expect(newPw.length).toBeGreaterThanOrEqual(32);
    expect(statSync(t.envFile).mode & 0o777).toBe(0o600);
    const fresh = new Redis({ port: t.port, username: 'app_user', password: newPw, lazyConnect: true });
    await fresh.connect();
    expect(await fresh.ping()).toBe('PONG');
    fresh.disconnect();
    const stale = new Redis({ port: t.port, username: 'app_user', password: oldPw, lazyConnect: true, retryStrategy: () => null });
    const errors: string[] = [];
    stale.on('error', (e: Error) => errors.push(e.message));
    await expect(stale.connect()).rejects.toThrow();
    expect(errors.join()).toMatch(/WRONGPASS/);
    expect((await runCli(['acl', 'diff'], { env })).code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(newPw);
  });

  it('log classifies denials (Naboom connection: FAIL, anyone else: WARN), prints JSON, resets as master; exit 1 when there is something to look at', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const empty = await runCli(['acl', 'log'], { env });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^ACL LOG is empty\n/);

    // The current password: an earlier case may have rotated it.
    const pw = readEnvFile(t.envFile)?.['REDIS_APP_PASSWORD'];
    const outsider = new Redis({ port: t.port, username: 'app_user', password: pw, lazyConnect: true });
    const naboom = new Redis({ port: t.port, username: 'app_user', password: pw, connectionName: 'naboom:app:77', lazyConnect: true });
    await Promise.all([outsider.connect(), naboom.connect()]);
    await expect(outsider.flushall()).rejects.toThrow(/NOPERM/);
    await expect(outsider.flushall()).rejects.toThrow(/NOPERM/);
    await expect(naboom.get('panic:alerts:high')).rejects.toThrow(/NOPERM/);
    outsider.disconnect();
    naboom.disconnect();

    const r = await runCli(['acl', 'log'], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}WARN foreign\s+someone tried FLUSHALL as app_user from 127\.0\.0\.1 \(2×\)$/m);
    expect(r.stdout).toMatch(/^\S+Z {2}FAIL grant-missing\s+naboom:app:77 \(role app, user app_user\) from 127\.0\.0\.1 was refused GET key panic:alerts:high \(1×\): a grant is missing$/m);
    expect(r.stdout).toMatch(/1 denial\(s\) of Naboom's own connections, 2 of other clients/);
    expect(r.stderr).toMatch(/hint: a client outside Naboom was refused/);

    const json = await runCli(['acl', 'log', '--json', '--reset'], { env });
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { groups: { class: string; what: string; count: number; address: string }[]; summary: Record<string, number>; reset: boolean };
    expect(doc.reset).toBe(true);
    expect(doc.summary).toEqual({ 'grant-missing': 1, foreign: 2, 'verify-probe': 0 });
    expect(doc.groups).toEqual(expect.arrayContaining([expect.objectContaining({ class: 'foreign', what: 'FLUSHALL', count: 2, address: '127.0.0.1' })]));
    expect(json.stderr).toMatch(/ACL LOG reset on 127\.0\.0\.1:\d+/);
    expect(parseAclLogLength(await admin.call('ACL', 'LOG'))).toBe(0);
    expect((await runCli(['acl', 'log'], { env })).code).toBe(0);

    const help = await runCli(['acl', 'log', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/FAIL grant-missing[\s\S]*WARN foreign[\s\S]*Exit codes: 0 nothing to look at/);
  }, 60_000); // eight CLI processes, each a Node start and a Redis login

  it('rotate refuses an unknown role', async () => {
    const r = await runCli(['acl', 'rotate', 'root'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error NABOOM_USAGE: Unknown role "root"/);
  });
});

describe('naboom init', () => {
  it('writes a 0600 .env with strong random passwords and refuses to overwrite without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-init-'));
    const first = await runCli(['init', '--dir', dir]);
    expect(first.code, first.stderr).toBe(0);
    const envPath = join(dir, '.env');
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'users.acl')).mode & 0o777).toBe(0o600);
    const vars = readEnvFile(envPath) ?? {};
    const pws = Object.entries(vars).filter(([k]) => k.endsWith('_PASSWORD')).map(([, v]) => v);
    expect(pws).toHaveLength(7);
    for (const p of pws) expect(p.length).toBeGreaterThanOrEqual(32);
    expect(new Set(pws).size).toBe(7);
    expect(Buffer.from(vars['SECRET_KEY'] ?? '', 'base64url').length).toBeGreaterThanOrEqual(32);
    const acl = readFileSync(join(dir, 'users.acl'), 'utf8');
    for (const p of pws) expect(acl).not.toContain(p);

    const before = readFileSync(envPath, 'utf8');
    const second = await runCli(['init', '--dir', dir]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/error NABOOM_INIT_EXISTS: .*\.env already exists\n\s+hint: Pass --force/);
    expect(readFileSync(envPath, 'utf8')).toBe(before);
    const forced = await runCli(['init', '--dir', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(envPath, 'utf8')).not.toBe(before);
  });

  it('a command that needs a missing password stops and names the variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-init-'));
    writeFileSync(join(dir, '.env'), 'REDIS_APP_PASSWORD=   \n');
    const r = await runCli(['acl', 'render'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error NABOOM_CONFIG_MISSING_SECRET: Missing or empty: REDIS_MASTER_PASSWORD, REDIS_APP_PASSWORD, .*SECRET_KEY|Missing or empty: REDIS_MASTER_PASSWORD, REDIS_APP_PASSWORD/m);
    expect(r.stdout).toBe('');
  });
});
