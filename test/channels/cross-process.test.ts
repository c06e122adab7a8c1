/**
 * The channel layer across real processes: a child Node process (child-layer.mjs, running the built code in
 * dist/) joins groups with its own local channels; group sends, group membership changes and direct sends
 * cross between it and this process. Also the `naboom verify` round trips.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { channelRoundTrips } from '../../src/channels/verify.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { childEnv } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/local/wait.js';
import { silent, startProcess, type TestProcess } from './harness.js';

const CHILD = fileURLToPath(new URL('./child-layer.mjs', import.meta.url));
const SRC = fileURLToPath(new URL('../../src/channels/', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/channels/', import.meta.url));

/** The child runs dist/: refuse to test stale code. */
function assertBuilt(): void {
  for (const f of readdirSync(SRC).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
    const built = `${DIST}${f.replace(/\.ts$/, '.js')}`;
    let builtAt = 0;
    try {
      builtAt = statSync(built).mtimeMs;
    } catch {
      builtAt = 0;
    }
    if (builtAt < statSync(`${SRC}${f}`).mtimeMs) throw new Error(`dist/channels/${f.replace(/\.ts$/, '.js')} is missing or stale: run \`npm run build\` first`);
  }
}

const ipcSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), processId: z.string() }),
  z.object({ type: z.literal('received'), channel: z.string(), message: z.looseObject({ type: z.string() }) }),
  z.looseObject({ type: z.literal('reply'), id: z.number(), error: z.object({ code: z.string().optional(), message: z.string() }).optional() }),
]);
type Reply = Extract<z.output<typeof ipcSchema>, { type: 'reply' }>;

/** Drives the child process: requests over IPC, and every message it received. */
class Child {
  readonly received: { channel: string; message: Record<string, unknown> }[] = [];
  processId = '';
  stderr = '';
  readonly #pending = new Map<number, (r: Reply) => void>();
  #next = 1;
  readonly exited: Promise<number | null>;
  #ready: (() => void) | undefined;

  constructor(readonly proc: ChildProcess) {
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((res) => proc.on('exit', (code) => res(code)));
    proc.on('message', (raw: unknown) => {
      const m = ipcSchema.parse(raw);
      if (m.type === 'ready') {
        this.processId = m.processId;
        this.#ready?.();
      } else if (m.type === 'received') this.received.push({ channel: m.channel, message: m.message });
      else this.#pending.get(m.id)?.(m);
    });
  }

  static async start(envFile: string): Promise<Child> {
    const child = new Child(fork(CHILD, [envFile], { env: childEnv({}), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
    const ready = new Promise<void>((res) => (child.#ready = res));
    const failed = child.exited.then((code) => {
      throw new Error(`child exited (${code}) before it was ready: ${child.stderr}`);
    });
    await Promise.race([ready, failed]);
    return child;
  }

  async request(cmd: Record<string, unknown>): Promise<Reply> {
    const id = this.#next++;
    const reply = new Promise<Reply>((res) => this.#pending.set(id, res));
    this.proc.send({ ...cmd, id });
    const r = await reply;
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r;
  }

  receivedOn(channel: string): Record<string, unknown>[] {
    return this.received.filter((r) => r.channel === channel).map((r) => r.message);
  }
}

const channelsOf = (r: Reply): string[] => z.array(z.string()).parse(r['channels']);

describe('channel layer across processes', () => {
  let t: TestRedis;
  let admin: Redis;
  let child: Child;
  let me: TestProcess;

  beforeAll(async () => {
    assertBuilt();
    t = await startTestRedis();
    admin = await connectAdmin(t.config);
    await admin.select(1);
    child = await Child.start(t.envFile);
    me = await startProcess(t.config);
  });
  afterAll(async () => {
    if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await me?.close();
    admin?.disconnect();
    await t?.stop();
  });

  it('a group send reaches every local member of both processes and a non-local member, with one envelope per process', async () => {
    const theirs = channelsOf(await child.request({ cmd: 'open', count: 50, group: 'xp' }));
    const mine = Array.from({ length: 50 }, () => me.layer.newChannel());
    for (const c of mine) await me.layer.groupAdd('xp', c);
    await me.layer.groupAdd('xp', 'xp.worker');
    const r = await me.layer.groupSend('xp', { type: 'alert', id: '1-0', severity: 'high' });
    expect(r).toEqual({ processes: 1, channels: 1, local: 50, skipped: [], skippedProcesses: [] });
    for (const c of mine) expect(await me.layer.receive(c, { timeoutMs: 2000 })).toEqual({ type: 'alert', id: '1-0', severity: 'high' });
    expect(await me.layer.receive('xp.worker', { timeoutMs: 2000 })).toMatchObject({ id: '1-0' });
    await waitFor('the child to receive 50 messages', () => child.received.length >= 50, { timeoutMs: 5000 });
    for (const c of theirs) expect(child.receivedOn(c)).toEqual([{ type: 'alert', id: '1-0', severity: 'high' }]);
    expect(child.received).toHaveLength(50);
  });

  it("adds and discards the other process's channel through its inbox, in order with later sends", async () => {
    const [theirs] = channelsOf(await child.request({ cmd: 'open', count: 1 }));
    await me.layer.groupAdd('xp-remote', theirs!);
    expect(await me.layer.groupSend('xp-remote', { type: 'joined' })).toMatchObject({ processes: 1 });
    await waitFor("the child's channel to receive one message", () => child.receivedOn(theirs!).length === 1, { timeoutMs: 5000 });
    await me.layer.groupDiscard('xp-remote', theirs!);
    await me.layer.groupSend('xp-remote', { type: 'after-discard' });
    // The inbox is FIFO: once the marker arrived, the group envelope before it has been handled too.
    await me.layer.send(theirs!, { type: 'marker' });
    await waitFor("the child's channel to receive two messages", () => child.receivedOn(theirs!).length === 2, { timeoutMs: 5000 });
    expect(child.receivedOn(theirs!)).toEqual([{ type: 'joined' }, { type: 'marker' }]);
  });

  it('the other process sends to a local channel of this one, to a normal channel, and to a group here', async () => {
    const mine = me.layer.newChannel();
    await child.request({ cmd: 'send', channel: mine, message: { type: 'from-child', n: 1 } });
    expect(await me.layer.receive(mine, { timeoutMs: 2000 })).toEqual({ type: 'from-child', n: 1 });
    await child.request({ cmd: 'send', channel: 'xp.jobs', message: { type: 'job' } });
    expect(await me.layer.receive('xp.jobs', { timeoutMs: 2000 })).toEqual({ type: 'job' });
    await me.layer.groupAdd('xp-back', mine);
    const r = await child.request({ cmd: 'groupSend', group: 'xp-back', message: { type: 'back' } });
    expect(r['result']).toMatchObject({ processes: 1, channels: 0, local: 0 });
    expect(await me.layer.receive(mine, { timeoutMs: 2000 })).toEqual({ type: 'back' });
  });

  it('the other process closes cleanly: nothing rejected, its registrations and inbox are gone', async () => {
    const childId = child.processId;
    expect(await admin.zscore('naboom:channels:gproc:xp', childId)).not.toBeNull();
    const r = await child.request({ cmd: 'close' });
    expect(r['rejected']).toEqual([]);
    expect(r['full']).toEqual([]);
    expect(await child.exited).toBe(0);
    expect(await admin.zscore('naboom:channels:gproc:xp', childId)).toBeNull();
    expect(await admin.exists(`naboom:channels:inbox:${childId}`)).toBe(0);
    // A group send no longer writes for the closed process.
    expect(await me.layer.groupSend('xp', { type: 'after-close' })).toMatchObject({ processes: 0, local: 50 });
  });

  it('verify: the channel round trips pass, and fail with a hint when the websocket role lacks a grant', async () => {
    const ctx = { config: t.config, keys: t.keys, logger: silent, clients: new Map(), admin };
    const ok = await channelRoundTrips(ctx);
    expect(ok.map((c) => [c.section, c.role, c.status])).toEqual(Array(3).fill(['roundtrip', 'websocket', 'pass']));

    await admin.call('ACL', 'SETUSER', t.config.credentials.websocket.username, '-evalsha', '-eval');
    try {
      const bad = await channelRoundTrips(ctx);
      expect(bad.every((c) => c.status === 'fail')).toBe(true);
      expect(bad[0]!.hint).toMatch(/acl apply/);
    } finally {
      await admin.call('ACL', 'SETUSER', t.config.credentials.websocket.username, '+evalsha', '+eval');
      await admin.call('ACL', 'LOG', 'RESET');
    }
    // No verify key is left behind.
    const left = (await admin.keys('naboom:channels:*')).filter((k) => k.includes('verify'));
    expect(left).toEqual([]);
  });

  it('leaves ACL LOG empty', async () => {
    await me.layer.groupSend('xp', { type: 'one-more' });
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
