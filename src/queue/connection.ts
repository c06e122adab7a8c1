/**
 * The app-role Redis connections BullMQ runs on. We create the ioredis clients ourselves (BullMQ then shares
 * them and never closes them), so each is named `naboom:app:<pid>:<name>` in CLIENT LIST and ACL LOG, selects
 * the queue database on standalone, and can take a rotated password. BullMQ duplicates the worker's client
 * for its blocking connection and would name the copy after the queue; the copy keeps our naming instead.
 */
import { Cluster, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../config/load.js';
import { rereadPassword } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { createRoleClient, type RedisClient } from '../redis/connections.js';
import { DATABASES } from '../redis/databases.js';

export type QueueConnectionPurpose = 'command' | 'blocking';

export interface QueueConnection {
  readonly client: RedisClient;
  /** `naboom:app:<pid>:<name>` */
  readonly name: string;
  /** The most recent connection error (for a clear start-up failure instead of an endless retry). */
  readonly lastError: Error | undefined;
  /** Resolves with the first credential error (WRONGPASS, NOAUTH): start-up stops at once instead of retrying. */
  readonly authFailure: Promise<Error>;
  /** Re-reads the app password from its source; returns true when it changed (used from the next connect on). */
  reloadCredentials(): boolean;
  /** Drops the connection and its copies at once (pending commands fail), e.g. when Redis is gone at shutdown. */
  disconnect(): void;
  /** QUIT, or disconnect after a short grace. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens one app-role connection for BullMQ. `command` fails fast (producers on the request path); `blocking`
 * waits through outages (`maxRetriesPerRequest: null`, which BullMQ requires for workers).
 */
export function openQueueConnection(config: Config, purpose: QueueConnectionPurpose, name: string, logger: Logger): QueueConnection {
  const cred = config.credentials.app;
  const client = createRoleClient(config, cred, purpose, `${process.pid}:${name}`, DATABASES.queue);
  const connectionName = `naboom:app:${process.pid}:${name}`;
  const copies: RedisClient[] = [];
  let lastError: Error | undefined;
  let lastLogged = 0;
  let reportAuthFailure: (err: Error) => void = () => undefined;
  const authFailure = new Promise<Error>((resolve) => {
    reportAuthFailure = resolve;
  });
  const onError = (err: unknown): void => {
    lastError = err instanceof Error ? err : new Error(String(err));
    if (isAuthError(lastError)) reportAuthFailure(lastError);
    const now = Date.now();
    if (now - lastLogged < 5000) return;
    lastLogged = now;
    logger.warn({ role: 'app', client: connectionName, err }, 'queue redis connection error');
  };
  client.on('error', onError);
  keepNameOnDuplicate(client, `${connectionName}-blocking`, (copy) => {
    copy.on('error', onError);
    copies.push(copy);
  });
  let closing: Promise<void> | undefined;
  return {
    client,
    name: connectionName,
    get lastError() {
      return lastError;
    },
    authFailure,
    reloadCredentials() {
      const fresh = rereadPassword(cred);
      if (!fresh) return false;
      let changed = false;
      for (const c of [client, ...copies]) {
        const target: RedisOptions = c instanceof Cluster ? (c.options.redisOptions ??= {}) : c.options;
        if (target.password !== fresh.reveal()) {
          target.password = fresh.reveal();
          changed = true;
        }
      }
      return changed;
    },
    disconnect() {
      for (const c of [client, ...copies]) c.disconnect();
    },
    close() {
      closing ??= (async () => {
        if (client.status === 'end') return;
        let timer: NodeJS.Timeout | undefined;
        // QUIT never settles on a connection that is down: give up on it after a second.
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 1000);
        });
        const quit = await Promise.race([client.quit().then(() => true, () => false), late.then(() => false)]);
        clearTimeout(timer);
        if (!quit) client.disconnect();
      })();
      return closing;
    },
  };
}

/** A refused login: retrying with the same password cannot help. */
export function isAuthError(err: Error): boolean {
  return /WRONGPASS|NOAUTH|invalid username-password/i.test(err.message);
}

/** Makes `duplicate()` keep our connection name (BullMQ passes its own) and reports every copy. */
function keepNameOnDuplicate(client: RedisClient, connectionName: string, onCopy: (copy: RedisClient) => void): void {
  if (client instanceof Cluster) {
    const original = client.duplicate.bind(client);
    const duplicate = (nodes?: ClusterNode[], options?: ClusterOptions): Cluster => {
      const copy = original(nodes, { ...options, redisOptions: { ...client.options.redisOptions, ...options?.redisOptions, connectionName } });
      onCopy(copy);
      return copy;
    };
    client.duplicate = duplicate;
    return;
  }
  const original = client.duplicate.bind(client);
  const duplicate = (override?: Partial<RedisOptions>): RedisClient => {
    const copy = original({ ...override, connectionName });
    onCopy(copy);
    return copy;
  };
  client.duplicate = duplicate as typeof client.duplicate;
}
