/**
 * Presence under the generated ACL: the realtime role stores and reads positions through its selector on
 * `naboom:presence:*` (and cannot use GEO commands anywhere else, nor its root commands on presence keys);
 * every other role is refused. The selector survives the drift check and `naboom acl diff`, and a missing or
 * foreign selector is drift that `acl apply` repairs.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { PresenceStore } from '../../src/presence/store.js';
import { applyRules, diffServer } from '../../src/redis/acl/provision.js';
import { desiredRules } from '../../src/redis/acl/rules.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { createKeySpace } from '../../src/redis/keys.js';
import { allRoles } from '../../src/redis/roles.js';
import { keySlot } from '../../src/redis/slot.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const REFUSED = /NOPERM|can't access|no permissions/;

describe('presence: ACL', () => {
  let t: TestRedis;
  let admin: Redis;
  let clients: RoleClients;
  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    await clients?.close();
    admin?.disconnect();
    await t?.stop();
  });

  it('the realtime role stores, lists, searches and deletes positions through the scripts, and ACL LOG stays empty', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const store = new PresenceStore(clients.get('realtime'), t.keys, { RESPONDER_STALE_S: 300 });
    expect(await store.update('rita', { available: true, location: { lat: -33.92, lon: 18.42, accuracy_m: 12 } })).toMatchObject({ username: 'rita', available: true, accuracy_m: 12 });
    expect(await store.update('sam', { available: false, location: { lat: -33.93, lon: 18.43 } })).toMatchObject({ username: 'sam', available: false });
    expect((await store.list()).map((r) => r.username).sort()).toEqual(['rita', 'sam']);
    const near = await store.nearest({ lat: -33.92, lon: 18.42, radiusKm: 5, limit: 10, availableOnly: false });
    expect(near.map((r) => r.username)).toEqual(['rita', 'sam']);
    const pos = await store.positionOf('rita');
    expect(pos?.lat).toBeCloseTo(-33.92, 5);
    expect(pos?.lon).toBeCloseTo(18.42, 5);
    expect(await store.remove('sam')).toBe(true);
    expect(await store.positionOf('sam')).toBeNull();
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('nearest-responder lookups made in one turn of the event loop share one script call', async () => {
    const store = new PresenceStore(clients.get('realtime'), t.keys, { RESPONDER_STALE_S: 300 });
    await store.update('batch1', { available: true, location: { lat: -26.2, lon: 28.04 } });
    const calls = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.nearest({ lat: -26.2 + i * 0.001, lon: 28.04, radiusKm: 1 + i, limit: 3, availableOnly: i % 2 === 0 })));
    expect(await calls()).toBe(before + 1);
    expect(results[0]?.map((r) => r.username)).toEqual(['batch1']);
    expect(results.every((r) => r.some((x) => x.username === 'batch1'))).toBe(true);
    expect(await store.remove('batch1')).toBe(true);
  });

  it('the realtime role cannot use GEO commands outside naboom:presence:*, nor its other commands on presence keys', async () => {
    const rt = clients.get('realtime');
    const p = t.keys.presence;
    // Allowed by the selector, on its namespace.
    expect(await rt.geoadd(p.geo, 18.5, -33.9, 'direct')).toBe(1);
    const refused: [string, ...(string | number)[]][] = [
      ['GEOADD', 'panic:geo', 18.5, -33.9, 'x'],
      ['GEOADD', 'naboom:realtime:1:geo', 18.5, -33.9, 'x'],
      ['GEOSEARCH', 'panic:alerts:high', 'FROMLONLAT', 18.5, -33.9, 'BYRADIUS', 1, 'km'],
      ['ZREMRANGEBYSCORE', 'panic:escalations', '-inf', '+inf'],
      ['SET', p.geo, 'x'],
      ['DEL', p.geo],
      ['XADD', p.seen, '*', 'a', 'b'],
      ['GET', p.info],
      ['EVAL', "return redis.call('GEOADD', KEYS[1], 18.5, -33.9, 'x')", 1, 'panic:geo'],
      ['EVAL', "return redis.call('DEL', KEYS[1])", 1, p.geo],
    ];
    for (const [cmd, ...args] of refused) {
      await expect(rt.call(cmd, ...args.map(String)), `${cmd} ${String(args[0])}`).rejects.toThrow(REFUSED);
    }
    await admin.select(4);
    expect(await admin.exists('panic:geo', 'naboom:realtime:1:geo')).toBe(0);
    expect(await admin.zscore(p.geo, 'direct')).not.toBeNull();
    await admin.select(0);
    await admin.call('ACL', 'LOG', 'RESET');
  });

  it('every other role is refused on the presence keys (real connections and ACL DRYRUN for every user)', async () => {
    const p = t.keys.presence;
    const attempts: (string | number)[][] = [
      ['GEOADD', p.geo, 18.5, -33.9, 'x'],
      ['GEOSEARCH', p.geo, 'FROMLONLAT', 18.5, -33.9, 'BYRADIUS', 1, 'km'],
      ['GEOPOS', p.geo, 'rita'],
      ['ZADD', p.seen, 1, 'x'],
      ['ZRANGEBYSCORE', p.seen, '-inf', '+inf'],
      ['ZREMRANGEBYSCORE', p.seen, '-inf', '+inf'],
      ['HSET', p.info, 'x', '1|'],
      ['DEL', p.geo],
    ];
    for (const role of ['app', 'websocket', 'monitoring'] as const) {
      const c = clients.get(role);
      for (const [cmd, ...args] of attempts) {
        await expect(c.call(String(cmd), ...args.map(String)), `${role}: ${String(cmd)}`).rejects.toThrow(REFUSED);
      }
      if (role !== 'monitoring') {
        await expect(c.call('EVAL', "return redis.call('GEOPOS', KEYS[1], 'rita')", '1', p.geo), `${role}: EVAL`).rejects.toThrow(REFUSED);
      }
    }
    // Every provisioned user but the superuser, replica and Sentinel users included.
    const users = allRoles()
      .filter((r) => !r.superuser)
      .map((r) => ({ role: r.name, user: t.config.credentials[r.name].username }));
    for (const { role, user } of users) {
      for (const [cmd, ...args] of attempts) {
        const verdict = String(await admin.call('ACL', 'DRYRUN', user, String(cmd), ...args.map(String)));
        if (role === 'realtime' && cmd !== 'DEL') expect(verdict, `${role}: ${String(cmd)}`).toBe('OK');
        else expect(verdict, `${role}: ${String(cmd)}`).toMatch(/no permissions|not allowed|can't/i);
      }
    }
    await admin.call('ACL', 'LOG', 'RESET');
  });

  it('drift: the selector is in sync after provisioning; a missing or foreign selector is reported and repaired', { timeout: 90_000 }, async () => {
    const rules = desiredRules(t.config);
    const realtime = t.config.credentials.realtime.username;
    const problemsOf = async (): Promise<readonly string[]> => (await diffServer(admin, rules)).find((d) => d.username === realtime)?.problems ?? ['?'];
    expect(await problemsOf()).toEqual([]);
    expect((await runCli(['acl', 'diff'], { env: t.env })).code).toBe(0);

    await admin.call('ACL', 'SETUSER', realtime, 'clearselectors');
    expect((await problemsOf()).join('\n')).toMatch(/missing selector\(s\): \(~naboom:presence:\* \+eval /);
    const drift = await runCli(['acl', 'diff'], { env: t.env });
    expect(drift.code).toBe(1);
    expect(drift.stdout + drift.stderr).toMatch(/missing selector/);
    await applyRules(admin, rules);
    expect(await problemsOf()).toEqual([]);

    await admin.call('ACL', 'SETUSER', realtime, '(~naboom:presence:* +get)');
    expect((await problemsOf()).join('\n')).toMatch(/extra selector\(s\): \(~naboom:presence:\* \+get\)/);
    // A selector with the same keys and one more command is drift too.
    await applyRules(admin, rules);
    expect(await problemsOf()).toEqual([]);
    const sel = rules.find((r) => r.username === realtime)?.selectors[0];
    await admin.call('ACL', 'SETUSER', realtime, 'clearselectors', `(~naboom:presence:* ${[...(sel?.commands ?? []), 'set'].map((c) => `+${c}`).join(' ')})`);
    expect((await problemsOf()).join('\n')).toMatch(/extra selector.*\+set/);
    expect((await runCli(['acl', 'apply'], { env: t.env })).code).toBe(0);
    expect((await runCli(['acl', 'diff'], { env: t.env })).code).toBe(0);
  });

  it('on Cluster every presence key carries {presence} and shares one slot; standalone keys carry no tag', () => {
    const cluster = createKeySpace('cluster').presence;
    const keys = [cluster.geo, cluster.seen, cluster.info];
    for (const k of keys) expect(k).toMatch(/^naboom:presence:\{presence\}:/);
    expect(new Set(keys.map(keySlot)).size).toBe(1);
    const standalone = createKeySpace('standalone').presence;
    for (const k of [standalone.geo, standalone.seen, standalone.info]) expect(k).toMatch(/^naboom:presence:[a-z]+$/);
  });
});
