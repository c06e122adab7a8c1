/** Asking the Sentinels (as sentinel_user) where the master and its replicas are. */
import { Redis } from 'ioredis';
import type { Config, HostPort } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import { fieldText, replyFields } from './reply.js';
import { classifyTlsError, tlsConnectionOptions } from './tls.js';

/** A short-lived connection to one Sentinel as sentinel_user. */
export function sentinelConnection(config: Config, at: HostPort): Redis {
  const c = config.credentials.sentinel;
  return new Redis({
    host: at.host,
    port: at.port,
    ...(c.password ? { username: c.username, password: c.password.reveal() } : {}),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
    connectTimeout: 2000,
    tls: tlsConnectionOptions(config.tls),
  });
}

/** The first Sentinel that answers tells where the master and its replicas are. */
export async function sentinelView(config: Config): Promise<{ master: HostPort; replicas: HostPort[] }> {
  if (config.topology.kind !== 'sentinel') throw new NaboomError('NABOOM_CONFIG_INVALID', 'not a Sentinel topology');
  const name = config.topology.masterName;
  let last: unknown;
  for (const s of config.topology.sentinels) {
    const c = sentinelConnection(config, s);
    // A failed handshake surfaces as "Connection is closed." on the command: keep the handshake's own error.
    let handshake: Error | undefined;
    c.on('error', (e: Error) => {
      handshake ??= classifyTlsError(e, config.tls, `Sentinel ${s.host}:${s.port}`);
    });
    try {
      await c.connect();
      const addr = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
      if (!addr) throw new NaboomError('NABOOM_REDIS_UNAVAILABLE', `Sentinel ${s.host}:${s.port} does not know master "${name}"`);
      const replicas = ((await c.call('SENTINEL', 'REPLICAS', name)) as unknown[])
        .map(replyFields)
        .filter((f) => !fieldText(f, 'flags').includes('s_down') && !fieldText(f, 'flags').includes('disconnected'))
        .map((f) => ({ host: fieldText(f, 'ip'), port: Number(fieldText(f, 'port')) }));
      return { master: { host: addr[0], port: Number(addr[1]) }, replicas };
    } catch (err) {
      last = handshake ?? err;
    } finally {
      c.disconnect();
    }
  }
  throw last instanceof Error ? last : new NaboomError('NABOOM_REDIS_UNAVAILABLE', 'No Sentinel answered');
}
