/**
 * A local push service for the tests: `web-push-testing` (checks the VAPID signature and decrypts each
 * payload) in a child process on a free port, behind a small recording proxy of our own that keeps the RFC
 * 8030 headers of every request (the service does not report Urgency or Topic) and can answer 5xx on demand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from '../../src/local/redis-server.js';
import { waitFor } from '../../src/local/wait.js';

export interface Recorded {
  readonly hash: string;
  readonly at: number;
  readonly headers: Record<string, string | undefined>;
  readonly status: number;
}

export interface BrowserSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  readonly clientHash: string;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class MockPushService {
  readonly requests: Recorded[] = [];
  /** Per client hash: how many of the next requests answer 503. */
  readonly failNext = new Map<string, number>();
  #child: ChildProcess | undefined;
  #proxy: Server | undefined;
  #servicePort = 0;
  #proxyPort = 0;

  /** Starts the service and the proxy; resolves once both answer. */
  async start(): Promise<void> {
    this.#servicePort = await freePort();
    const pkg = createRequire(import.meta.url).resolve('web-push-testing/package.json');
    this.#child = spawn(process.execPath, [join(dirname(pkg), 'src', 'bin', 'server.js'), String(this.#servicePort)], { stdio: 'ignore' });
    await waitFor('web-push-testing to answer /status', async () => {
      try {
        return (await fetch(`${this.#service}/status`, { method: 'POST' })).ok;
      } catch {
        return false;
      }
    });
    this.#proxy = createServer((req, res) => {
      void this.#relay(req).then(
        ({ status, text }) => res.writeHead(status, { 'content-type': 'application/json' }).end(text),
        (err: unknown) => res.writeHead(502).end(String(err)),
      );
    });
    await new Promise<void>((resolve) => this.#proxy?.listen(0, '127.0.0.1', resolve));
    this.#proxyPort = (this.#proxy.address() as AddressInfo).port;
  }

  get #service(): string {
    return `http://127.0.0.1:${this.#servicePort}`;
  }

  async #relay(req: IncomingMessage): Promise<{ status: number; text: string }> {
    const hash = /^\/notify\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
    const payload = await body(req);
    const headers: Record<string, string | undefined> = {};
    for (const h of ['ttl', 'urgency', 'topic', 'content-encoding', 'authorization', 'content-type']) headers[h] = req.headers[h] as string | undefined;
    const fail = this.failNext.get(hash) ?? 0;
    if (fail > 0) {
      this.failNext.set(hash, fail - 1);
      this.requests.push({ hash, at: performance.now(), headers, status: 503 });
      return { status: 503, text: '{"error":"try later"}' };
    }
    const fwd: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) fwd[k] = v;
    const res = await fetch(`${this.#service}${req.url ?? '/'}`, { method: 'POST', headers: fwd, body: payload });
    const text = await res.text();
    this.requests.push({ hash, at: performance.now(), headers, status: res.status });
    return { status: res.status, text };
  }

  /** A browser subscribing with the server's VAPID key; its endpoint points at the recording proxy. */
  async subscribe(applicationServerKey: string): Promise<BrowserSubscription> {
    const res = await fetch(`${this.#service}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userVisibleOnly: 'true', applicationServerKey }) });
    const { data } = (await res.json()) as { data: BrowserSubscription };
    const path = new URL(data.endpoint).pathname;
    return { endpoint: `http://127.0.0.1:${this.#proxyPort}${path}`, keys: data.keys, clientHash: data.clientHash };
  }

  /** The decrypted payloads the service received for a subscription. */
  async messages(clientHash: string): Promise<string[]> {
    const res = await fetch(`${this.#service}/get-notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientHash }) });
    const json = (await res.json()) as { data?: { messages?: string[] } };
    return json.data?.messages ?? [];
  }

  /** The browser unsubscribed: the service answers 410 from now on. */
  async expire(clientHash: string): Promise<void> {
    await fetch(`${this.#service}/expire-subscription/${clientHash}`, { method: 'POST' });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#proxy ? this.#proxy.close(() => resolve()) : resolve()));
    const child = this.#child;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
  }
}
