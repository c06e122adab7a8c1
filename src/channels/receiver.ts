/**
 * The inbound side: every element read from Redis is opened (authenticated, decrypted), validated and only
 * then acted on. A tampered element, one sealed with a key we do not hold, or one that fails the schema is
 * counted, logged and never delivered; an expired one is dropped.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { EnvelopeCodec, RejectReason } from './envelope.js';
import type { LocalChannels } from './local.js';
import { groupLabel, isProcessId } from './names.js';
import type { Accepted } from './queue-reader.js';
import { deepFreeze, storedSchema, type Stored } from './schema.js';

export type Rejecter = (reason: RejectReason, source: string) => void;

export interface ReceiverDeps {
  readonly processId: string;
  readonly codec: EnvelopeCodec;
  readonly local: LocalChannels;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reject: Rejecter;
  /** A local channel overflowed. */
  full(channel: string): void;
  /** Work started by an inbox envelope (group registration); the layer awaits it on close. */
  background(task: Promise<void>): void;
  register(group: string): Promise<void>;
  leave(group: string): Promise<void>;
}

const MAX_LOGGED_NAMES = 20;

export class Receiver {
  readonly #d: ReceiverDeps;

  constructor(deps: ReceiverDeps) {
    this.#d = deps;
  }

  /** An element popped from a normal channel's list. */
  queued(channel: string, raw: Buffer): Accepted | undefined {
    const item = this.#open(raw, `channel ${channel}`);
    if (!item) return undefined;
    const { stored, expiresAt } = item;
    if (stored.k === 'g' || (stored.k === 'm' && stored.c === channel)) return { message: stored.m, expiresAt };
    this.#d.reject('invalid', `channel ${channel}`);
    return undefined;
  }

  /** One batch popped from this process's inbox, applied in order. */
  inbox(raws: Buffer[]): void {
    const now = Date.now();
    for (const raw of raws) {
      const item = this.#open(raw, 'inbox');
      if (!item) continue;
      const { stored, expiresAt } = item;
      if (expiresAt <= now) {
        this.#d.logger.debug({ kind: stored.k }, 'expired inbox envelope dropped');
        continue;
      }
      if (stored.k !== 'g' && !this.#ours(stored.c)) {
        this.#d.reject('invalid', 'inbox');
        continue;
      }
      this.#apply(stored, expiresAt, now);
    }
  }

  /** Counts, logs and reports local group members that were full. */
  reportSkipped(group: string, skipped: readonly string[]): void {
    if (skipped.length === 0) return;
    this.#d.metrics.groupSkipped.inc({ group: groupLabel(group) }, skipped.length);
    this.#d.logger.warn({ group, channels: skipped.slice(0, MAX_LOGGED_NAMES), count: skipped.length }, 'group delivery skipped full local channels');
    for (const c of skipped) this.#d.full(c);
  }

  #apply(stored: Stored, expiresAt: number, now: number): void {
    const { local } = this.#d;
    switch (stored.k) {
      case 'm': {
        const ok = local.deliver(stored.c, deepFreeze(stored.m), expiresAt, now);
        if (ok === undefined) this.#d.logger.debug({ channel: stored.c }, 'message for a closed local channel dropped');
        if (ok === false) {
          this.#d.metrics.channelFull.inc({ operation: 'deliver' });
          this.#d.logger.warn({ channel: stored.c }, 'local channel full: message not queued');
          this.#d.full(stored.c);
        }
        return;
      }
      case 'g':
        this.reportSkipped(stored.g, local.deliverGroup(stored.g, stored.m, expiresAt, now).skipped);
        return;
      case 'a':
        // The adding process registered us already; registering again covers a leave that raced with it.
        if (local.join(stored.g, stored.c, now)) this.#d.background(this.#d.register(stored.g));
        return;
      case 'd':
        if (local.leave(stored.g, stored.c)) this.#d.background(this.#d.leave(stored.g));
        return;
    }
  }

  #ours(channel: string): boolean {
    const bang = channel.indexOf('!');
    const head = bang < 0 ? '' : channel.slice(0, bang);
    const pid = head.slice(head.lastIndexOf('.') + 1);
    return isProcessId(pid) && pid === this.#d.processId;
  }

  #open(raw: Buffer, source: string): { stored: Stored; expiresAt: number } | undefined {
    const opened = this.#d.codec.open(raw);
    if (!opened.ok) {
      this.#d.reject(opened.reason, source);
      return undefined;
    }
    const parsed = storedSchema.safeParse(opened.payload);
    if (!parsed.success) {
      this.#d.reject('invalid', source);
      return undefined;
    }
    return { stored: parsed.data, expiresAt: opened.expiresAt };
  }
}
