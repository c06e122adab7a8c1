/**
 * Whether this process is registered in a group's process set — the set the group-send script writes one
 * envelope per entry to. It registers when it gains a local member and leaves when its last one is gone.
 * Leaving waits while envelopes sit in its inbox (one may be another process adding a member here); such a
 * leave is retried after the next inbox batch, a bounded number of times, after which it simply expires.
 */
import type { Logger } from '../log/logger.js';
import type { LocalChannels } from './local.js';
import type { ChannelStore } from './store.js';

const MAX_LEAVE_ATTEMPTS = 100;

export class Registration {
  readonly #store: ChannelStore;
  readonly #local: LocalChannels;
  readonly #log: Logger;
  /** Registration updates started by inbox envelopes; awaited on close. */
  readonly #background = new Set<Promise<void>>();
  /** Groups still to leave (their leave met a busy inbox), with attempts so far. */
  readonly #pending = new Map<string, number>();
  #retrying = false;
  #closed = false;

  constructor(deps: { store: ChannelStore; local: LocalChannels; logger: Logger }) {
    this.#store = deps.store;
    this.#local = deps.local;
    this.#log = deps.logger;
  }

  /** Registers (or refreshes: the score is the time, so it expires like the memberships) this process. */
  async register(group: string): Promise<void> {
    await this.#store.register(group);
  }

  /** Leaves after the last local member left; registers again if a member joined meanwhile. */
  async leave(group: string): Promise<void> {
    const left = await this.#store.leave(group);
    if (this.#local.hasMembers(group)) {
      this.#pending.delete(group);
      if (!this.#closed) await this.#store.register(group);
      return;
    }
    const attempts = (this.#pending.get(group) ?? 0) + 1;
    if (left || attempts > MAX_LEAVE_ATTEMPTS) this.#pending.delete(group);
    else this.#pending.set(group, attempts);
  }

  /** Runs a registration update in the background (from the inbox loop, which must not wait for Redis). */
  background(task: Promise<void>): void {
    const tracked = task
      .catch((err: unknown) => this.#log.warn({ err }, 'group registration update failed'))
      .finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  /** After an inbox batch: the inbox was just drained, a good moment for leaves that had to wait. */
  retryPending(): void {
    if (this.#pending.size === 0 || this.#retrying || this.#closed) return;
    this.#retrying = true;
    const retry = Promise.all([...this.#pending.keys()].map((g) => this.leave(g))).finally(() => {
      this.#retrying = false;
    });
    this.background(retry.then(() => undefined));
  }

  /** Stops retrying, waits for running updates, and returns every group this process may still be registered in. */
  async close(): Promise<string[]> {
    this.#closed = true;
    await Promise.all([...this.#background]);
    return [...new Set([...this.#local.groupNames(), ...this.#pending.keys()])];
  }
}
