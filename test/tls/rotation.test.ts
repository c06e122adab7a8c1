/**
 * Certificates rotate like passwords: the files are re-read on SIGHUP (and the periodic check), and every
 * role client uses them from its next connection on — here a client that could not trust the server
 * connects once the right CA is written to REDIS_TLS_CA_FILE.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createCertificateAuthority } from '../../src/local/tls-certs.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { RoleClients } from '../../src/redis/connections.js';
import { ROLE_NAMES } from '../../src/redis/roles.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

describe('certificate rotation', () => {
  let t: TestRedis;
  const dir = mkdtempSync(join(tmpdir(), 'naboom-tls-rotation-'));
  beforeAll(async () => {
    t = await startTestRedis({ tls: {} });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-reads REDIS_TLS_CA_FILE on reload and connects with it from the next connection on', async () => {
    const caFile = join(dir, 'ca.pem');
    copyFileSync(createCertificateAuthority(join(dir, 'old-ca'), 'Retired CA').certFile, caFile);
    const config = loadConfig({ env: { REDIS_TLS_CA_FILE: caFile }, envFile: t.envFile, requireRoles: ROLE_NAMES });
    const clients = new RoleClients(config, createLogger({ level: 'silent' }));
    try {
      const app = clients.get('app', 'blocking');
      await waitFor('the untrusted handshake to be reported', () => clients.tlsFailure(app)?.code === 'NABOOM_REDIS_TLS_UNTRUSTED', { timeoutMs: 10_000 });
      copyFileSync(t.certs?.ca.certFile ?? '', caFile);
      clients.reloadCredentials();
      // The client was retrying all along; its next attempt uses the new CA.
      expect(await app.ping()).toBe('PONG');
    } finally {
      await clients.close();
    }
  });
});
