/**
 * The one place that works around ws: a server-side WebSocket as the live feed uses it. Everything goes
 * through ws's public API except one write path, `sendFramed`, which puts an event's complete pre-built
 * frame (framed once for every socket, see frames.ts) straight onto the TCP socket ws frames onto, in one
 * write — instead of ws framing the same bytes again for each socket and writing header and payload
 * separately — and `cork`/`uncork`, which hold that socket's writes so that every frame of one feed read
 * leaves in a single `writev`.
 *
 * The private access: ws keeps that socket in `_socket`, which is not in its types or documentation. The
 * write is sound only because this server never negotiates permessage-deflate and never sends fragments or
 * Blobs, so ws's sender has nothing queued that a direct write could overtake; anything else (control
 * messages, pings, close) still goes through ws, in call order. `ws` is pinned in package.json to the
 * version @fastify/websocket resolves, and ws-socket.test.ts checks this path against that same copy.
 */
import { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

/** A message whose WebSocket text frame was built beforehand (frames.ts `LiveFrame`). */
export interface PreFramed {
  /** The UTF-8 payload (what ws frames itself when the socket is not reachable). */
  readonly bytes: Buffer;
  /** The complete text frame. */
  readonly ws: Buffer;
}

/** The TCP socket ws writes frames to, or undefined when this ws version does not keep it where expected. */
export function rawSocketOf(ws: WebSocket): Writable | undefined {
  const raw = (ws as unknown as { _socket?: unknown })._socket;
  return raw instanceof Writable ? raw : undefined;
}

export class WsSocket {
  readonly #ws: WebSocket;
  readonly #raw: Writable | undefined;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#raw = rawSocketOf(ws);
  }

  /** True when pre-framed writes go straight to the TCP socket (false: ws frames them, still correct). */
  get direct(): boolean {
    return this.#raw !== undefined;
  }

  get open(): boolean {
    return this.#ws.readyState === this.#ws.OPEN;
  }

  /** Bytes written but not yet handed to the kernel (ws's own count, including direct writes). */
  get buffered(): number {
    return this.#ws.bufferedAmount;
  }

  /** Sends a text message through ws; `done` runs once it is flushed (or failed). */
  sendText(data: string | Buffer, done?: (err?: Error) => void): void {
    // Always a text frame: pre-encoded messages arrive as UTF-8 bytes.
    if (done) this.#ws.send(data, { binary: false }, done);
    else this.#ws.send(data, { binary: false });
  }

  /** Sends a pre-framed text message in one write (the frame is never built again for this socket). */
  sendFramed(frame: PreFramed): void {
    if (this.#raw) this.#raw.write(frame.ws);
    else this.#ws.send(frame.bytes, { binary: false });
  }

  /** Holds writes to the TCP socket (ws's own included, which keep their order) until `uncork`. */
  cork(): void {
    this.#raw?.cork();
  }

  /** Hands the writes held since `cork` to the kernel at once. */
  uncork(): void {
    this.#raw?.uncork();
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  ping(): void {
    this.#ws.ping();
  }
}
