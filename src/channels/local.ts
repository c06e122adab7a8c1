/**
 * This process's local channels and its local group members, all in memory. A group delivery from the inbox
 * (or from `deliverLocal`) reaches every local member here with no Redis call; each channel is bounded by
 * the capacity, and a full one is reported, never silently skipped.
 */
import { deepFreeze, type ChannelMessage } from './schema.js';
import { Deque, WaiterQueue, type ReceiveOptions } from './waiters.js';

interface Queued {
  readonly message: ChannelMessage;
  readonly expiresAt: number;
}

/** One process-local channel: a bounded FIFO and the receives waiting on it. */
export class LocalQueue {
  readonly #items = new Deque<Queued>();
  readonly #waiters = new WaiterQueue<ChannelMessage>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#items.length;
  }

  /** Queues (or hands over) a message; false when the channel is full. */
  offer(message: ChannelMessage, expiresAt: number, now: number): boolean {
    if (this.#items.length === 0 && this.#waiters.resolveNext(message)) return true;
    if (this.#items.length >= this.capacity) {
      for (let head = this.#items.peek(); head && head.expiresAt <= now; head = this.#items.peek()) this.#items.shift();
      if (this.#items.length >= this.capacity) return false;
    }
    this.#items.push({ message, expiresAt });
    return true;
  }

  take(opts: ReceiveOptions, now: number): Promise<ChannelMessage> {
    for (let item = this.#items.shift(); item; item = this.#items.shift()) {
      if (item.expiresAt > now) return Promise.resolve(item.message);
    }
    return this.#waiters.wait(opts);
  }

  close(reason: Error): void {
    this.#items.drain();
    this.#waiters.rejectAll(reason);
  }
}

export interface LocalDelivery {
  readonly delivered: number;
  /** Members that were full: the message was not queued for them. */
  readonly skipped: string[];
}

/** The local side of the layer: channels made by `newChannel()` and their group memberships. */
export class LocalChannels {
  readonly #channels = new Map<string, LocalQueue>();
  /** group → member channel → time added (ms). */
  readonly #groups = new Map<string, Map<string, number>>();
  readonly #capacity: number;
  readonly #groupExpiryMs: number;

  constructor(opts: { capacity: number; groupExpiryMs: number }) {
    this.#capacity = opts.capacity;
    this.#groupExpiryMs = opts.groupExpiryMs;
  }

  open(channel: string): void {
    if (!this.#channels.has(channel)) this.#channels.set(channel, new LocalQueue(this.#capacity));
  }

  get(channel: string): LocalQueue | undefined {
    return this.#channels.get(channel);
  }

  get channelCount(): number {
    return this.#channels.size;
  }

  /** Adds an open channel to a group; false when the channel is not open here. */
  join(group: string, channel: string, now: number): boolean {
    if (!this.#channels.has(channel)) return false;
    let members = this.#groups.get(group);
    if (!members) this.#groups.set(group, (members = new Map<string, number>()));
    members.set(channel, now);
    return true;
  }

  /** Removes a member; returns true when the group has no local member left. */
  leave(group: string, channel: string): boolean {
    const members = this.#groups.get(group);
    if (!members) return true;
    members.delete(channel);
    if (members.size > 0) return false;
    this.#groups.delete(group);
    return true;
  }

  hasMembers(group: string): boolean {
    return (this.#groups.get(group)?.size ?? 0) > 0;
  }

  groupNames(): string[] {
    return [...this.#groups.keys()];
  }

  /** Closes a channel: pending receives are rejected with `reason`. Returns the groups it left empty. */
  discard(channel: string, reason: Error): string[] {
    this.#channels.get(channel)?.close(reason);
    this.#channels.delete(channel);
    const emptied: string[] = [];
    for (const [group, members] of this.#groups) {
      if (members.delete(channel) && members.size === 0) {
        this.#groups.delete(group);
        emptied.push(group);
      }
    }
    return emptied;
  }

  /** Delivers to one local channel; undefined when it is not open (closed socket), else whether it had room. */
  deliver(channel: string, message: ChannelMessage, expiresAt: number, now: number): boolean | undefined {
    return this.#channels.get(channel)?.offer(message, expiresAt, now);
  }

  /** Delivers one message to every live local member of a group; expired memberships are dropped here. */
  deliverGroup(group: string, message: ChannelMessage, expiresAt: number, now: number): LocalDelivery {
    const members = this.#groups.get(group);
    if (!members) return { delivered: 0, skipped: [] };
    const shared = deepFreeze(message);
    const cutoff = now - this.#groupExpiryMs;
    let delivered = 0;
    const skipped: string[] = [];
    for (const [channel, addedAt] of members) {
      const queue = this.#channels.get(channel);
      if (addedAt <= cutoff || !queue) {
        members.delete(channel);
        continue;
      }
      if (queue.offer(shared, expiresAt, now)) delivered += 1;
      else skipped.push(channel);
    }
    if (members.size === 0) this.#groups.delete(group);
    return { delivered, skipped };
  }

  closeAll(reason: Error): void {
    for (const q of this.#channels.values()) q.close(reason);
    this.#channels.clear();
    this.#groups.clear();
  }
}
