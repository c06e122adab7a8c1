import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEnv } from '../../src/config/generate.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { ROLE_NAMES } from '../../src/redis/roles.js';
import { djangoSettingsModule } from '../../src/django/settings.js';

const base = generateEnv(6380, { django: true }).vars;
const configFor = (extra: Record<string, string> = {}): Config => loadConfig({ env: { ...base, ...extra }, envFile: false, requireRoles: ROLE_NAMES, requireSecretKey: true });

const PYTHON = '/usr/bin/python3';

/**
 * Imports the module with Debian's python3 and the given environment (no connection is opened: the libraries
 * connect lazily) and returns the settings it defines, as JSON.
 */
function importSettings(text: string, env: Record<string, string>): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'naboom-django-'));
  try {
    writeFileSync(join(dir, 'generated_name.py'), text);
    const script = [
      'import json, generated_name as m',
      'print(json.dumps({k: getattr(m, k) for k in dir(m) if k.isupper()}, default=str))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SECRETS = ['REDIS_APP_PASSWORD', 'REDIS_WEBSOCKET_PASSWORD', 'REDIS_REALTIME_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_MASTER_PASSWORD', 'SECRET_KEY', 'METRICS_TOKEN'];

describe('naboom django settings', () => {
  it('holds no secret: every password and key is read from the environment at import time', () => {
    const text = djangoSettingsModule(configFor());
    for (const name of SECRETS) expect(text).not.toContain(base[name]);
    expect(text).toContain('_login("REDIS_APP_USER", "app_user", "REDIS_APP_PASSWORD")');
    expect(text).toContain('_secret("SECRET_KEY")');
  });

  it('builds URLs with percent-encoded credentials, the JSON serializer, the prefixes and the limits', () => {
    const password = 'p@ss:w/rd%+&?=#x';
    const s = importSettings(djangoSettingsModule(configFor()), { ...base, REDIS_APP_PASSWORD: password, REDIS_APP_USER: 'app user' });
    const caches = s['CACHES'] as Record<string, { LOCATION: string; KEY_PREFIX: string; TIMEOUT: number; OPTIONS: { SERIALIZER: string } }>;
    expect(caches['default']?.LOCATION).toBe(`redis://app%20user:${encodeURIComponent(password)}@127.0.0.1:6380/0`);
    expect(caches['sessions']?.LOCATION).toMatch(/@127\.0\.0\.1:6380\/3$/);
    expect(caches['realtime']?.LOCATION).toBe(`redis://realtime_user:${base['REDIS_REALTIME_PASSWORD']}@127.0.0.1:6380/4`);
    expect(Object.values(caches).map((c) => [c.KEY_PREFIX, c.TIMEOUT, c.OPTIONS.SERIALIZER])).toEqual([
      ['naboom:cache', 300, 'django_redis.serializers.json.JSONSerializer'],
      ['naboom:sessions', 86400, 'django_redis.serializers.json.JSONSerializer'],
      ['naboom:realtime', 60, 'django_redis.serializers.json.JSONSerializer'],
    ]);
    expect([s['SESSION_ENGINE'], s['SESSION_CACHE_ALIAS']]).toEqual(['django.contrib.sessions.backends.cache', 'sessions']);
    const layer = (s['CHANNEL_LAYERS'] as { default: { BACKEND: string; CONFIG: Record<string, unknown> } }).default;
    expect(layer.BACKEND).toBe('channels_redis.core.RedisChannelLayer');
    expect(layer.CONFIG).toEqual({
      hosts: [`redis://websocket_user:${base['REDIS_WEBSOCKET_PASSWORD']}@127.0.0.1:6380/1`],
      prefix: 'naboom:channels:',
      capacity: 8000,
      expiry: 300,
      group_expiry: 86400,
      symmetric_encryption_keys: [base['SECRET_KEY']],
    });
    expect(s['CELERY_BROKER_URL']).toBe(`redis://app%20user:${encodeURIComponent(password)}@127.0.0.1:6380/2`);
    expect(s['CELERY_BROKER_TRANSPORT_OPTIONS']).toEqual({ global_keyprefix: 'naboom:celery:', visibility_timeout: 600 });
    expect(s['CELERY_RESULT_BACKEND']).toBe(`generated_name:NaboomResultBackend+redis://app%20user:${encodeURIComponent(password)}@127.0.0.1:6380/2`);
    expect([s['CELERY_TIMEZONE'], s['CELERY_TASK_TIME_LIMIT'], s['CELERY_TASK_SOFT_TIME_LIMIT'], s['CELERY_ACCEPT_CONTENT'], s['CELERY_TASK_SERIALIZER'], s['CELERY_RESULT_SERIALIZER']]).toEqual([
      'Africa/Johannesburg', 300, 240, ['json'], 'json', 'json',
    ]);
    expect(s['CELERY_WORKER_ENABLE_REMOTE_CONTROL']).toBe(false);
  });

  it('refuses to import without the credentials, naming the variable', () => {
    const env: Record<string, string> = { ...base };
    delete env['REDIS_WEBSOCKET_PASSWORD'];
    expect(() => importSettings(djangoSettingsModule(configFor()), env)).toThrow(/REDIS_WEBSOCKET_PASSWORD is missing or empty/);
  });

  it('reads SECRET_KEY rotation lists and *_PASSWORD_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-django-secret-'));
    try {
      const file = join(dir, 'app-password');
      writeFileSync(file, 'from-a-file\n');
      const env: Record<string, string> = { ...base, REDIS_APP_PASSWORD_FILE: file, SECRET_KEY: `${'n'.repeat(40)},${'o'.repeat(40)}` };
      delete env['REDIS_APP_PASSWORD'];
      const s = importSettings(djangoSettingsModule(configFor()), env);
      expect(s['CELERY_BROKER_URL']).toBe('redis://app_user:from-a-file@127.0.0.1:6380/2');
      const layer = (s['CHANNEL_LAYERS'] as { default: { CONFIG: { symmetric_encryption_keys: string[] } } }).default;
      expect(layer.CONFIG.symmetric_encryption_keys).toEqual(['n'.repeat(40), 'o'.repeat(40)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('speaks TLS: rediss:// with certificate verification against the CA', () => {
    const s = importSettings(djangoSettingsModule(configFor({ REDIS_TLS: 'true' })), { ...base, REDIS_TLS_CA_FILE: '/etc/ssl/ca one.pem' });
    const caches = s['CACHES'] as Record<string, { LOCATION: string }>;
    expect(caches['default']?.LOCATION).toMatch(/^rediss:\/\/app_user:[^@]+@127\.0\.0\.1:6380\/0\?ssl_cert_reqs=required&ssl_ca_certs=%2Fetc%2Fssl%2Fca%20one\.pem$/);
    expect(String(s['CELERY_BROKER_URL'])).toMatch(/^rediss:\/\//);
    expect(s['CELERY_BROKER_USE_SSL']).toEqual({ ssl_cert_reqs: 'required', ssl_ca_certs: '/etc/ssl/ca one.pem' });
    expect(s['CELERY_REDIS_BACKEND_USE_SSL']).toEqual(s['CELERY_BROKER_USE_SSL']);
    const plain = importSettings(djangoSettingsModule(configFor()), base);
    expect(plain['CELERY_BROKER_USE_SSL']).toBeNull();
  });

  it('supports Sentinel: django-redis\' Sentinel client, sentinel:// for Celery, sentinel_user for the Sentinels', () => {
    const config = configFor({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26380', REDIS_SENTINEL_MASTER: 'naboom' });
    const s = importSettings(djangoSettingsModule(config), base);
    expect(s['DJANGO_REDIS_CONNECTION_FACTORY']).toBe('django_redis.pool.SentinelConnectionFactory');
    const c = (s['CACHES'] as Record<string, { LOCATION: string; OPTIONS: Record<string, unknown> }>)['default'];
    expect(c?.LOCATION).toBe(`redis://app_user:${base['REDIS_APP_PASSWORD']}@naboom/0`);
    expect(c?.OPTIONS['CLIENT_CLASS']).toBe('django_redis.client.SentinelClient');
    expect(c?.OPTIONS['SENTINELS']).toEqual([['10.0.0.1', 26379], ['10.0.0.2', 26380]]);
    const sentinelLogin = { username: 'sentinel_user', password: base['REDIS_SENTINEL_PASSWORD'] };
    expect(c?.OPTIONS['SENTINEL_KWARGS']).toEqual(sentinelLogin);
    const auth = `app_user:${base['REDIS_APP_PASSWORD']}`;
    expect(s['CELERY_BROKER_URL']).toBe(`sentinel://${auth}@10.0.0.1:26379/2;sentinel://${auth}@10.0.0.2:26380/2`);
    expect(s['CELERY_BROKER_TRANSPORT_OPTIONS']).toEqual({ global_keyprefix: 'naboom:celery:', visibility_timeout: 600, master_name: 'naboom', sentinel_kwargs: sentinelLogin });
    expect(String(s['CELERY_RESULT_BACKEND'])).toMatch(/^generated_name:NaboomResultBackend\+sentinel:\/\//);
    expect(s['CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS']).toEqual({ master_name: 'naboom', sentinel_kwargs: sentinelLogin });
    const layer = (s['CHANNEL_LAYERS'] as { default: { CONFIG: { hosts: Record<string, unknown>[] } } }).default;
    expect(layer.CONFIG.hosts).toEqual([
      { sentinels: [['10.0.0.1', 26379], ['10.0.0.2', 26380]], master_name: 'naboom', sentinel_kwargs: sentinelLogin, username: 'websocket_user', password: base['REDIS_WEBSOCKET_PASSWORD'], db: 1 },
    ]);
  });

  it('refuses Cluster: the original libraries have no Cluster client', () => {
    expect(() => djangoSettingsModule(configFor({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }))).toThrow(/no Redis Cluster client/);
  });
});
