import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NaboomError } from '../errors/catalogue.js';
import { generateEnv } from './generate.js';
import { loadConfig, rereadTls } from './load.js';

const base = generateEnv(6380).vars;
const dir = mkdtempSync(join(tmpdir(), 'naboom-tls-config-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};
const CA = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NaboomError);
    return `${(err as NaboomError).code}: ${(err as NaboomError).message}`;
  }
  return 'no error';
}

describe('TLS configuration', () => {
  it('reads the CA, the client certificate, the key (a secret) and the server name', () => {
    const env = { ...base, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: file('ca.crt', CA), REDIS_TLS_CERT_FILE: file('c.crt', CA), REDIS_TLS_KEY_FILE: file('c.key', KEY), REDIS_TLS_SERVERNAME: 'redis.internal' };
    const c = loadConfig({ env, envFile: false });
    expect(c.tls).toMatchObject({ enabled: true, servername: 'redis.internal', caFile: join(dir, 'ca.crt'), certFile: join(dir, 'c.crt') });
    expect(c.tls.ca).toContain('BEGIN CERTIFICATE');
    expect(c.tls.key?.reveal()).toContain('secret-key-material');
    // The key never prints: not in JSON, not in inspect.
    expect(JSON.stringify(c)).not.toContain('secret-key-material');
    expect(inspect(c, { depth: 10 })).not.toContain('secret-key-material');
  });

  it('re-reads rotated certificate files', () => {
    const keyFile = file('r.key', KEY);
    const env = { ...base, REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: file('r.crt', CA), REDIS_TLS_KEY_FILE: keyFile };
    const c = loadConfig({ env, envFile: false });
    writeFileSync(keyFile, KEY.replace('secret-key-material', 'rotated-key'));
    expect(rereadTls(c.tls).key?.reveal()).toContain('rotated-key');
  });

  it('refuses half a client certificate, certificates without REDIS_TLS, and both the key and its file', () => {
    expect(code(() => loadConfig({ env: { ...base, REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: file('h.crt', CA) }, envFile: false }))).toMatch(/^NABOOM_CONFIG_INVALID: REDIS_TLS_CERT_FILE is set without REDIS_TLS_KEY_FILE/);
    expect(code(() => loadConfig({ env: { ...base, REDIS_TLS: 'true', REDIS_TLS_KEY_FILE: file('h.key', KEY) }, envFile: false }))).toMatch(/^NABOOM_CONFIG_INVALID: REDIS_TLS_KEY_FILE is set without REDIS_TLS_CERT_FILE/);
    expect(code(() => loadConfig({ env: { ...base, REDIS_TLS_CA_FILE: file('x.crt', CA) }, envFile: false }))).toMatch(/^NABOOM_CONFIG_INVALID: REDIS_TLS_CA_FILE set but REDIS_TLS is off/);
    expect(code(() => loadConfig({ env: { ...base, REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: file('b.crt', CA), REDIS_TLS_KEY: KEY, REDIS_TLS_KEY_FILE: file('b.key', KEY) }, envFile: false }))).toMatch(/^NABOOM_CONFIG_INVALID: REDIS_TLS_KEY and REDIS_TLS_KEY_FILE are both set/);
    expect(code(() => loadConfig({ env: { ...base, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: join(dir, 'missing.crt') }, envFile: false }))).toMatch(/^NABOOM_CONFIG_SECRET_FILE: REDIS_TLS_CA_FILE: cannot read/);
  });

  it('has no setting that turns certificate verification off', async () => {
    const { settingsSchema } = await import('./schema.js');
    expect(Object.keys(settingsSchema.shape).filter((k) => /VERIFY|REJECT|INSECURE|SKIP/.test(k))).toEqual([]);
  });
});
