/**
 * A running Naboom stack for end-to-end tests: our own redis-server with the generated ACL, `startServer`
 * on a free port, accounts with API tokens, and every log line captured (to prove no secret is logged).
 */
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { startServer, type RunningServer } from '../../src/start/server.js';
import { startTestRedis, type TestRedis, type TestRedisOptions } from './redis.js';

export interface Account {
  readonly username: string;
  readonly password: string;
  readonly token: string;
  readonly id: string;
}

export interface Stack {
  readonly redis: TestRedis;
  readonly server: RunningServer;
  readonly url: string;
  readonly admin: Redis;
  readonly logs: string[];
  readonly member: Account;
  readonly member2: Account;
  readonly responder: Account;
  readonly admin_: Account;
  stop(): Promise<void>;
}

export async function startStack(opts: TestRedisOptions & { escalationIntervalMs?: number; dashboardDir?: string } = {}): Promise<Stack> {
  const redis = await startTestRedis(opts);
  const logs: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  });
  const server = await startServer({ config: redis.config, keys: redis.keys, logger, port: 0, host: '127.0.0.1', dashboardDir: opts.dashboardDir ?? '/nonexistent', ...(opts.escalationIntervalMs ? { escalationIntervalMs: opts.escalationIntervalMs } : {}) });
  const admin = await connectAdmin(redis.config);
  const make = async (username: string, role: 'member' | 'responder' | 'admin'): Promise<Account> => {
    const password = `${username}-Passw0rd-123`;
    const u = await server.users.add(username, role, password);
    return { username, password, id: u.id, token: await server.users.issueToken(username) };
  };
  const [member, member2, responder, admin_] = await Promise.all([make('mia', 'member'), make('max', 'member'), make('rita', 'responder'), make('ada', 'admin')]);
  return {
    redis,
    server,
    url: server.url,
    admin,
    logs,
    member,
    member2,
    responder,
    admin_,
    stop: async () => {
      admin.disconnect();
      await server.stop();
      await redis.stop();
    },
  };
}

export const auth = (a: Account): Record<string, string> => ({ authorization: `Bearer ${a.token}` });

export const sampleAlert = (over: Record<string, unknown> = {}) => ({ type: 'panic', severity: 'high', location: { lat: -33.9249, lon: 18.4241, accuracy_m: 25, address: '1 Long St, Cape Town' }, ...over });

/** POST JSON and return status, headers and parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** How often `until` looks at what a live client received: short, so latencies measured around it stay honest. */
const FRAME_POLL_MS = 2;

export interface Frame {
  type: string;
  id?: string;
  alert?: { id: string; status: string; severity: string; history: { event: string }[] };
  [k: string]: unknown;
}

/** A WebSocket client that records frames and can wait for a condition. */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  closed: { code: number; reason: string } | undefined;

  constructor(baseUrl: string, headers: Record<string, string>) {
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers });
    this.ws.on('message', (d: Buffer) => {
      this.frames.push(JSON.parse(d.toString()) as Frame);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  async open(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  subscribe(msg: Record<string, unknown> = {}): void {
    this.ws.send(JSON.stringify({ type: 'subscribe', ...msg }));
  }

  /** Resolves once `pred` holds for the frames received so far (or rejects after `ms`). */
  async until(pred: (frames: Frame[]) => boolean, ms = 5000): Promise<void> {
    await waitFor(
      () => `the frames to match; frames: ${JSON.stringify(this.frames.map((f) => [f.type, f.id]))}`,
      () => {
        if (pred(this.frames)) return true;
        if (this.closed) throw new Error(`socket closed ${JSON.stringify(this.closed)}`);
        return false;
      },
      { timeoutMs: ms, intervalMs: FRAME_POLL_MS },
    );
  }

  alerts(): Frame[] {
    return this.frames.filter((f) => f.type === 'alert' || f.type === 'alert.updated');
  }

  close(): void {
    this.ws.close();
  }
}

export interface SseEvent {
  id?: string;
  event: string;
  data: Frame;
}

/** A minimal EventSource over fetch: records events, supports Last-Event-ID. */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly #abort = new AbortController();
  #done: Promise<void> | undefined;
  status = 0;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  async open(): Promise<void> {
    const res = await fetch(this.url, { headers: { accept: 'text/event-stream', ...this.headers }, signal: this.#abort.signal });
    this.status = res.status;
    if (!res.ok || !res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    this.#done = (async () => {
      try {
        for (;;) {
          const chunk = (await reader.read()) as { done: true; value?: undefined } | { done: false; value: Uint8Array };
          if (chunk.done) break;
          buf += decoder.decode(chunk.value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev: Partial<SseEvent> & { dataLines: string[] } = { dataLines: [] };
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) ev.id = line.slice(4);
              else if (line.startsWith('event: ')) ev.event = line.slice(7);
              else if (line.startsWith('data: ')) ev.dataLines.push(line.slice(6));
            }
            if (ev.event) this.events.push({ ...(ev.id ? { id: ev.id } : {}), event: ev.event, data: JSON.parse(ev.dataLines.join('\n')) as Frame });
          }
        }
      } catch {
        // aborted
      }
    })();
  }

  /** Resolves once `pred` holds for the events received so far (or rejects after `ms`). */
  async until(pred: (events: SseEvent[]) => boolean, ms = 5000): Promise<void> {
    await waitFor(() => `the events to match; events: ${JSON.stringify(this.events.map((e) => [e.event, e.id]))}`, () => pred(this.events), { timeoutMs: ms, intervalMs: FRAME_POLL_MS });
  }

  alertIds(): string[] {
    return this.events.filter((e) => e.event === 'alert' || e.event === 'alert.updated').map((e) => e.id ?? '');
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}
