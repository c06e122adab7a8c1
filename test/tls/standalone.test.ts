/**
 * A TLS-only redis-server (`port 0`, certificates from a local CA): the API, the live feed, the queue and
 * `naboom verify` work end to end over TLS, the verify `tls` section is green, and `naboom redis --tls`
 * prints variables that give such a stack.
 */
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/redis-server.js';
import { createLogger } from '../../src/log/logger.js';
import { runVerify } from '../../src/verify/run.js';
import { auth, post, sampleAlert, startStack, WsClient, type Stack } from '../helpers/stack.js';

const logger = createLogger({ level: 'silent' });

describe('standalone over TLS only', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ tls: {} });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('has no plaintext port and the admin connection is TLS', async () => {
    expect(s.redis.config.tls.enabled).toBe(true);
    expect(await s.admin.call('CONFIG', 'GET', 'port')).toEqual(['port', '0']);
    expect(s.admin.stream).toBeInstanceOf(TLSSocket);
  });

  it('raises an alert over the API, delivers it on the live feed and enqueues its jobs', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'subscribed'));
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
    expect(r.status).toBe(201);
    const id = (r.body as { alert_id: string }).alert_id;
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.alert?.id === id));
    ws.close();
    // The queue lives in DB 2 (BullMQ over the app role's TLS connection).
    expect(await s.admin.info('keyspace')).toMatch(/^db2:keys=[1-9]/m);
  });

  it('verify passes, with the tls section all green', async () => {
    const r = await runVerify({ config: s.redis.config, keys: s.redis.keys, logger });
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const tls = r.checks.filter((c) => c.section === 'tls');
    expect(tls.map((c) => [c.name, c.status])).toEqual(
      expect.arrayContaining([
        ['default\'s connection is TLS', 'pass'],
        ['app_user\'s connection is TLS', 'pass'],
        ['certificate chain trusted and not expiring', 'pass'],
        ['no plaintext port open', 'pass'],
      ]),
    );
    expect(tls.every((c) => c.status === 'pass')).toBe(true);
    expect(r.checks.find((c) => c.name === 'anonymous connections are refused')?.status).toBe('pass');
  });

  it('verify fails when the server also listens in plaintext, naming the port', async () => {
    const plain = await freePort();
    await s.admin.call('CONFIG', 'SET', 'port', String(plain));
    try {
      const r = await runVerify({ config: s.redis.config, keys: s.redis.keys, logger });
      const check = r.checks.find((c) => c.section === 'tls' && c.name === 'no plaintext port open');
      expect(check).toMatchObject({ status: 'fail', detail: expect.stringContaining(`CONFIG GET port → ${plain}`) as unknown, hint: expect.stringContaining('port 0') as unknown });
      expect(r.ok).toBe(false);
    } finally {
      await s.admin.call('CONFIG', 'SET', 'port', '0');
    }
  });
});
