/**
 * `naboom verify` round trips for the channel layer: two layers with their own connections stand in for two
 * processes; a message crosses between them through a normal channel and through a process inbox, and a
 * group send reaches local members of both. Everything created is removed again.
 */
import { randomBytes } from 'node:crypto';
import { NaboomError } from '../errors/catalogue.js';
import { Metrics } from '../metrics/registry.js';
import { RoleClients } from '../redis/connections.js';
import type { CheckResult, VerifyContext } from '../verify/types.js';
import { ChannelLayer } from './layer.js';

const TIMEOUT_MS = 5000;

interface Proc {
  readonly clients: RoleClients;
  readonly layer: ChannelLayer;
}

function hintFor(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/NOPERM|can't run|can't access/.test(msg)) return 'The websocket role lacks a grant the channel layer needs: run `naboom acl diff`, then `naboom acl apply`.';
  if (/WRONGPASS|NOAUTH/.test(msg)) return 'Check REDIS_WEBSOCKET_PASSWORD and run `naboom acl diff`.';
  if (err instanceof DOMException && err.name === 'TimeoutError') return 'Nothing arrived in time: are the websocket role grants complete (`naboom acl diff`) and is Redis overloaded?';
  return 'Read the detail; `naboom acl diff` shows a websocket role that differs from the desired rules.';
}

/** Runs the channel-layer round trips as the websocket role and reports one check per round trip. */
export async function channelRoundTrips(ctx: VerifyContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const nonce = randomBytes(6).toString('hex');
  const check = async (name: string, run: () => Promise<string>): Promise<void> => {
    const started = Date.now();
    try {
      const detail = await run();
      out.push({ section: 'roundtrip', role: 'websocket', name, status: 'pass', detail: `${detail} (${Date.now() - started} ms)` });
    } catch (err) {
      out.push({ section: 'roundtrip', role: 'websocket', name, status: 'fail', detail: err instanceof Error ? err.message : String(err), hint: hintFor(err) });
    }
  };
  if (ctx.config.secretKeys.length === 0) {
    await check('channel layer round trips', () => Promise.reject(new NaboomError('NABOOM_CONFIG_MISSING_SECRET', 'SECRET_KEY is not set: the channel layer encrypts every message')));
    return out;
  }

  const logger = ctx.logger.child({ component: 'verify-channels' });
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const clients = new RoleClients(ctx.config, logger);
      procs.push({ clients, layer: new ChannelLayer({ clients, config: ctx.config, keys: ctx.keys, logger, metrics: new Metrics() }) });
    }
    const [a, b] = procs as [Proc, Proc];
    await a.layer.start();
    await b.layer.start();
    const ping = { type: 'verify.ping', nonce };
    const expectPing = (got: Record<string, unknown>): void => {
      if (got['nonce'] !== nonce) throw new Error(`received a different message (${String(got['type'])})`);
    };

    await check('channel layer: send → receive between two processes (normal channel)', async () => {
      const channel = `naboom-verify.${nonce}`;
      await a.layer.send(channel, ping);
      expectPing(await b.layer.receive(channel, { timeoutMs: TIMEOUT_MS }));
      return 'encrypted, queued, received';
    });

    await check('channel layer: send → receive to another process (process inbox)', async () => {
      const channel = b.layer.newChannel('verify');
      await a.layer.send(channel, ping);
      expectPing(await b.layer.receive(channel, { timeoutMs: TIMEOUT_MS }));
      await b.layer.discardChannel(channel);
      return 'delivered through the inbox';
    });

    await check('channel layer: group send across two processes', async () => {
      const group = `naboom-verify.${nonce}`;
      const ca = a.layer.newChannel('verify');
      const cb = b.layer.newChannel('verify');
      await a.layer.groupAdd(group, ca);
      await b.layer.groupAdd(group, cb);
      try {
        const r = await a.layer.groupSend(group, ping);
        expectPing(await a.layer.receive(ca, { timeoutMs: TIMEOUT_MS }));
        expectPing(await b.layer.receive(cb, { timeoutMs: TIMEOUT_MS }));
        if (r.processes !== 1 || r.local !== 1) throw new Error(`unexpected fan-out: ${r.processes} other processes, ${r.local} local members`);
        return 'one envelope to the other process, both members received';
      } finally {
        await Promise.allSettled([a.layer.groupDiscard(group, ca), b.layer.groupDiscard(group, cb)]);
      }
    });
  } finally {
    for (const p of procs) {
      await p.layer.close().catch((err: unknown) => logger.warn({ err }, 'closing the verify channel layer failed'));
      await p.clients.close();
    }
  }
  return out;
}
