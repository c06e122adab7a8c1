/**
 * Channel-layer security against a real Redis: payloads are encrypted and authenticated with rotating keys;
 * tampered, foreign and invalid elements are rejected and counted, never delivered; the websocket role
 * reaches nothing outside naboom:channels:*, not even from inside a script; normal use leaves ACL LOG empty.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeCodec } from '../../src/channels/envelope.js';
import { SCRIPTS } from '../../src/channels/lua.js';
import { Secret } from '../../src/config/secret.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { createRoleClient, type RedisClient } from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/local/wait.js';
import { counterValue, key32, startProcess, type TestProcess } from './harness.js';

const K1 = key32('1');
const K2 = key32('2');
const K3 = key32('3');

describe('channel layer: encryption, rejection and ACL boundaries', () => {
  let t: TestRedis;
  let admin: Redis;
  let ws: RedisClient;
  const opened: TestProcess[] = [];
  const proc = async (keys: string[]): Promise<TestProcess> => {
    const p = await startProcess(t.config, { secretKeys: keys });
    opened.push(p);
    return p;
  };
  const rejected = (p: TestProcess, reason: string) => counterValue(p.metrics.channelRejected, { reason });

  beforeAll(async () => {
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    await admin.select(1);
    // A raw websocket-role connection: what an attacker holding the socket tier's credentials could do.
    ws = createRoleClient(t.config, t.config.credentials.websocket, 'command', 'channels-security-test');
  });
  afterAll(async () => {
    for (const p of opened) await p.close();
    ws?.disconnect();
    admin?.disconnect();
    await t?.stop();
  });

  it('the websocket role cannot reach other namespaces, not even from inside a script', async () => {
    const denied: (string | number)[][] = [
      ['GET', 'naboom:cache:1:x'],
      ['XADD', 'panic:alerts:high', '*', 'a', 'b'],
      ['GET', 'naboom:sessions:x'],
      ['HGETALL', 'naboom:auth:user:admin'],
      ['GET', 'emergency:alert:1-0'],
      ['LPUSH', 'naboom:queue:notifications:wait', 'x'],
      ['KEYS', '*'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['EVAL', "return redis.call('GET', KEYS[1])", 1, 'naboom:cache:1:x'],
    ];
    for (const [cmd, ...args] of denied) {
      await expect(ws.call(String(cmd), ...args.map(String)), `${cmd} ${args[0]}`).rejects.toThrow(/NOPERM|can't access|can't run/);
    }
    // The group-send script builds member keys from prefixes; a forged prefix is still stopped by the ACL.
    const codec = new EnvelopeCodec([new Secret(K1)]);
    await ws.zadd('naboom:channels:group:evil', Date.now(), 'x');
    const forged = { payload: codec.seal('{}', Date.now() + 1000), now: Date.now(), cutoff: 0, capacity: 10, ttl: 1000, queuePrefix: 'naboom:cache:1:', inboxPrefix: 'panic:', sender: 'none' };
    const keys = { channels: 'naboom:channels:group:evil', processes: 'naboom:channels:gproc:evil' };
    await expect(SCRIPTS.groupSend.run(ws, { keys, args: forged })).rejects.toThrow(/can't access|NOPERM/);
    expect(await admin.exists('naboom:cache:1:x')).toBe(0);
    const log = (await admin.call('ACL', 'LOG')) as unknown[];
    expect(log.length).toBeGreaterThanOrEqual(denied.length);
    await admin.call('ACL', 'LOG', 'RESET');
  });

  it('rotates keys: [k2,k1] reads what [k1] wrote; [k1] and [k3] reject what they cannot open as foreign', async () => {
    const old = await proc([K1]);
    const rotated = await proc([K2, K1]);
    const stranger = await proc([K3]);
    await old.layer.send('rot.q', { type: 'before-rotation' });
    expect(await rotated.layer.receive('rot.q', { timeoutMs: 2000 })).toEqual({ type: 'before-rotation' });

    await rotated.layer.send('rot.q', { type: 'after-rotation' });
    await expect(old.layer.receive('rot.q', { timeoutMs: 200 })).rejects.toThrow(/No message within/);
    expect(await rejected(old, 'foreign')).toBe(1);

    await old.layer.send('rot.q', { type: 'for-a-stranger' });
    await expect(stranger.layer.receive('rot.q', { timeoutMs: 200 })).rejects.toThrow(/No message within/);
    expect(await rejected(stranger, 'foreign')).toBe(1);

    // The same through a process inbox: a local channel of the stranger.
    const local = stranger.layer.newChannel();
    await old.layer.send(local, { type: 'for-a-stranger' });
    await waitFor('two foreign envelopes rejected', async () => (await rejected(stranger, 'foreign')) === 2, { timeoutMs: 5000 });
    await expect(stranger.layer.receive(local, { timeoutMs: 100 })).rejects.toThrow(/No message within/);
  });

  it('a tampered element is rejected, counted and never delivered; the next good one still is', async () => {
    const p = await proc([K1]);
    await p.layer.send('tamper.q', { type: 'genuine', amount: 100 });
    const raw = (await ws.lpopBuffer('naboom:channels:q:tamper.q'))!;
    for (const i of [raw.length - 30, raw.length - 1, 4]) {
      const bad = Buffer.from(raw);
      bad[i] = bad[i]! ^ 0x20;
      await ws.rpush('naboom:channels:q:tamper.q', bad);
    }
    await p.layer.send('tamper.q', { type: 'after' });
    expect(await p.layer.receive('tamper.q', { timeoutMs: 2000 })).toEqual({ type: 'after' });
    expect(await rejected(p, 'tampered')).toBe(3);

    const local = p.layer.newChannel();
    const flipped = Buffer.from(raw);
    flipped[flipped.length - 5] = flipped[flipped.length - 5]! ^ 0x01;
    await ws.rpush(`naboom:channels:inbox:${p.layer.processId}`, flipped);
    await waitFor('four tampered envelopes rejected', async () => (await rejected(p, 'tampered')) === 4, { timeoutMs: 5000 });
    await expect(p.layer.receive(local, { timeoutMs: 100 })).rejects.toThrow(/No message within/);
  });

  it('an authentic element that fails the schema, or is addressed elsewhere, is rejected as invalid', async () => {
    const p = await proc([K1]);
    const codec = new EnvelopeCodec([new Secret(K1)]);
    const seal = (payload: unknown): Buffer => codec.seal(JSON.stringify(payload), Date.now() + 60_000);
    const q = 'naboom:channels:q:inv.q';
    await ws.rpush(q, seal({ k: 'm', c: 'inv.q', m: { type: 5 } }));
    await ws.rpush(q, seal({ k: 'm', c: 'other.q', m: { type: 'wrong-channel' } }));
    await ws.rpush(q, seal({ k: 'x' }));
    await ws.rpush(q, codec.seal('[not json', Date.now() + 60_000));
    await ws.rpush(q, seal({ k: 'm', c: 'inv.q', m: { type: 'fine' } }));
    expect(await p.layer.receive('inv.q', { timeoutMs: 2000 })).toEqual({ type: 'fine' });
    expect(await rejected(p, 'invalid')).toBe(4);

    // In the inbox: a message for a channel of another process.
    const other = await proc([K1]);
    await ws.rpush(`naboom:channels:inbox:${p.layer.processId}`, seal({ k: 'm', c: other.layer.newChannel(), m: { type: 'misrouted' } }));
    await waitFor('five invalid envelopes rejected', async () => (await rejected(p, 'invalid')) === 5, { timeoutMs: 5000 });
  });

  it('normal operation leaves ACL LOG empty', async () => {
    const a = await proc([K1]);
    const b = await proc([K1]);
    const bc = b.layer.newChannel();
    await a.layer.groupAdd('clean', bc);
    await a.layer.groupAdd('clean', 'clean.q');
    await a.layer.groupSend('clean', { type: 'x' });
    await b.layer.receive(bc, { timeoutMs: 2000 });
    await b.layer.receive('clean.q', { timeoutMs: 2000 });
    await b.layer.receive('clean.q', { timeoutMs: 50 }).catch(() => undefined);
    await a.layer.groupDiscard('clean', bc);
    await b.layer.discardChannel(bc);
    await a.close();
    await b.close();
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
