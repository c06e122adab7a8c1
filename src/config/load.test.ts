import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NaboomError } from '../errors/catalogue.js';
import { generateEnv } from './generate.js';
import { loadConfig } from './load.js';

const base = generateEnv(6380).vars;

function fails(fn: () => unknown): NaboomError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NaboomError);
    return err as NaboomError;
  }
  throw new Error('expected an error');
}

describe('config loader', () => {
  it('names a missing, empty or whitespace password and the command that needs it', () => {
    for (const value of [undefined, '', '   ']) {
      const env: Record<string, string | undefined> = { ...base, REDIS_APP_PASSWORD: value };
      const err = fails(() => loadConfig({ env, envFile: false, requireRoles: ['app'], command: 'serve' }));
      expect(err.code).toBe('NABOOM_CONFIG_MISSING_SECRET');
      expect(err.message).toBe('Missing or empty: REDIS_APP_PASSWORD (required by naboom serve)');
    }
  });

  it('does not require passwords of roles the command does not use, and never invents one', () => {
    const c = loadConfig({ env: { SECRET_KEY: base['SECRET_KEY'] }, envFile: false, requireRoles: [] });
    expect(c.credentials.app.password).toBeUndefined();
  });

  it('reads *_PASSWORD_FILE, strips the trailing newline, and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-cfg-'));
    const file = join(dir, 'app.pw');
    writeFileSync(file, 'from-a-file-0123456789abcdef0123\n');
    const env = { ...base, REDIS_APP_PASSWORD: undefined, REDIS_APP_PASSWORD_FILE: file };
    const c = loadConfig({ env, envFile: false, requireRoles: ['app'] });
    expect(c.credentials.app.password?.reveal()).toBe('from-a-file-0123456789abcdef0123');
    expect(c.credentials.app.source).toEqual({ kind: 'file', variable: 'REDIS_APP_PASSWORD_FILE', path: file });
    const both = fails(() => loadConfig({ env: { ...base, REDIS_APP_PASSWORD_FILE: file }, envFile: false }));
    expect(both.message).toMatch(/REDIS_APP_PASSWORD and REDIS_APP_PASSWORD_FILE are both set/);
    const missing = fails(() => loadConfig({ env: { ...env, REDIS_APP_PASSWORD_FILE: join(dir, 'nope') }, envFile: false }));
    expect(missing.code).toBe('NABOOM_CONFIG_SECRET_FILE');
    expect(missing.message).toMatch(/^REDIS_APP_PASSWORD_FILE: cannot read .*nope \(ENOENT\)$/);
  });

  it('loads .env with the process environment taking precedence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-cfg-'));
    const file = join(dir, '.env');
    writeFileSync(file, `REDIS_PORT=7001\nPORT=9000\nREDIS_APP_PASSWORD=${base['REDIS_APP_PASSWORD']}\n`);
    const c = loadConfig({ env: { PORT: '9100' }, envFile: file, requireRoles: ['app'] });
    expect(c.topology).toEqual({ kind: 'standalone', host: '127.0.0.1', port: 7001 });
    expect(c.settings.PORT).toBe(9100);
    expect(c.credentials.app.source).toEqual({ kind: 'env', variable: 'REDIS_APP_PASSWORD', envFile: file });
  });

  it('rejects invalid values naming the variable', () => {
    expect(fails(() => loadConfig({ env: { REDIS_PORT: 'abc' }, envFile: false })).message).toMatch(/REDIS_PORT/);
    expect(fails(() => loadConfig({ env: { TZ: 'Mars/Olympus' }, envFile: false })).message).toMatch(/TZ: is not an IANA time zone/);
    expect(fails(() => loadConfig({ env: { REDIS_SENTINELS: 'nohost' }, envFile: false })).message).toMatch(/REDIS_SENTINELS: "nohost" is not host:port/);
    expect(fails(() => loadConfig({ env: { REDIS_TLS: 'maybe' }, envFile: false })).message).toMatch(/REDIS_TLS/);
  });

  it('refuses Sentinel and Cluster at once', () => {
    const err = fails(() => loadConfig({ env: { REDIS_SENTINELS: 'a:1', REDIS_CLUSTER_NODES: 'b:2' }, envFile: false }));
    expect(err.code).toBe('NABOOM_CONFIG_TOPOLOGY_CONFLICT');
  });

  it('refuses a short SECRET_KEY and splits a rotation list', () => {
    expect(fails(() => loadConfig({ env: { SECRET_KEY: 'short' }, envFile: false })).message).toMatch(/SECRET_KEY/);
    const k1 = 'a'.repeat(32);
    const k2 = 'b'.repeat(40);
    const c = loadConfig({ env: { SECRET_KEY: `${k1}, ${k2}` }, envFile: false, requireSecretKey: true });
    expect(c.secretKeys.map((k) => k.reveal())).toEqual([k1, k2]);
  });

  it('is frozen and never shows a secret when printed or serialised', () => {
    const c = loadConfig({ env: base, envFile: false, requireRoles: ['app'] });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.settings)).toBe(true);
    const pw = base['REDIS_APP_PASSWORD'] ?? '';
    expect(JSON.stringify(c)).not.toContain(pw);
    expect(inspect(c, { depth: 10 })).not.toContain(pw);
    expect(`${String(c.credentials.app.password)}`).toBe('[redacted]');
    expect(JSON.stringify(c)).not.toContain(base['SECRET_KEY'] ?? '');
  });

  it('defaults to the SPEC values', () => {
    const c = loadConfig({ env: {}, envFile: false });
    expect(c.settings).toMatchObject({ HOST: '127.0.0.1', PORT: 8000, TZ: 'Africa/Johannesburg', RATE_LIMIT_ALERTS_PER_USER: 30, RATE_LIMIT_ALERTS_PER_IP: 300, RATE_LIMIT_LOGINS: 10, NABOOM_REDIS_PORT: 6380 });
    expect(c.credentials.app.username).toBe('app_user');
    expect(c.credentials.master.username).toBe('default');
    expect(c.topology).toEqual({ kind: 'standalone', host: '127.0.0.1', port: 6379 });
    expect(c.alertMinReplicas).toBe(0);
    expect(loadConfig({ env: { REDIS_SENTINELS: 'a:1' }, envFile: false }).alertMinReplicas).toBe(1);
  });
});
