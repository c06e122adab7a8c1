/** Groups against a real Redis: per-process fan-out, membership across processes, capacity, expiry, local delivery. */
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { counterValue, twoProcesses, type TestProcess } from './harness.js';

/** Calls of one command so far, from INFO commandstats (commands inside scripts count too). */
async function calls(admin: Redis, command: string): Promise<number> {
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await admin.info('commandstats'));
  return Number(m?.[1] ?? 0);
}

describe('channel layer: groups', () => {
  const env = twoProcesses();
  const proc = env.proc;
  let admin: Redis;
  let a: TestProcess;
  let b: TestProcess;
  beforeAll(() => void ({ admin, a, b } = env));

  it('group send reaches local members of every process and non-local members, and discard removes them', async () => {
    const a1 = a.layer.newChannel();
    const a2 = a.layer.newChannel();
    const [b1, b2, b3] = [b.layer.newChannel(), b.layer.newChannel(), b.layer.newChannel()];
    for (const c of [a1, a2]) await a.layer.groupAdd('room', c);
    for (const c of [b1, b2, b3]) await b.layer.groupAdd('room', c);
    await a.layer.groupAdd('room', 'worker.q');
    const r = await a.layer.groupSend('room', { type: 'room.msg', n: 1 });
    expect(r).toEqual({ processes: 1, channels: 1, local: 2, skipped: [], skippedProcesses: [] });
    for (const [p, c] of [[a, a1], [a, a2], [b, b1], [b, b2], [b, b3]] as const) {
      expect(await p.layer.receive(c, { timeoutMs: 2000 })).toEqual({ type: 'room.msg', n: 1 });
    }
    expect(await b.layer.receive('worker.q', { timeoutMs: 2000 })).toEqual({ type: 'room.msg', n: 1 });

    await a.layer.groupDiscard('room', a1);
    await b.layer.groupDiscard('room', b1);
    await a.layer.groupDiscard('room', 'worker.q');
    const r2 = await b.layer.groupSend('room', { type: 'room.msg', n: 2 });
    expect(r2).toMatchObject({ processes: 1, channels: 0, local: 2 });
    for (const [p, c] of [[a, a2], [b, b2], [b, b3]] as const) expect((await p.layer.receive(c, { timeoutMs: 2000 }))['n']).toBe(2);
    for (const [p, c] of [[a, a1], [b, b1]] as const) await expect(p.layer.receive(c, { timeoutMs: 100 })).rejects.toThrow(/No message within/);
    await expect(b.layer.receive('worker.q', { timeoutMs: 100 })).rejects.toThrow(/No message within/);
  });

  it('costs one Redis write per process, not per member: 1,000 sockets in another process = 1 push', async () => {
    const c = await proc();
    const members = Array.from({ length: 1000 }, () => c.layer.newChannel('ws'));
    await Promise.all(members.map((m) => c.layer.groupAdd('big', m)));
    expect(await admin.zcard('naboom:channels:gproc:big')).toBe(1);
    const before = await calls(admin, 'rpush');
    const r = await a.layer.groupSend('big', { type: 'alert', id: 'x' });
    expect(await calls(admin, 'rpush')).toBe(before + 1);
    expect(r).toMatchObject({ processes: 1, channels: 0, local: 0 });
    const got = await Promise.all(members.map((m) => c.layer.receive(m, { timeoutMs: 3000 })));
    expect(got.every((m) => m['id'] === 'x')).toBe(true);
  });

  it("adds and discards another process's local channel through that process's inbox", async () => {
    const bc = b.layer.newChannel();
    await a.layer.groupAdd('remote', bc);
    // The registration and the control envelope are written together: an immediate send already reaches it.
    expect(await a.layer.groupSend('remote', { type: 'hello' })).toMatchObject({ processes: 1 });
    expect(await b.layer.receive(bc, { timeoutMs: 2000 })).toEqual({ type: 'hello' });
    await a.layer.groupDiscard('remote', bc);
    await a.layer.groupSend('remote', { type: 'after-discard' });
    await expect(b.layer.receive(bc, { timeoutMs: 200 })).rejects.toThrow(/No message within/);
    // The last local member left, so process b unregisters itself.
    await waitFor("process b to leave the group's process set", async () => (await admin.zscore('naboom:channels:gproc:remote', b.layer.processId)) === null, { timeoutMs: 5000 });
  });

  it('reports members skipped because they are full: returned, logged, counted and signalled', async () => {
    const small = await proc({ settings: { CHANNEL_CAPACITY: 1 } });
    const other = await proc({ settings: { CHANNEL_CAPACITY: 1 } });
    const fullHere: string[] = [];
    const fullThere: string[] = [];
    small.layer.onChannelFull((c) => fullHere.push(c));
    other.layer.onChannelFull((c) => fullThere.push(c));
    const mine = small.layer.newChannel();
    const theirs = other.layer.newChannel();
    await small.layer.groupAdd('busy', mine);
    await other.layer.groupAdd('busy', theirs);
    await small.layer.groupAdd('busy', 'busy.q');
    expect(await small.layer.groupSend('busy', { type: 'one' })).toMatchObject({ processes: 1, channels: 1, local: 1, skipped: [] });
    const r = await small.layer.groupSend('busy', { type: 'two' });
    expect(r.skipped.sort()).toEqual(['busy.q', mine].sort());
    expect(r).toMatchObject({ processes: 1, channels: 0, local: 0, skippedProcesses: [] });
    expect(fullHere).toEqual([mine]);
    expect(await counterValue(small.metrics.groupSkipped, { group: 'busy' })).toBe(2);
    // The other process learns about its own full member when the envelope arrives.
    await waitFor("the remote member's queue to report full", () => fullThere.length === 1, { timeoutMs: 5000 });
    expect(fullThere).toEqual([theirs]);
    expect(await counterValue(other.metrics.groupSkipped, { group: 'busy' })).toBe(1);
    expect(await other.layer.receive(theirs)).toEqual({ type: 'one' });
    expect(await small.layer.receive('busy.q')).toEqual({ type: 'one' });
  });

  it('memberships expire after GROUP_EXPIRY_S, locally and in Redis', async () => {
    const s1 = await proc({ settings: { GROUP_EXPIRY_S: 1 } });
    const s2 = await proc({ settings: { GROUP_EXPIRY_S: 1 } });
    const c1 = s1.layer.newChannel();
    const c2 = s2.layer.newChannel();
    await s1.layer.groupAdd('brief', c1);
    await s2.layer.groupAdd('brief', c2);
    await s1.layer.groupAdd('brief', 'brief.q');
    const addedAt = Date.now();
    expect(await s1.layer.groupSend('brief', { type: 'in-time' })).toMatchObject({ processes: 1, channels: 1, local: 1 });
    expect(await admin.pttl('naboom:channels:group:brief')).toBeLessThanOrEqual(1000);
    await waitFor('the membership to pass its expiry', () => Date.now() > addedAt + 1050, { timeoutMs: 5000 });
    expect(await s1.layer.groupSend('brief', { type: 'too-late' })).toMatchObject({ processes: 0, channels: 0, local: 0 });
    expect(s2.layer.deliverLocal('brief', { type: 'too-late' })).toEqual({ delivered: 0, skipped: [] });
    for (const [p, c] of [[s1, c1], [s2, c2], [s1, 'brief.q']] as const) {
      expect(await p.layer.receive(c, { timeoutMs: 2000 })).toEqual({ type: 'in-time' });
      await expect(p.layer.receive(c, { timeoutMs: 100 })).rejects.toThrow(/No message within/);
    }
  });

  it('deliverLocal fans out to local members with no Redis call, bounded and reported', async () => {
    const small = await proc({ settings: { CHANNEL_CAPACITY: 2 } });
    const members = [small.layer.newChannel(), small.layer.newChannel()];
    for (const m of members) await small.layer.groupAdd('feed.high', m);
    const full: string[] = [];
    small.layer.onChannelFull((c) => full.push(c));
    const get = small.clients.get.bind(small.clients);
    small.clients.get = () => {
      throw new Error('deliverLocal must not touch Redis');
    };
    try {
      const msg = { type: 'alert', id: '1-0', nested: { a: 1 } };
      expect(small.layer.deliverLocal('feed.high', msg)).toEqual({ delivered: 2, skipped: [] });
      expect(Object.isFrozen(msg)).toBe(false); // the caller's object is not frozen; members share a frozen copy
      expect(small.layer.deliverLocal('feed.high', { type: 'alert', id: '2-0' })).toEqual({ delivered: 2, skipped: [] });
      const over = small.layer.deliverLocal('feed.high', { type: 'alert', id: '3-0' });
      expect(over).toEqual({ delivered: 0, skipped: members });
      expect(small.layer.deliverLocal('nobody.here', { type: 'alert' })).toEqual({ delivered: 0, skipped: [] });
      const first = await small.layer.receive(members[0]!);
      expect(first).toEqual({ type: 'alert', id: '1-0', nested: { a: 1 } });
      expect(await small.layer.receive(members[1]!)).toBe(first);
    } finally {
      small.clients.get = get;
    }
    expect(full).toEqual(members);
    expect(await counterValue(small.metrics.groupSkipped, { group: 'feed.high' })).toBe(2);
  });

  it('discardChannel drops the queue, rejects its receive, and leaves its groups', async () => {
    const c = b.layer.newChannel();
    await b.layer.groupAdd('gone', c);
    const pending = expect(b.layer.receive(c)).rejects.toThrow(/discarded/);
    await b.layer.discardChannel(c);
    await pending;
    expect(await admin.zscore('naboom:channels:gproc:gone', b.layer.processId)).toBeNull();
    expect(b.layer.deliverLocal('gone', { type: 't' })).toEqual({ delivered: 0, skipped: [] });
    await expect(b.layer.receive(c)).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
    // A message for a discarded channel (a closed socket) is dropped, not an error for the sender.
    await a.layer.send(c, { type: 'late' });
    await expect(b.layer.groupAdd('gone', c)).rejects.toMatchObject({ code: 'NABOOM_CHANNEL_NAME' });
  });

  it('leaves ACL LOG empty: nothing the layer did was refused', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
