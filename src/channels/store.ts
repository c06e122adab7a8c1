/**
 * Every write the channel layer makes to Redis, each one round trip: sealed envelopes into bounded lists,
 * group memberships with time scores, and the group send. The layer decides what to write; this decides how.
 */
import type { KeySpace } from '../redis/keys.js';
import type { RedisClient } from '../redis/connections.js';
import { NaboomError } from '../errors/catalogue.js';
import type { EnvelopeCodec } from './envelope.js';
import { SCRIPTS } from './lua.js';
import type { ChannelMessage } from './schema.js';

export interface ChannelStoreDeps {
  /** The websocket role's request connection (fetched per call: RoleClients owns it). */
  redis(): RedisClient;
  readonly keys: KeySpace['channels'];
  readonly codec: EnvelopeCodec;
  readonly processId: string;
  readonly capacity: number;
  readonly expiryMs: number;
  readonly groupExpiryMs: number;
}

export interface GroupSendReply {
  readonly sentProcesses: number;
  readonly sentChannels: number;
  readonly fullProcesses: string[];
  readonly fullChannels: string[];
}

export class ChannelStore {
  readonly #d: ChannelStoreDeps;

  constructor(deps: ChannelStoreDeps) {
    this.#d = deps;
  }

  /** Queues a message for a normal channel or another process's local channel; false when full. */
  send(channel: string, owner: string | undefined, message: ChannelMessage, now: number): Promise<boolean> {
    const key = owner === undefined ? this.#d.keys.queue(channel) : this.#d.keys.inbox(owner);
    return this.#push(key, { k: 'm', c: channel, m: message }, now);
  }

  /** Adds a normal channel to a group. */
  async addChannel(group: string, channel: string, now: number): Promise<void> {
    const d = this.#d;
    await SCRIPTS.groupAdd.run(d.redis(), { keys: { members: d.keys.group(group) }, args: { member: channel, now, groupTtl: d.groupExpiryMs } });
  }

  /** Registers `owner` for the group and queues it the control envelope that adds its channel; false when its inbox is full. */
  async addRemote(group: string, channel: string, owner: string, now: number): Promise<boolean> {
    const d = this.#d;
    const control = d.codec.seal(JSON.stringify({ k: 'a', g: group, c: channel }), now + d.expiryMs);
    const reply = await SCRIPTS.groupAdd.run(d.redis(), {
      keys: { members: d.keys.groupProcesses(group), inbox: d.keys.inbox(owner) },
      args: { member: owner, now, groupTtl: d.groupExpiryMs, control, capacity: d.capacity, ttl: d.expiryMs },
    });
    return reply === 1;
  }

  async discardChannel(group: string, channel: string): Promise<void> {
    await this.#d.redis().zrem(this.#d.keys.group(group), channel);
  }

  /** Queues the owner the control envelope that removes its channel; false when its inbox is full. */
  async discardRemote(group: string, channel: string, owner: string, now: number): Promise<boolean> {
    return await this.#push(this.#d.keys.inbox(owner), { k: 'd', g: group, c: channel }, now);
  }

  /** Registers this process as holding local members of a group (score = now, so it expires like them). */
  async register(group: string): Promise<void> {
    const d = this.#d;
    await SCRIPTS.groupAdd.run(d.redis(), { keys: { members: d.keys.groupProcesses(group) }, args: { member: d.processId, now: Date.now(), groupTtl: d.groupExpiryMs } });
  }

  /** Leaves a group's process set; false while envelopes still wait in this process's inbox (see group-leave-2.lua). */
  async leave(group: string): Promise<boolean> {
    const d = this.#d;
    const keys = { processes: d.keys.groupProcesses(group), inbox: d.keys.inbox(d.processId) };
    return (await SCRIPTS.groupLeave.run(d.redis(), { keys, args: { process: d.processId } })) === 1;
  }

  /** One envelope per other registered process, one push per non-local member; this process is skipped. */
  async groupSend(group: string, message: ChannelMessage, now: number): Promise<GroupSendReply> {
    const d = this.#d;
    const sealed = d.codec.seal(JSON.stringify({ k: 'g', g: group, m: message }), now + d.expiryMs);
    const keys = { channels: d.keys.group(group), processes: d.keys.groupProcesses(group) };
    const args = { payload: sealed, now, cutoff: now - d.groupExpiryMs, capacity: d.capacity, ttl: d.expiryMs, queuePrefix: d.keys.queuePrefix, inboxPrefix: d.keys.inboxPrefix, sender: d.processId };
    return parseGroupSendReply(await SCRIPTS.groupSend.run(d.redis(), { keys, args }));
  }

  /**
   * Puts messages back at the head of a normal channel, oldest first. The list may have been emptied (and so
   * deleted) by the pop, so the expiry is set again: a put-back list must vanish like any other.
   */
  async requeue(channel: string, raws: Buffer[]): Promise<void> {
    if (raws.length === 0) return;
    const key = this.#d.keys.queue(channel);
    const results = await this.#d.redis().pipeline().lpush(key, ...[...raws].reverse()).pexpire(key, this.#d.expiryMs).exec();
    const failed = results?.find(([err]) => err)?.[0];
    if (failed) throw failed;
  }

  /** Cleanup on close: leave every group this process registered for and delete its inbox. */
  cleanup(groups: readonly string[]): Promise<unknown>[] {
    const { keys, processId } = this.#d;
    const redis = this.#d.redis();
    return [...groups.map((g) => redis.zrem(keys.groupProcesses(g), processId)), redis.del(keys.inbox(processId))];
  }

  #push(key: string, payload: object, now: number): Promise<boolean> {
    const d = this.#d;
    const sealed = d.codec.seal(JSON.stringify(payload), now + d.expiryMs);
    return SCRIPTS.send.run(d.redis(), { keys: { list: key }, args: { payload: sealed, capacity: d.capacity, ttl: d.expiryMs, now } }).then((r) => r === 1);
  }
}

function parseGroupSendReply(reply: unknown): GroupSendReply {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  if (!Array.isArray(reply) || reply.length !== 4) throw new NaboomError('NABOOM_INTERNAL', 'Unexpected reply from the group-send script');
  return { sentProcesses: Number(reply[0]), sentChannels: Number(reply[1]), fullProcesses: strings(reply[2]), fullChannels: strings(reply[3]) };
}
