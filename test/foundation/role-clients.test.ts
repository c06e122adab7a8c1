/** Role clients against a real server: one per role per process, named, on the role's DB, closed on shutdown. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

describe('role clients', () => {
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

  const clientList = async () => String(await admin.client('LIST')).split('\n').filter(Boolean);

  it('creates one named client per role on first use, on the role DB, and reuses it', async () => {
    const noperms: string[] = [];
    const clients = new RoleClients(t.config, createLogger({ level: 'silent' }), { onNoPerm: (r) => noperms.push(r) });
    const app = clients.get('app');
    expect(clients.get('app')).toBe(app);
    expect(await app.ping()).toBe('PONG');
    expect(await clients.get('realtime').ping()).toBe('PONG');
    const list = await clientList();
    const mine = list.filter((l) => l.includes(`name=naboom:`) && l.includes(`:${process.pid} `));
    expect(mine.find((l) => l.includes(`name=naboom:app:${process.pid} `))).toMatch(/ db=0 .* user=app_user /);
    expect(mine.find((l) => l.includes(`name=naboom:realtime:${process.pid} `))).toMatch(/ db=4 .* user=realtime_user /);
    expect(mine.filter((l) => l.includes('name=naboom:app:'))).toHaveLength(1);
    expect(list.some((l) => l.includes(`name=naboom:websocket:${process.pid}`))).toBe(false);

    // A refused command is counted for the role that got it.
    await expect(app.get('panic:x')).rejects.toThrow(/NOPERM/);
    expect(noperms).toEqual(['app']);
    await admin.call('ACL', 'LOG', 'RESET');

    await clients.close();
    expect((await clientList()).some((l) => l.includes(`:${process.pid} `) && l.includes('name=naboom:app:'))).toBe(false);
    expect(() => clients.get('app')).toThrow(/closed/);
  });

  it('request clients fail fast when Redis is unreachable instead of hanging', async () => {
    const cfg = { ...t.config, topology: { kind: 'standalone' as const, host: '127.0.0.1', port: 1 } };
    const clients = new RoleClients(cfg, createLogger({ level: 'silent' }));
    const started = Date.now();
    await expect(clients.get('app').get('naboom:cache:1:x')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await clients.close();
  });
});
