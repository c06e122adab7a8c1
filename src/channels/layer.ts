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
import type { KeySpace } from '../redis/keys.js';
import { EnvelopeCodec, type RejectReason } from './envelope.js';
import { InboxLoop } from './inbox.js';
import { LocalChannels, type LocalDelivery } from './local.js';
import { checkChannel, checkGroup, groupLabel, checkPrefix, isLocalChannel, newLocalSuffix, newProcessId, ownerOf } from './names.js';
import { BlockingPool, QueueReader } from './queue-reader.js';
import { Receiver } from './receiver.js';
import { Registration } from './registration.js';
import { checkMessage, deepFreeze, type ChannelMessage } from './schema.js';
import { ChannelStore } from './store.js';
import type { ChannelLayerDeps, GroupSendResult } from './types.js';
import type { ReceiveOptions } from './waiters.js';

export type { ChannelMessage } from './schema.js';
export type { ReceiveOptions } from './waiters.js';
export type { LocalDelivery } from './local.js';
export type { ChannelLayerDeps, GroupSendResult } from './types.js';

type FullListener = (channel: string) => void;

const MAX_LOGGED_NAMES = 20;

export class ChannelLayer {
  /** Unique per instance; part of every channel `newChannel()` makes. */
  readonly processId = newProcessId();
  readonly #config: Config;
  readonly #keys: KeySpace;
  readonly #clients: RoleClients;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #expiryMs: number;
  readonly #batch: number;
  readonly #local: LocalChannels;
  readonly #store: ChannelStore;
  readonly #receiver: Receiver;
  readonly #registration: Registration;
  readonly #readers = new Map<string, QueueReader>();
  readonly #fullListeners = new Set<FullListener>();
  #pool: BlockingPool | undefined;
  #redisClient: RedisClient | undefined;
  #inbox: InboxLoop | undefined;
  #closed = false;

  constructor(deps: ChannelLayerDeps) {
    this.#config = deps.config;
    this.#keys = deps.keys;
    this.#clients = deps.clients;
    this.#metrics = deps.metrics;
    this.#log = deps.logger.child({ component: 'channels', processId: this.processId });
    const codec = new EnvelopeCodec(deps.config.secretKeys);
    const s = deps.config.settings;
    this.#expiryMs = s.CHANNEL_EXPIRY_S * 1000;
    this.#batch = deps.receiveBatch ?? 64;
    this.#local = new LocalChannels({ capacity: s.CHANNEL_CAPACITY, groupExpiryMs: s.GROUP_EXPIRY_S * 1000 });
    this.#store = new ChannelStore({
      redis: () => this.#redis,
      keys: deps.keys.channels,
      codec,
      processId: this.processId,
      capacity: s.CHANNEL_CAPACITY,
      expiryMs: this.#expiryMs,
      groupExpiryMs: s.GROUP_EXPIRY_S * 1000,
    });
    this.#registration = new Registration({ store: this.#store, local: this.#local, logger: this.#log });
    const registration = this.#registration;
    this.#receiver = new Receiver({
      processId: this.processId,
      codec,
      local: this.#local,
      logger: this.#log,
      metrics: this.#metrics,
      reject: (reason, source) => this.#reject(reason, source),
      full: (c) => this.#emitFull(c),
      background: (task) => registration.background(task),
      register: (g) => registration.register(g),
      leave: (g) => registration.leave(g),
    });
  }

  get #redis(): RedisClient {
    return (this.#redisClient ??= this.#clients.get('websocket'));
  }

  /** Starts the inbox loop (messages for this process's local channels and its group members). Idempotent. */
  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#inbox) return;
    this.#inbox = new InboxLoop({
      key: this.#keys.channels.inbox(this.processId),
      // Named per instance: two layers sharing one RoleClients must not share a blocked connection.
      client: this.#clients.dedicated('websocket', `channels-inbox-${this.processId}`),
      command: this.#redis,
      batch: Math.max(this.#batch, 256),
      logger: this.#log,
      handle: (raws) => this.#receiver.inbox(raws),
      drained: () => this.#registration.retryPending(),
    });
    this.#inbox.start();
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
    const owner = isLocalChannel(channel) ? ownerOf(channel) : undefined;
    if (owner === this.processId) {
      const ok = this.#local.deliver(channel, deepFreeze(structuredClone(msg)), now + this.#expiryMs, now);
      if (ok === undefined) this.#log.debug({ channel }, 'message for a closed local channel dropped');
      if (ok === false) this.#full(channel);
      return;
    }
    if (!(await this.#store.send(channel, owner, msg, now))) this.#full(channel);
  }

  /** The next message on a channel, in send order. Local channels: only the process that made them. */
  receive(channel: string, opts: ReceiveOptions = {}): Promise<ChannelMessage> {
    // Not `async`: on the hot path an extra promise frame per message is measurable.
    try {
      this.#assertOpen();
      checkChannel(channel);
      if (isLocalChannel(channel)) {
        const queue = ownerOf(channel) === this.processId ? this.#local.get(channel) : undefined;
        if (!queue) throw new NaboomError('NABOOM_CHANNEL_NAME', `Not an open local channel of this process: ${channel}`);
        return queue.take(opts, Date.now());
      }
      return this.#reader(channel).receive(opts);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Adds a channel to a group (membership expires after GROUP_EXPIRY_S unless added again). */
  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    checkGroup(group);
    checkChannel(channel);
    const now = Date.now();
    if (!isLocalChannel(channel)) return await this.#store.addChannel(group, channel, now);
    const owner = ownerOf(channel);
    if (owner !== this.processId) {
      if (!(await this.#store.addRemote(group, channel, owner, now))) this.#full(channel);
      return;
    }
    if (!this.#local.join(group, channel, now)) throw new NaboomError('NABOOM_CHANNEL_NAME', `Not an open local channel of this process: ${channel}`);
    await this.#registration.register(group);
  }

  /** Removes a channel from a group. */
  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    checkGroup(group);
    checkChannel(channel);
    if (!isLocalChannel(channel)) return await this.#store.discardChannel(group, channel);
    const owner = ownerOf(channel);
    if (owner !== this.processId) {
      if (!(await this.#store.discardRemote(group, channel, owner, Date.now()))) this.#full(channel);
      return;
    }
    if (this.#local.leave(group, channel)) await this.#registration.leave(group);
  }

  /** Sends to every member: one script, one envelope per other process, one push per non-local member. */
  async groupSend(group: string, message: ChannelMessage): Promise<GroupSendResult> {
    this.#assertOpen();
    checkGroup(group);
    const msg = checkMessage(message);
    const now = Date.now();
    const reply = await this.#store.groupSend(group, msg, now);
    const local = this.#deliverGroup(group, msg, now);
    const remoteSkips = reply.fullChannels.length + reply.fullProcesses.length;
    if (remoteSkips > 0) {
      this.#metrics.groupSkipped.inc({ group: groupLabel(group) }, remoteSkips);
      this.#log.warn(
        { group, channels: reply.fullChannels.slice(0, MAX_LOGGED_NAMES), processes: reply.fullProcesses, count: remoteSkips },
        'group send skipped members whose channel or process inbox is full',
      );
    }
    return {
      processes: reply.sentProcesses,
      channels: reply.sentChannels,
      local: local.delivered,
      skipped: [...reply.fullChannels, ...local.skipped],
      skippedProcesses: reply.fullProcesses,
    };
  }

  /** Delivers to this process's local members of a group with no Redis at all (live feeds fanned out per process). */
  deliverLocal(group: string, message: ChannelMessage): LocalDelivery {
    this.#assertOpen();
    checkGroup(group);
    return this.#deliverGroup(group, checkMessage(message), Date.now());
  }

  /** Called with the channel name whenever a local channel overflows. Returns an unsubscribe function. */
  onChannelFull(listener: FullListener): () => void {
    this.#fullListeners.add(listener);
    return () => this.#fullListeners.delete(listener);
  }

  /** Forgets a channel whose consumer is gone: a local channel's queue and memberships, or a normal channel's buffered messages (put back). */
  async discardChannel(channel: string): Promise<void> {
    checkChannel(channel);
    const reason = new DOMException(`Channel ${channel} was discarded`, 'AbortError');
    if (isLocalChannel(channel)) {
      const emptied = this.#local.discard(channel, reason);
      if (!this.#closed) await Promise.all(emptied.map((g) => this.#registration.leave(g)));
      return;
    }
    const reader = this.#readers.get(channel);
    this.#readers.delete(channel);
    if (reader) await this.#store.requeue(channel, await reader.close(reason));
  }

  /**
   * Stops the inbox loop, rejects pending receives, puts back messages taken but not handed out, leaves its
   * group registrations and deletes its inbox. Its connections belong to the RoleClients and close with it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reason = new NaboomError('NABOOM_SHUTTING_DOWN', 'The channel layer is closed');
    await this.#inbox?.stop();
    const groups = await this.#registration.close();
    const readers = [...this.#readers];
    this.#readers.clear();
    this.#local.closeAll(reason);
    const settled = await Promise.allSettled([
      ...readers.map(async ([channel, r]) => this.#store.requeue(channel, await r.close(reason))),
      ...this.#store.cleanup(groups),
    ]);
    for (const s of settled) if (s.status === 'rejected') this.#log.warn({ err: s.reason as unknown }, 'channel layer cleanup step failed');
  }

  #reader(channel: string): QueueReader {
    let r = this.#readers.get(channel);
    if (!r) {
      this.#pool ??= new BlockingPool((n) => this.#clients.dedicated('websocket', `channels-recv-${this.processId}-${n}`));
      r = new QueueReader({
        key: this.#keys.channels.queue(channel),
        channel,
        command: this.#redis,
        pool: this.#pool,
        batch: this.#batch,
        logger: this.#log,
        accept: (raw) => this.#receiver.queued(channel, raw),
        requeue: (raws) => this.#store.requeue(channel, raws),
      });
      this.#readers.set(channel, r);
    }
    return r;
  }

  /** One frozen copy shared by every local member (the caller keeps its own object). */
  #deliverGroup(group: string, message: ChannelMessage, now: number): LocalDelivery {
    const result = this.#local.deliverGroup(group, deepFreeze(structuredClone(message)), now + this.#expiryMs, now);
    this.#receiver.reportSkipped(group, result.skipped);
    return result;
  }

  #full(channel: string): never {
    this.#metrics.channelFull.inc({ operation: 'send' });
    this.#log.warn({ channel }, 'channel full: message not stored');
    throw new NaboomError('NABOOM_CHANNEL_FULL', `Channel ${channel} is full (capacity ${this.#config.settings.CHANNEL_CAPACITY}); the message was not stored`);
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

  #reject(reason: RejectReason, source: string): void {
    this.#metrics.channelRejected.inc({ reason });
    this.#log.warn({ reason, source }, 'channel-layer message rejected, not delivered');
  }

  #assertOpen(): void {
    if (this.#closed) throw new NaboomError('NABOOM_SHUTTING_DOWN', 'The channel layer is closed');
  }
}
