import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { generateEnv } from './generate.js';
import { fails } from '../../test/helpers/errors.js';
import { loadConfig } from './load.js';
import { isTimeZone } from './schema.js';

const base = generateEnv(6380).vars;

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

  it('defaults to the values of docs/contract.md §2', () => {
    const c = loadConfig({ env: {}, envFile: false });
    expect(c.settings).toMatchObject({ HOST: '127.0.0.1', PORT: 8000, TZ: 'Africa/Johannesburg', RATE_LIMIT_ALERTS_PER_USER: 30, RATE_LIMIT_ALERTS_PER_IP: 300, RATE_LIMIT_LOGINS: 10, NABOOM_REDIS_PORT: 6380 });
    expect(c.credentials.app.username).toBe('app_user');
    expect(c.credentials.master.username).toBe('default');
    expect(c.topology).toEqual({ kind: 'standalone', host: '127.0.0.1', port: 6379 });
    expect(c.alertMinReplicas).toBe(0);
    expect(loadConfig({ env: { REDIS_SENTINELS: 'a:1' }, envFile: false }).alertMinReplicas).toBe(1);
  });

  it('TRUST_PROXY: false by default, a hop count, or proxy addresses/CIDRs; true refused with what to set instead', () => {
    const tp = (v: string | undefined) => loadConfig({ env: v === undefined ? {} : { TRUST_PROXY: v }, envFile: false }).settings.TRUST_PROXY;
    expect(tp(undefined)).toBe(false);
    expect(tp('false')).toBe(false);
    expect(tp('0')).toBe(false);
    expect(tp('1')).toBe(1);
    expect(tp(' 2 ')).toBe(2);
    expect(tp('10.0.0.5, 10.0.1.0/24,::1,fd00::/8,loopback')).toEqual(['10.0.0.5', '10.0.1.0/24', '::1', 'fd00::/8', 'loopback']);
    for (const v of ['true', 'TRUE', 'yes', 'on']) {
      const err = fails(() => tp(v));
      expect(err.code).toBe('NABOOM_CONFIG_INVALID');
      expect(err.message).toMatch(/TRUST_PROXY: true is refused: it trusts every hop.*X-Forwarded-For.*1 behind one nginx/);
    }
    expect(fails(() => tp('10.0.0.300')).message).toMatch(/TRUST_PROXY: "10.0.0.300" is not a hop count, an IP address or a CIDR/);
    expect(fails(() => tp('10.0.0.0/33')).message).toMatch(/TRUST_PROXY/);
    expect(fails(() => tp('nginx')).message).toMatch(/TRUST_PROXY/);
    expect(fails(() => tp('99')).message).toMatch(/TRUST_PROXY: 99 hops/);
  });

  it('ALLOWED_ORIGINS: origins only, normalised; a path or a non-http scheme is refused', () => {
    const o = (v: string) => loadConfig({ env: { ALLOWED_ORIGINS: v }, envFile: false }).settings.ALLOWED_ORIGINS;
    expect(loadConfig({ env: {}, envFile: false }).settings.ALLOWED_ORIGINS).toEqual([]);
    expect(o('https://Ops.Example.org, http://localhost:5173/')).toEqual(['https://ops.example.org', 'http://localhost:5173']);
    for (const bad of ['https://ops.example.org/app', 'ftp://x.org', 'ops.example.org', 'https://a@x.org', 'https://x.org?q=1']) {
      expect(fails(() => o(bad)).message, bad).toMatch(/ALLOWED_ORIGINS: .* is not an origin/);
    }
  });

  it('defaults for the HTTP edge settings', () => {
    expect(loadConfig({ env: {}, envFile: false }).settings).toMatchObject({
      RATE_LIMIT_LOGINS_PER_IP: 30,
      LOGIN_CONCURRENCY: 4,
      LOGIN_QUEUE: 16,
      REQUEST_RECEIVE_TIMEOUT_MS: 10_000,
      KEEP_ALIVE_TIMEOUT_MS: 72_000,
      HEALTH_CACHE_MS: 2000,
    });
  });

  it('naboom init writes a METRICS_TOKEN, so /metrics is never open on an init-ed stack', () => {
    const a = generateEnv(6380);
    const b = generateEnv(6380);
    expect(a.vars['METRICS_TOKEN']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.vars['METRICS_TOKEN']).not.toBe(b.vars['METRICS_TOKEN']);
    expect(a.text).toContain(`\nMETRICS_TOKEN=${a.vars['METRICS_TOKEN']}\n`);
    expect(loadConfig({ env: a.vars, envFile: false }).metricsToken?.reveal()).toBe(a.vars['METRICS_TOKEN']);
  });
  it('naboom init writes a VAPID key pair and subject; the private key is a redacted secret with *_FILE', () => {
    const a = generateEnv(6380);
    const priv = a.vars['VAPID_PRIVATE_KEY'] ?? '';
    expect(a.vars['VAPID_PUBLIC_KEY']).toMatch(/^B[A-Za-z0-9_-]{86}$/);
    expect(priv).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.text).toContain(`\nVAPID_PRIVATE_KEY=${priv}\n`);
    const c = loadConfig({ env: a.vars, envFile: false });
    expect(c.vapid?.publicKey).toBe(a.vars['VAPID_PUBLIC_KEY']);
    expect(c.vapid?.privateKey.reveal()).toBe(priv);
    expect(c.vapid?.subject).toBe('mailto:ops@example.org');
    expect(JSON.stringify(c)).not.toContain(priv);
    expect(inspect(c, { depth: 10 })).not.toContain(priv);

    const dir = mkdtempSync(join(tmpdir(), 'naboom-vapid-'));
    const file = join(dir, 'vapid');
    writeFileSync(file, `${priv}\n`);
    const { VAPID_PRIVATE_KEY: _drop, ...rest } = a.vars;
    expect(loadConfig({ env: { ...rest, VAPID_PRIVATE_KEY_FILE: file }, envFile: false }).vapid?.privateKey.reveal()).toBe(priv);
    expect(fails(() => loadConfig({ env: { ...a.vars, VAPID_PRIVATE_KEY_FILE: file }, envFile: false })).message).toContain('VAPID_PRIVATE_KEY and VAPID_PRIVATE_KEY_FILE');
  });

  it('push is off without a VAPID pair; half a pair, a bad key or a bad subject is refused', () => {
    const { VAPID_PUBLIC_KEY: pub, VAPID_PRIVATE_KEY: priv, VAPID_SUBJECT: _s, ...none } = base;
    expect(loadConfig({ env: none, envFile: false }).vapid).toBeUndefined();
    expect(fails(() => loadConfig({ env: { ...none, VAPID_PUBLIC_KEY: pub ?? '' }, envFile: false })).message).toContain('Half a VAPID key pair: VAPID_PRIVATE_KEY is missing');
    expect(fails(() => loadConfig({ env: { ...none, VAPID_PRIVATE_KEY: priv ?? '' }, envFile: false })).message).toContain('Half a VAPID key pair: VAPID_PUBLIC_KEY is missing');
    expect(fails(() => loadConfig({ env: { ...base, VAPID_SUBJECT: '' }, envFile: false })).message).toContain('VAPID_SUBJECT: required');
    for (const subject of ['http://example.org', 'ops@example.org', 'mailto:nobody', 'ftp://x']) {
      expect(fails(() => loadConfig({ env: { ...base, VAPID_SUBJECT: subject }, envFile: false })).message, subject).toContain('VAPID_SUBJECT');
    }
    expect(loadConfig({ env: { ...base, VAPID_SUBJECT: 'https://ops.example.org/contact' }, envFile: false }).vapid?.subject).toBe('https://ops.example.org/contact');
    expect(fails(() => loadConfig({ env: { ...base, VAPID_PUBLIC_KEY: `${pub ?? ''}x` }, envFile: false })).message).toContain('VAPID_PUBLIC_KEY');
    expect(fails(() => loadConfig({ env: { ...base, VAPID_PRIVATE_KEY: 'short' }, envFile: false })).message).toContain('VAPID_PRIVATE_KEY: must be');
    const other = generateEnv(6380).vars;
    expect(fails(() => loadConfig({ env: { ...base, VAPID_PRIVATE_KEY: other['VAPID_PRIVATE_KEY'] ?? '' }, envFile: false })).message).toContain('VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY');
    expect(loadConfig({ env: base, envFile: false }).settings.PUSH_MAX_SUBSCRIPTIONS_PER_USER).toBe(10);
  });
});

describe('TZ', () => {
  it('accepts canonical zones and the aliases Intl accepts, and refuses the rest', () => {
    for (const tz of ['Africa/Johannesburg', 'Europe/London', 'UTC', 'US/Eastern', 'Etc/GMT+2']) expect(isTimeZone(tz), tz).toBe(true);
    for (const tz of ['Mars/Olympus', '', 'Africa/', 'GMT+25']) expect(isTimeZone(tz), tz).toBe(false);
  });

  it('checks a canonical zone without building a DateTimeFormat (its ICU data would stay mapped in every process)', () => {
    const spy = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      expect(loadConfig({ env: { TZ: 'Africa/Johannesburg' }, envFile: false }).settings.TZ).toBe('Africa/Johannesburg');
      expect(spy).not.toHaveBeenCalled();
      expect(isTimeZone('UTC')).toBe(true);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
