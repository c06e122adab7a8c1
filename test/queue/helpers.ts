/** Shared pieces of the queue tests: a webhook receiver, waiting for a job to settle, a sample event, ACL LOG. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { waitFor } from '../../src/local/wait.js';
import type { NotificationEvent } from '../../src/queue/events.js';
import { parseAclLog, type AclLogEntry } from '../../src/verify/acl-checks.js';

export interface ReceivedRequest {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the receiver answers: a status, or `hang` (never answer; the socket is destroyed at close). */
export type Reply = number | 'hang' | { status: number; afterMs?: number; release?: Promise<void> };

export interface Receiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Decides the reply per request (default 200). */
  reply: (req: ReceivedRequest, index: number) => Reply;
  close(): Promise<void>;
}

/** A local HTTP server standing in for a webhook receiver. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = { at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      const decision = receiver.reply(r, requests.length - 1);
      if (decision === 'hang') return;
      const { status, afterMs, release } = typeof decision === 'number' ? { status: decision, afterMs: 0, release: undefined } : decision;
      const send = (): void => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `nope ${status}`);
      };
      if (release) void release.then(send);
      else setTimeout(send, afterMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: () => 200,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** Waits until a job reaches `completed` or `failed` and returns the state. */
export async function settled(queue: Pick<Queue, 'getJobState'>, id: string, timeoutMs = 10_000): Promise<'completed' | 'failed'> {
  return await waitFor(`job ${id} to finish`, async () => {
    const s = await queue.getJobState(id);
    return s === 'completed' || s === 'failed' ? s : undefined;
  }, { timeoutMs });
}

export function sampleEvent(id = '1712345678901-0', event: NotificationEvent['event'] = 'alert.raised'): NotificationEvent {
  return {
    v: 1,
    event,
    alert: {
      id,
      type: 'panic',
      severity: 'critical',
      status: 'open',
      location: { lat: -33.9249, lon: 18.4241, accuracy_m: 12, address: '1 Long St, Cape Town' },
      description: 'Break-in next door',
      reporter: { id: 'u-1', username: 'thandi' },
      created_at: '2026-11-27T09:00:00.000+02:00',
    },
    at: '2026-11-27T09:00:01.000+02:00',
  };
}

/** ACL LOG entries, minus those of clients the test named on purpose (its deliberate denials). */
export async function aclLog(admin: Redis, exceptClientNames: readonly string[] = []): Promise<AclLogEntry[]> {
  const entries = parseAclLog(await admin.call('ACL', 'LOG', '512'));
  return entries.filter((e) => !exceptClientNames.includes(e.clientName ?? ''));
}
