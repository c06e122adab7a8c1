/**
 * The channel layer (the counterpart of Django Channels' channels_redis), on the websocket role only.
 * Normal channels are bounded Redis lists; process-local channels (`newChannel()`) and group deliveries reach
 * a process through its inbox and are fanned out in memory, so a group send costs one write per process,
 * not one per member. Every payload in Redis is encrypted and authenticated (envelope.ts).
 */
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RedisClient, RoleClients } from '../redis/connections.js';
import { EnvelopeCodec } from './envelope.js';
import { InboxLoop } from './inbox.js';
import { LocalChannels, type LocalDelivery } from './local.js';
import { SCRIPTS } from './lua.js';
import { checkChannel, checkGroup, checkPrefix, isLocalChannel, newLocalSuffix, newProcessId, ownerOf } from './names.js';
import { BlockingPool, QueueReader, type Accepted } from './queue-reader.js';
import { Receiver, type Rejecter } from './receiver.js';
import { deepFreeze, messageSchema, type ChannelMessage } from './schema.js';
import type { ReceiveOptions } from './waiters.js';

export type { ChannelMessage } from './schema.js';
export type { ReceiveOptions } from './waiters.js';

export interface ChannelLayerDeps {
  readonly clients: RoleClients;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Most messages one LPOP takes from a normal channel or the inbox (default 64). */
  readonly receiveBatch?: number;
}

export interface GroupSendResult {
  /** Other processes that were sent one envelope for their local members. */
  readonly processes: number;
  /** Non-local member channels the message was queued for. */
  readonly channels: number;
  /** This process's own local members it was delivered to. */
  readonly local: number;
  /** Members skipped because their channel was full (non-local ones and this process's local ones). */
  readonly skipped: string[];
  /** Processes whose inbox was full: all their local members were skipped (they are not known here). */
  readonly skippedProcesses: string[];
}

type FullListener = (channel: string) => void;

const MAX_LOGGED_NAMES = 20;

export class ChannelLayer {
  /** Unique per instance; part of every channel `newChannel()` makes. */
  readonly processId = newProcessId();
  readonly #config: Config;
  readonly #clients: RoleClients;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #codec: EnvelopeCodec;
  readonly #capacity: number;
  readonly #expiryMs: number;
  readonly #groupExpiryMs: number;
  readonly #batch: number;
  readonly #local: LocalChannels;
  readonly #readers = new Map<string, QueueReader>();
  readonly #fullListeners = new Set<FullListener>();
  readonly #receiver: Receiver;
  readonly #background = new Set<Promise<void>>();
  #pool: BlockingPool | undefined;
  #inbox: InboxLoop | undefined;
  #inboxClient: RedisClient | undefined;
  #closed = false;

  constructor(deps: ChannelLayerDeps) {
    this.#config = deps.config;
    this.#clients = deps.clients;
    this.#metrics = deps.metrics;
    this.#log = deps.logger.child({ component: 'channels', processId: this.processId });
    this.#codec = new EnvelopeCodec(deps.config.secretKeys);
    const s = deps.config.settings;
    this.#capacity = s.CHANNEL_CAPACITY;
    this.#expiryMs = s.CHANNEL_EXPIRY_S * 1000;
    this.#groupExpiryMs = s.GROUP_EXPIRY_S * 1000;
    this.#batch = deps.receiveBatch ?? 64;
    this.#local = new LocalChannels({ capacity: this.#capacity, groupExpiryMs: this.#groupExpiryMs });
    const reject: Rejecter = (reason, source) => this.#reject(reason, source);
    this.#receiver = new Receiver({
      processId: this.processId,
      codec: this.#codec,
      local: this.#local,
      logger: this.#log,
      metrics: this.#metrics,
      reject,
      full: (c) => this.#emitFull(c),
      background: (task) => this.#track(task),
      register: (g) => this.#register(g),
      leave: (g) => this.#leave(g),
    });
  }

  get #keys(): Config['keys']['channels'] {
    return this.#config.keys.channels;
  }

  get #redis(): RedisClient {
    return this.#clients.get('websocket');
  }

  /** Starts the inbox loop (messages for this process's local channels and its group members). Idempotent. */
  start(): Promise<void> {
    this.#assertOpen();
    if (!this.#inbox) {
      this.#inboxClient = this.#clients.dedicated('websocket', `channels-inbox-${this.processId}`);
      this.#inbox = new InboxLoop({
        key: this.#keys.inbox(this.processId),
        client: this.#inboxClient,
        command: this.#redis,
        batch: Math.max(this.#batch, 256),
        logger: this.#log,
        handle: (raws) => this.#receiver.inbox(raws),
      });
      this.#inbox.start();
    }
    return Promise.resolve();
  }

  /** A new process-local channel, `<prefix>.<processId>!<random>`; only this process can receive from it. */
  newChannel(prefix = 'specific'): string {
    this.#assertOpen();
    const name = `${checkPrefix(prefix)}.${this.processId}!${newLocalSuffix()}`;
    this.#local.open(name);
    return name;
  }

  /** Sends a message; throws NABOOM_CHANNEL_FULL (and counts it) when the channel is at capacity. One round trip. */
  async send(channel: string, message: ChannelMessage): Promise<void> {
    this.#assertOpen();
    checkChannel(channel);
    const msg = checkMessage(message);
    const now = Date.now();
    if (isLocalChannel(channel) && ownerOf(channel) === this.processId) {
      const ok = this.#local.deliver(channel, deepFreeze(structuredClone(msg)), now + this.#expiryMs, now);
      if (ok === undefined) this.#log.debug({ channel }, 'message for a closed local channel dropped');
      if (ok === false) this.#full('send', channel);
      return;
    }
    const key = isLocalChannel(channel) ? this.#keys.inbox(ownerOf(channel)) : this.#keys.queue(channel);
    const sealed = this.#codec.seal(JSON.stringify({ k: 'm', c: channel, m: msg }), now + this.#expiryMs);
    const ok = await SCRIPTS.send.run(this.#redis, [key], [sealed, this.#capacity, this.#expiryMs, now]);
    if (ok !== 1) this.#full('send', channel);
  }

  /** The next message on a channel, in send order. Local channels: only the process that made them. */
  async receive(channel: string, opts: ReceiveOptions = {}): Promise<ChannelMessage> {
    this.#assertOpen();
    checkChannel(channel);
    if (isLocalChannel(channel)) {
      const queue = ownerOf(channel) === this.processId ? this.#local.get(channel) : undefined;
      if (!queue) throw new NaboomError('NABOOM_CHANNEL_NAME', `Not an open local channel of this process: ${channel}`);
      return await queue.take(opts, Date.now());
    }
    return await this.#reader(channel).receive(opts);
  }

  /** Adds a channel to a group (membership expires after GROUP_EXPIRY_S unless added again). */
  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    checkGroup(group);
    checkChannel(channel);
    const now = Date.now();
    if (!isLocalChannel(channel)) {
      await SCRIPTS.groupAdd.run(this.#redis, [this.#keys.group(group)], [channel, now, this.#groupExpiryMs]);
      return;
    }
    const owner = ownerOf(channel);
    if (owner === this.processId) {
      if (!this.#local.join(group, channel, now)) throw new NaboomError('NABOOM_CHANNEL_NAME', `Not an open local channel of this process: ${channel}`);
      await this.#register(group);
      return;
    }
    const control = this.#codec.seal(JSON.stringify({ k: 'a', g: group, c: channel }), now + this.#expiryMs);
    const keys = [this.#keys.groupProcesses(group), this.#keys.inbox(owner)];
    const ok = await SCRIPTS.groupAdd.run(this.#redis, keys, [owner, now, this.#groupExpiryMs, control, this.#capacity, this.#expiryMs]);
    if (ok !== 1) this.#full('send', channel);
  }

  /** Removes a channel from a group. */
  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    checkGroup(group);
    checkChannel(channel);
    if (!isLocalChannel(channel)) {
      await this.#redis.zrem(this.#keys.group(group), channel);
      return;
    }
    const owner = ownerOf(channel);
    if (owner === this.processId) {
      if (this.#local.leave(group, channel)) await this.#leave(group);
      return;
    }
    const now = Date.now();
    const control = this.#codec.seal(JSON.stringify({ k: 'd', g: group, c: channel }), now + this.#expiryMs);
    const ok = await SCRIPTS.send.run(this.#redis, [this.#keys.inbox(owner)], [control, this.#capacity, this.#expiryMs, now]);
    if (ok !== 1) this.#full('send', channel);
  }

  /** Sends to every member: one script, one envelope per other process, one push per non-local member. */
  async groupSend(group: string, message: ChannelMessage): Promise<GroupSendResult> {
    this.#assertOpen();
    checkGroup(group);
    const msg = checkMessage(message);
    const now = Date.now();
    const sealed = this.#codec.seal(JSON.stringify({ k: 'g', g: group, m: msg }), now + this.#expiryMs);
    const keys = [this.#keys.group(group), this.#keys.groupProcesses(group)];
    const args = [sealed, now, now - this.#groupExpiryMs, this.#capacity, this.#expiryMs, this.#keys.queuePrefix, this.#keys.inboxPrefix, this.processId];
    const reply = parseGroupSendReply(await SCRIPTS.groupSend.run(this.#redis, keys, args));
    const local = this.#deliverGroup(group, deepFreeze(structuredClone(msg)), now);
    const skipped = [...reply.fullChannels, ...local.skipped];
    const remoteSkips = reply.fullChannels.length + reply.fullProcesses.length;
    if (remoteSkips > 0) {
      this.#metrics.groupSkipped.inc({ group }, remoteSkips);
      this.#log.warn(
        { group, channels: reply.fullChannels.slice(0, MAX_LOGGED_NAMES), processes: reply.fullProcesses, count: remoteSkips },
        'group send skipped members whose channel or process inbox is full',
      );
    }
    return { processes: reply.sentProcesses, channels: reply.sentChannels, local: local.delivered, skipped, skippedProcesses: reply.fullProcesses };
  }

  /** Delivers to this process's local members of a group, with no Redis at all (live feeds fanned out per process). */
  deliverLocal(group: string, message: ChannelMessage): LocalDelivery {
    this.#assertOpen();
    checkGroup(group);
    return this.#deliverGroup(group, deepFreeze(structuredClone(checkMessage(message))), Date.now());
  }

  /** Called with the channel name whenever a local channel overflows. Returns an unsubscribe function. */
  onChannelFull(listener: FullListener): () => void {
    this.#fullListeners.add(listener);
    return () => this.#fullListeners.delete(listener);
  }

  /** Forgets a channel when its consumer is gone: a local channel's queue and group memberships, or a normal channel's buffered messages (put back). */
  async discardChannel(channel: string): Promise<void> {
    checkChannel(channel);
    const reason = new DOMException(`Channel ${channel} was discarded`, 'AbortError');
    if (isLocalChannel(channel)) {
      const emptied = this.#local.discard(channel, reason);
      if (!this.#closed) await Promise.all(emptied.map((g) => this.#leave(g)));
      return;
    }
    const reader = this.#readers.get(channel);
    this.#readers.delete(channel);
    if (reader) await this.#requeue(channel, await reader.close(reason));
  }

  /** Stops the inbox loop, puts back messages taken but not handed out, leaves group registrations, frees connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reason = new NaboomError('NABOOM_SHUTTING_DOWN', 'The channel layer is closed');
    await this.#inbox?.stop();
    await Promise.all([...this.#background]);
    const readers = [...this.#readers];
    this.#readers.clear();
    const groups = this.#local.groupNames();
    this.#local.closeAll(reason);
    const redis = this.#redis;
    const settled = await Promise.allSettled([
      ...readers.map(async ([channel, r]) => this.#requeue(channel, await r.close(reason))),
      ...groups.map((g) => redis.zrem(this.#keys.groupProcesses(g), this.processId)),
      redis.del(this.#keys.inbox(this.processId)),
    ]);
    for (const s of settled) if (s.status === 'rejected') this.#log.warn({ err: s.reason as unknown }, 'channel layer cleanup step failed');
    this.#pool?.close();
    await this.#inboxClient?.quit().catch(() => this.#inboxClient?.disconnect());
  }

  #reader(channel: string): QueueReader {
    let r = this.#readers.get(channel);
    if (!r) {
      this.#pool ??= new BlockingPool((n) => this.#clients.dedicated('websocket', `channels-recv-${this.processId}-${n}`));
      r = new QueueReader({
        key: this.#keys.queue(channel),
        channel,
        command: this.#redis,
        pool: this.#pool,
        batch: this.#batch,
        logger: this.#log,
        accept: (raw): Accepted | undefined => this.#receiver.queued(channel, raw),
      });
      this.#readers.set(channel, r);
    }
    return r;
  }

  async #requeue(channel: string, raws: Buffer[]): Promise<void> {
    if (raws.length === 0) return;
    await this.#redis.lpush(this.#keys.queue(channel), ...raws.reverse());
  }

  #deliverGroup(group: string, message: ChannelMessage, now: number): LocalDelivery {
    const result = this.#local.deliverGroup(group, message, now + this.#expiryMs, now);
    this.#receiver.reportSkipped(group, result.skipped);
    return result;
  }

  /** Registers this process as holding local members of a group (score = now, so it expires like them). */
  async #register(group: string): Promise<void> {
    const now = Date.now();
    await SCRIPTS.groupAdd.run(this.#redis, [this.#keys.groupProcesses(group)], [this.processId, now, this.#groupExpiryMs]);
  }

  /** Leaves a group's process set after the last local member left; re-registers if one joined meanwhile. */
  async #leave(group: string): Promise<void> {
    await SCRIPTS.groupLeave.run(this.#redis, [this.#keys.groupProcesses(group), this.#keys.inbox(this.processId)], [this.processId]);
    if (this.#local.hasMembers(group) && !this.#closed) await this.#register(group);
  }

  #track(task: Promise<void>): void {
    const tracked = task
      .catch((err: unknown) => this.#log.warn({ err }, 'group registration update failed'))
      .finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  #full(operation: 'send', channel: string): never {
    this.#metrics.channelFull.inc({ operation });
    this.#log.warn({ channel }, 'channel full: message not stored');
    throw new NaboomError('NABOOM_CHANNEL_FULL', `Channel ${channel} is full (capacity ${this.#capacity}); the message was not stored`);
  }

  #emitFull(channel: string): void {
    for (const l of this.#fullListeners) {
      try {
        l(channel);
      } catch (err) {
        this.#log.error({ err, channel }, 'channel-full listener threw');
      }
    }
  }

  #reject(reason: 'tampered' | 'foreign' | 'invalid', source: string): void {
    this.#metrics.channelRejected.inc({ reason });
    this.#log.warn({ reason, source }, 'channel-layer message rejected, not delivered');
  }

  #assertOpen(): void {
    if (this.#closed) throw new NaboomError('NABOOM_SHUTTING_DOWN', 'The channel layer is closed');
  }
}

function checkMessage(message: unknown): ChannelMessage {
  const parsed = messageSchema.safeParse(message);
  if (!parsed.success) throw new NaboomError('NABOOM_BAD_REQUEST', 'A channel message is a JSON object with a string "type"');
  return parsed.data;
}

interface GroupSendReply {
  sentProcesses: number;
  sentChannels: number;
  fullProcesses: string[];
  fullChannels: string[];
}

function parseGroupSendReply(reply: unknown): GroupSendReply {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  if (!Array.isArray(reply) || reply.length !== 4) throw new NaboomError('NABOOM_INTERNAL', 'Unexpected reply from the group-send script');
  return { sentProcesses: Number(reply[0]), sentChannels: Number(reply[1]), fullProcesses: strings(reply[2]), fullChannels: strings(reply[3]) };
}
