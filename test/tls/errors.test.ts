/**
 * Each TLS failure has its own code and a message naming the cause and the variable to fix — from
 * connectAdmin (the CLI), `naboom verify`, the role clients' log (serve's startup) and `/health/redis` —
 * and mutual TLS works when the server requires a client certificate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/load.js';
import { NaboomError } from '../../src/errors/catalogue.js';
import { RedisHealth } from '../../src/health/redis-health.js';
import { startProvisionedNode } from '../../src/local/provisioned.js';
import { freePort, type RunningRedis } from '../../src/local/redis-server.js';
import { createCertificateAuthority, issueCertificate, serverTls } from '../../src/local/tls-certs.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { ROLE_NAMES } from '../../src/redis/roles.js';
import { runVerify } from '../../src/verify/run.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const silent = createLogger({ level: 'silent' });

describe('TLS failures are named, with the variable to fix', () => {
  let tls: TestRedis;
  let plain: TestRedis;
  let mutual: RunningRedis;
  let expired: RunningRedis;
  let otherCaFile: string;
  const scratch = mkdtempSync(join(tmpdir(), 'naboom-tls-errors-'));

  beforeAll(async () => {
    [tls, plain] = await Promise.all([startTestRedis({ tls: {} }), startTestRedis()]);
    const certs = tls.certs;
    if (!certs) throw new Error('no certificates');
    const old = issueCertificate(certs.ca, { name: 'expired', commonName: 'localhost', altNames: ['IP:127.0.0.1'], usage: 'both', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
    otherCaFile = createCertificateAuthority(join(scratch, 'other-ca'), 'Some other CA').certFile;
    [mutual, expired] = await Promise.all([
      (async () => startProvisionedNode({ config: tls.config, port: await freePort(), dir: join(scratch, 'mutual'), appendonly: false, tls: serverTls(certs, 'yes') }))(),
      (async () => startProvisionedNode({ config: tls.config, port: await freePort(), dir: join(scratch, 'expired'), appendonly: false, tls: { ...serverTls(certs), certFile: old.certFile, keyFile: old.keyFile } }))(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([tls?.stop(), plain?.stop(), mutual?.stop(), expired?.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The test server's env file with `over` on top (the environment wins over the file). */
  const configOf = (t: TestRedis, over: Record<string, string>): Config => loadConfig({ env: over, envFile: t.envFile, requireRoles: ROLE_NAMES });

  const cases = (): { name: string; config: () => Config; code: string; names: RegExp }[] => [
    { name: 'a certificate from another CA', config: () => configOf(tls, { REDIS_TLS_CA_FILE: otherCaFile }), code: 'NABOOM_REDIS_TLS_UNTRUSTED', names: /not trusted.*REDIS_TLS_CA_FILE/ },
    { name: 'an expired certificate', config: () => configOf(tls, { REDIS_PORT: String(expired.port) }), code: 'NABOOM_REDIS_TLS_EXPIRED', names: /has expired/ },
    { name: 'a host name the certificate does not carry', config: () => configOf(tls, { REDIS_TLS_SERVERNAME: 'redis.example.net' }), code: 'NABOOM_REDIS_TLS_HOSTNAME', names: /REDIS_TLS_SERVERNAME=redis\.example\.net/ },
    { name: 'no client certificate where one is required', config: () => configOf(tls, { REDIS_PORT: String(mutual.port) }), code: 'NABOOM_REDIS_TLS_CLIENT_CERT', names: /REDIS_TLS_CERT_FILE/ },
    { name: 'a TLS client on a plaintext port', config: () => configOf(plain, { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: tls.certs?.ca.certFile ?? '' }), code: 'NABOOM_REDIS_TLS_MISMATCH', names: /REDIS_TLS=true but this port speaks plaintext/ },
    { name: 'a plaintext client on a TLS port', config: () => configOf(tls, { REDIS_TLS: 'false', REDIS_TLS_CA_FILE: '' }), code: 'NABOOM_REDIS_TLS_MISMATCH', names: /speaks TLS but REDIS_TLS is off/ },
  ];

  it.each(cases().map((c) => [c.name, c] as const))('%s: its own code from the CLI path, verify, the serve log and /health/redis', async (_name, c) => {
    const config = c.config();
    const err = await connectAdmin(config).then(
      (a) => {
        a.disconnect();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NaboomError);
    expect((err as NaboomError).code).toBe(c.code);
    expect((err as NaboomError).message).toMatch(c.names);

    const report = await runVerify({ config, keys: tls.keys, logger: silent });
    expect(report.ok).toBe(false);
    expect(report.checks.filter((x) => x.status === 'fail').map((x) => x.detail).join('\n')).toContain(c.code);

    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }) });
    const clients = new RoleClients(config, logger);
    try {
      const health = new RedisHealth(clients, config, tls.keys, { cacheMs: 0 });
      const body = await waitFor(`/health/redis to name ${c.code}`, async () => {
        const r = await health.check();
        return Object.values(r.redis_acl_health).every((h) => h.error?.startsWith(c.code)) ? r : undefined;
      }, { timeoutMs: 20_000, intervalMs: 100 });
      expect(body.overall_status).toBe('unhealthy');
      expect(lines.join('')).toContain(`"code":"${c.code}"`);
    } finally {
      await clients.close();
    }
  }, 45_000);

  it('mutual TLS: with REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE the server that requires a client certificate accepts every role', async () => {
    const certs = tls.certs;
    if (!certs) throw new Error('no certificates');
    const config = configOf(tls, { REDIS_PORT: String(mutual.port), REDIS_TLS_CERT_FILE: certs.client.certFile, REDIS_TLS_KEY_FILE: certs.client.keyFile });
    const admin = await connectAdmin(config);
    expect(await admin.call('CONFIG', 'GET', 'tls-auth-clients')).toEqual(['tls-auth-clients', 'yes']);
    admin.disconnect();
    const report = await runVerify({ config, keys: tls.keys, logger: silent });
    expect(report.checks.filter((x) => x.status === 'fail')).toEqual([]);
    expect(report.checks.find((x) => x.name.startsWith('client certificate'))?.status).toBe('pass');
    const clients = new RoleClients(config, silent);
    try {
      const r = await new RedisHealth(clients, config, tls.keys, { cacheMs: 0 }).check();
      expect(r.overall_status).toBe('healthy');
    } finally {
      await clients.close();
    }
  });
});
