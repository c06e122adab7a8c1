/** Channel layer against a real Redis: send/receive, FIFO, local channels, capacity, expiry, cancel and close. */
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { counterValue, twoProcesses, type TestProcess } from './harness.js';

describe('channel layer: send and receive', () => {
  const env = twoProcesses();
  const proc = env.proc;
  let admin: Redis;
  let a: TestProcess;
  let b: TestProcess;
  beforeAll(() => void ({ admin, a, b } = env));

  it('sends to a normal channel and receives in another process, encrypted at rest', async () => {
    await a.layer.send('chat.lobby', { type: 'chat.message', text: 'sawubona', n: 1 });
    const stored = await admin.lrangeBuffer('naboom:channels:q:chat.lobby', 0, -1);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.toString('latin1')).toMatch(/^n1:\d+:[0-9a-f]{8}:/);
    expect(stored[0]!.includes('sawubona')).toBe(false);
    expect(await admin.pttl('naboom:channels:q:chat.lobby')).toBeGreaterThan(290_000);
    expect(await b.layer.receive('chat.lobby', { timeoutMs: 2000 })).toEqual({ type: 'chat.message', text: 'sawubona', n: 1 });
  });

  it('keeps FIFO order per channel, with a receiver already waiting and with a backlog', async () => {
    const first = b.layer.receive('fifo.q', { timeoutMs: 2000 });
    await a.layer.send('fifo.q', { type: 't', i: -1 });
    expect((await first)['i']).toBe(-1);
    await Promise.all(Array.from({ length: 300 }, (_, i) => a.layer.send('fifo.q', { type: 't', i })));
    const got: number[] = [];
    for (let i = 0; i < 300; i++) got.push((await b.layer.receive('fifo.q', { timeoutMs: 2000 }))['i'] as number);
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('a receive loop running while sends stream in never stalls (it re-receives in the same tick)', async () => {
    const n = 3000;
    const got: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < n; i++) got.push((await b.layer.receive('loop.q', { timeoutMs: 3000 }))['i'] as number);
    })();
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => a.layer.send('loop.q', { type: 't', i: i + k })));
    await loop;
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('process-local channels: named per process, delivered through the inbox in order', async () => {
    const ch = b.layer.newChannel();
    expect(ch).toMatch(new RegExp(`^specific\\.${b.layer.processId}![A-Za-z0-9_-]+$`));
    expect(b.layer.newChannel('websocket.conn')).toMatch(/^websocket\.conn\.[0-9a-f]{16}!/);
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.layer.send(ch, { type: 'local', i })));
    const got: number[] = [];
    for (let i = 0; i < 100; i++) got.push((await b.layer.receive(ch, { timeoutMs: 2000 }))['i'] as number);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // A process sending to its own local channel needs no Redis round trip, and order still holds.
    await b.layer.send(ch, { type: 'self', i: 1 });
    expect(await b.layer.receive(ch)).toEqual({ type: 'self', i: 1 });
  });

  it('refuses invalid names and messages with stable codes', async () => {
    for (const bad of ['', 'a b', 'a:b', 'a*', 'x'.repeat(101), 'a!b!c', '{ch}']) {
      await expect(a.layer.send(bad, { type: 't' })).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
      await expect(a.layer.receive(bad)).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
    }
    await expect(a.layer.groupAdd('bad group', 'chat')).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
    await expect(a.layer.groupSend('g!x', { type: 't' })).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
    // A local name not made by newChannel() has no process to route to.
    await expect(a.layer.send('foo!bar', { type: 't' })).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
    // Only the owning process receives from a local channel.
    await expect(a.layer.receive(b.layer.newChannel())).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
    expect(() => a.layer.newChannel('bad prefix')).toThrow(expect.objectContaining({ code: 'NABOOM_CHANNEL_NAME' }));
    for (const bad of [{}, { type: 5 }, [], 'text', null, { type: '' }]) {
      await expect(a.layer.send('chat', bad as never)).rejects.toMatchObject({ code: 'NABOOM_BAD_REQUEST' });
    }
  });

  it('a full normal channel refuses the send with NABOOM_CHANNEL_FULL and counts it; nothing is dropped silently', async () => {
    const small = await proc({ settings: { CHANNEL_CAPACITY: 3 } });
    for (let i = 0; i < 3; i++) await small.layer.send('cap.q', { type: 't', i });
    await expect(small.layer.send('cap.q', { type: 't', i: 3 })).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_FULL' });
    expect(await counterValue(small.metrics.channelFull, { operation: 'send' })).toBe(1);
    expect(await admin.llen('naboom:channels:q:cap.q')).toBe(3);
    expect(await small.layer.receive('cap.q')).toEqual({ type: 't', i: 0 });
    await small.layer.send('cap.q', { type: 't', i: 4 });
    const rest = [await small.layer.receive('cap.q'), await small.layer.receive('cap.q'), await small.layer.receive('cap.q')];
    expect(rest.map((m) => m['i'])).toEqual([1, 2, 4]);
  });

  it('a full local channel is reported to the receiving process (listener, metric) and, for its own sends, thrown', async () => {
    const small = await proc({ settings: { CHANNEL_CAPACITY: 3 } });
    const full: string[] = [];
    small.layer.onChannelFull((c) => full.push(c));
    const ch = small.layer.newChannel();
    for (let i = 0; i < 4; i++) await a.layer.send(ch, { type: 't', i });
    await waitFor('the sender to report the channel full', () => full.length === 1, { timeoutMs: 5000 });
    expect(full).toEqual([ch]);
    expect(await counterValue(small.metrics.channelFull, { operation: 'deliver' })).toBe(1);
    await expect(small.layer.send(ch, { type: 't', i: 9 })).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_FULL' });
    expect(await counterValue(small.metrics.channelFull, { operation: 'send' })).toBe(1);
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await small.layer.receive(ch))['i']);
    expect(got).toEqual([0, 1, 2]);
    await expect(small.layer.receive(ch, { timeoutMs: 100 })).rejects.toThrow(/No message within/);
  });

  it('expires undelivered messages: never delivered, the key vanishes, and they stop counting against capacity', async () => {
    const short = await proc({ settings: { CHANNEL_EXPIRY_S: 1, CHANNEL_CAPACITY: 2 } });
    const peer = await proc({ settings: { CHANNEL_EXPIRY_S: 1, CHANNEL_CAPACITY: 2 } });
    const local = peer.layer.newChannel();
    await short.layer.send('exp.q', { type: 'old', i: 1 });
    await short.layer.send('exp.q', { type: 'old', i: 2 });
    await expect(short.layer.send('exp.q', { type: 'over' })).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_FULL' });
    await short.layer.send(local, { type: 'old-local' });
    const lastSentAt = Date.now();
    const ttl = await admin.pttl('naboom:channels:q:exp.q');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    await waitFor('the messages to pass their expiry', () => Date.now() > lastSentAt + 1050, { timeoutMs: 5000 });
    // The two expired messages are trimmed by the send script instead of blocking the channel.
    await short.layer.send('exp.q', { type: 'new' });
    expect(await short.layer.receive('exp.q', { timeoutMs: 1000 })).toEqual({ type: 'new' });
    await expect(peer.layer.receive(local, { timeoutMs: 100 })).rejects.toThrow(/No message within/);
    await short.layer.send('exp.gone', { type: 'x' });
    await waitFor('the expired queue key to be gone', async () => (await admin.exists('naboom:channels:q:exp.gone')) === 0, { timeoutMs: 3000 });
  });

  it('a cancelled receive loses nothing: a message popped for it stays for the next receive', async () => {
    const ac = new AbortController();
    const pending = b.layer.receive('cancel.q', { signal: ac.signal });
    ac.abort(new Error('socket closed'));
    await expect(pending).rejects.toThrow('socket closed');
    await a.layer.send('cancel.q', { type: 'after-cancel' });
    // Another consumer gets it: the cancelled receive's pending pop gives it back instead of keeping it.
    expect(await a.layer.receive('cancel.q', { timeoutMs: 6000 })).toEqual({ type: 'after-cancel' });
    await a.layer.send('cancel.q', { type: 'again' });
    expect(await b.layer.receive('cancel.q', { timeoutMs: 6000 })).toEqual({ type: 'again' });
    await expect(b.layer.receive('cancel.q', { timeoutMs: 50 })).rejects.toThrow(/No message within/);
    const local = b.layer.newChannel();
    const aborted = new AbortController();
    aborted.abort(new Error('already'));
    await expect(b.layer.receive(local, { signal: aborted.signal })).rejects.toThrow('already');
  });

  it('the rest of a popped batch goes back to the list when its consumer stops receiving', async () => {
    for (let i = 0; i < 5; i++) await a.layer.send('idle.q', { type: 't', i });
    expect((await b.layer.receive('idle.q'))['i']).toBe(0);
    expect(await admin.llen('naboom:channels:q:idle.q')).toBe(0);
    await waitFor('four messages queued on idle.q', async () => (await admin.llen('naboom:channels:q:idle.q')) === 4, { timeoutMs: 5000 });
    const rest = [];
    for (let i = 0; i < 4; i++) rest.push((await a.layer.receive('idle.q', { timeoutMs: 2000 }))['i']);
    expect(rest).toEqual([1, 2, 3, 4]);
  });

  it('delivered messages shared between channels are read-only', async () => {
    const ch = b.layer.newChannel();
    await a.layer.send(ch, { type: 't', nested: { v: 1 } });
    const m = await b.layer.receive(ch, { timeoutMs: 2000 });
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m['nested'])).toBe(true);
  });

  it('close() rejects pending receives, puts taken-but-unread messages back, and removes its inbox and registrations', async () => {
    const c = await proc();
    const d = await proc();
    for (let i = 0; i < 5; i++) await a.layer.send('close.q', { type: 't', i });
    expect((await c.layer.receive('close.q'))['i']).toBe(0); // one LPOP took the whole batch
    expect(await admin.llen('naboom:channels:q:close.q')).toBe(0);
    const local = c.layer.newChannel();
    await c.layer.groupAdd('close.group', local);
    expect(await admin.zscore('naboom:channels:gproc:close.group', c.layer.processId)).not.toBeNull();
    const pending = expect(c.layer.receive(local)).rejects.toMatchObject({ code: 'NABOOM_SHUTTING_DOWN' });
    await c.close();
    await pending;
    expect(await admin.zscore('naboom:channels:gproc:close.group', c.layer.processId)).toBeNull();
    expect(await admin.exists(`naboom:channels:inbox:${c.layer.processId}`)).toBe(0);
    expect(await admin.llen('naboom:channels:q:close.q')).toBe(4);
    expect(await admin.pttl('naboom:channels:q:close.q')).toBeGreaterThan(290_000);
    const rest = [];
    for (let i = 0; i < 4; i++) rest.push((await d.layer.receive('close.q', { timeoutMs: 2000 }))['i']);
    expect(rest).toEqual([1, 2, 3, 4]);
    await expect(c.layer.send('x', { type: 't' })).rejects.toMatchObject({ code: 'NABOOM_SHUTTING_DOWN' });
    await c.layer.close();
  });

  it('leaves ACL LOG empty: nothing the layer did was refused', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
