/**
 * An alert's thread: messages between the reporter, responders and admins, kept next to the alert's state
 * (`panic:thread:<id>`, a stream on the realtime role; same hash tag on Cluster) for as long as the state,
 * bounded by THREAD_MAX_MESSAGES. Each message is also a feed entry (`alert.message`), written by the same
 * script, so it goes live to whoever may see the alert and replays like any other event.
 */
import type { Config } from '../config/load.js';
import type { KeySpace } from '../redis/keys.js';
import { NaboomError } from '../errors/catalogue.js';
import type { RedisClient } from '../redis/connections.js';
import { replyFields, fieldText } from '../redis/reply.js';
import { defineScript } from '../redis/script.js';
import { MESSAGE_EVENT, threadMessage, type Actor, type AlertDoc, type ThreadMessage } from './model.js';
import type { Replication } from './replication.js';

export const POST_MESSAGE = defineScript(new URL('./lua/alert-message-2.lua', import.meta.url), {
  keys: ['feed', 'thread'],
  args: ['statePrefix', 'id', 'max', 'message', 'severity', 'reporter', 'ttl', 'maxlen', 'messageEvent'],
});

export type PostOutcome = { readonly kind: 'ok'; readonly message: ThreadMessage } | { readonly kind: 'missing' } | { readonly kind: 'full'; readonly count: number };

/** A stored message, checked; `undefined` when malformed. */
export function parseMessage(json: unknown): ThreadMessage | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const r = threadMessage.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export class AlertThreads {
  readonly #redis: RedisClient;
  readonly #config: Config;
  readonly #keys: KeySpace['alerts'];
  readonly #replication: Replication;

  constructor(redis: RedisClient, config: Config, keys: KeySpace['alerts'], replication: Replication) {
    this.#redis = redis;
    this.#config = config;
    this.#keys = keys;
    this.#replication = replication;
  }

  /** Appends a message to the alert's thread and the feed (atomic); refused when the thread is full. */
  async post(alert: AlertDoc, by: Actor, text: string): Promise<PostOutcome> {
    const s = this.#config.settings;
    const at = new Date().toISOString();
    // Key order is the message's (`id` is spliced in first by the script).
    const body = JSON.stringify({ alert_id: alert.id, at, by: { id: by.id, username: by.username }, text });
    const reply = (await POST_MESSAGE.run(this.#redis, {
      keys: { feed: this.#keys.feed, thread: this.#keys.thread(alert.id) },
      args: {
        statePrefix: this.#keys.statePrefix,
        id: alert.id,
        max: s.THREAD_MAX_MESSAGES,
        message: body,
        severity: alert.severity,
        reporter: alert.reporter.id,
        ttl: s.ALERT_STATE_TTL_DAYS * 86_400,
        maxlen: s.ALERT_STREAM_MAXLEN,
        messageEvent: MESSAGE_EVENT,
      },
    })) as (string | number)[];
    const [kind, a1] = reply;
    if (kind === 'missing') return { kind };
    if (kind === 'full') return { kind, count: Number(a1) };
    const message = parseMessage(a1);
    if (kind !== 'ok' || !message) throw new NaboomError('NABOOM_INTERNAL', 'A stored thread message failed validation');
    await this.#replication.confirm();
    return { kind: 'ok', message };
  }

  /** The alert's thread, oldest first (at most THREAD_MAX_MESSAGES); `after`: only messages after that id. */
  async list(alertId: string, after?: string, client: RedisClient = this.#redis): Promise<ThreadMessage[]> {
    const entries = (await client.xrange(this.#keys.thread(alertId), after ? `(${after}` : '-', '+', 'COUNT', this.#config.settings.THREAD_MAX_MESSAGES)) as [string, string[]][];
    return entries.map(([, flat]) => parseMessage(fieldText(replyFields(flat), 'm'))).filter((m): m is ThreadMessage => m !== undefined);
  }
}
