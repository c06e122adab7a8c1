/** Role clients against a real server: one per role per process, named, on the role's DB, closed on shutdown. */
import { tracingChannel } from 'node:diagnostics_channel';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { freePort } from '../../src/local/redis-server.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { createRoleClient, RoleClients } from '../../src/redis/connections.js';
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

  it('close() finishes when Redis is gone and a blocking client still holds queued commands', async () => {
    const cfg = { ...t.config, topology: { kind: 'standalone' as const, host: '127.0.0.1', port: await freePort() } };
    const clients = new RoleClients(cfg, createLogger({ level: 'silent' }));
    const waiting = clients.dedicated('app', 'gone').get('naboom:cache:1:x');
    waiting.catch(() => undefined);
    const started = Date.now();
    await clients.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('adopts a copy a library made of a client: counted, logged and closed with the rest, under its own name', async () => {
    const noperms: string[] = [];
    const clients = new RoleClients(t.config, createLogger({ level: 'silent' }), { onNoPerm: (r) => noperms.push(r) });
    const base = clients.dedicated('app', 'adopt-base', { purpose: 'command', db: 2 });
    expect(clients.dedicated('app', 'adopt-base')).toBe(base);
    const copy = (base as Redis).duplicate({ connectionName: 'library-copy-name' });
    clients.adopt('app', copy);
    clients.adopt('app', copy);
    clients.adopt('app', base);
    expect(await copy.ping()).toBe('PONG');
    const list = await clientList();
    expect(list.find((l) => l.includes('name=library-copy-name '))).toMatch(/ db=2 .* user=app_user /);
    expect(list.find((l) => l.includes(`name=naboom:app:${process.pid}:adopt-base `))).toMatch(/ db=2 .* user=app_user /);

    // Adopted twice, wrapped once: one refusal, one count.
    await expect(copy.get('panic:x')).rejects.toThrow(/NOPERM/);
    await expect(base.get('panic:x')).rejects.toThrow(/NOPERM/);
    expect(noperms).toEqual(['app', 'app']);
    await admin.call('ACL', 'LOG', 'RESET');

    const ended = new Promise((resolve) => copy.once('end', resolve));
    await clients.close();
    await ended;
    expect((await clientList()).some((l) => l.includes('name=library-copy-name '))).toBe(false);
    expect(() => clients.adopt('app', copy)).toThrow(/closed/);
  });

  // ioredis 6 behaviour the connection code relies on; when one of these fails after an upgrade, revisit
  // countNoPermReplies and timeClusterCommandsFromIssue in src/redis/connections.ts.
  it("ioredis' command tracing channel reports a refusal without naming the client that got it", async () => {
    const channel = tracingChannel<unknown, Record<string, unknown>>('ioredis:command');
    const seen: Record<string, unknown>[] = [];
    const handlers = {
      start: () => undefined,
      end: () => undefined,
      asyncStart: () => undefined,
      asyncEnd: () => undefined,
      error: (ctx: Record<string, unknown>) => seen.push(ctx),
    };
    channel.subscribe(handlers);
    const clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
    try {
      const app = clients.get('app');
      await app.ping();
      await expect(app.get('panic:x')).rejects.toThrow(/NOPERM/);
      const refused = seen.find((c) => c['command'] === 'get');
      expect(Object.keys(refused ?? {}).sort()).toEqual(['args', 'command', 'database', 'error', 'serverAddress', 'serverPort']);
      expect(Object.values(refused ?? {}).includes(app)).toBe(false);
    } finally {
      channel.unsubscribe(handlers);
      await clients.close();
      await admin.call('ACL', 'LOG', 'RESET');
    }
  });

  it('a Cluster command waiting for the slot map has no timeout of its own; ours is timed from when it is issued', async () => {
    const nobody = await freePort();
    const timeoutMs = 150;
    const cfg = { ...t.config, settings: { ...t.config.settings, REDIS_COMMAND_TIMEOUT_MS: timeoutMs }, topology: { kind: 'cluster' as const, nodes: [{ host: '127.0.0.1', port: nobody }] } };
    const plain = new Cluster([{ host: '127.0.0.1', port: nobody }], { redisOptions: { commandTimeout: timeoutMs }, clusterRetryStrategy: () => 50 });
    plain.on('error', () => undefined);
    const ours = createRoleClient(cfg, cfg.credentials.app, 'command');
    ours.on('error', () => undefined);
    try {
      const outcome = (p: Promise<unknown>): Promise<string> =>
        p.then(
          () => 'answered',
          (err: Error) => err.message,
        );
      const within = (p: Promise<string>, ms: number): Promise<string> => Promise.race([p, new Promise<string>((r) => setTimeout(() => r('pending'), ms))]);
      const plainGet = outcome(plain.get('naboom:cache:1:x'));
      expect(await within(outcome(ours.get('naboom:cache:1:x')), timeoutMs + 1000)).toBe('Command timed out');
      // Several timeouts later, ioredis' own client still holds the command in the Cluster's offline queue.
      expect(await within(plainGet, 5 * timeoutMs)).toBe('pending');
    } finally {
      plain.disconnect();
      ours.disconnect();
    }
  });
});
