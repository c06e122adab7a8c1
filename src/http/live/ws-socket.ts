/**
 * The one place that works around ws: a server-side WebSocket as the live feed uses it. Everything goes
 * through ws's public API except one write path, `sendFramed`, which puts an event's complete pre-built
 * frame (framed once for every socket, see frames.ts) straight onto the TCP socket ws frames onto, in one
 * write — instead of ws framing the same bytes again for each socket and writing header and payload
 * separately — and `cork`/`uncork`, which hold that socket's frames so that every frame of one feed read
 * leaves in a single write: the batch's one shared block when the socket got all of its frames, else its own
 * frames in one `writev`.
 *
 * That socket is the upgrade request's own (`IncomingMessage.socket`: Node hands it to the server's `upgrade`
 * listeners, and ws's `handleUpgrade` takes it over); the caller passes it in, so nothing here reads ws's
 * internals. The direct write is sound only because this server never negotiates permessage-deflate and never
 * sends fragments or Blobs, so ws's sender has nothing queued that a direct write could overtake; anything
 * else (control messages, pings, close) still goes through ws, in call order. `ws` is pinned in package.json
 * to the version @fastify/websocket resolves, and ws-socket.test.ts checks this path against that same copy.
 */
import { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * The frames of one feed batch, in order, and their frames as one block (built on first use, then shared by
 * every socket that was given exactly these frames).
 */
export interface SharedBlock {
  readonly frames: readonly PreFramed[];
  block(): Buffer;
}

/** A message whose WebSocket text frame was built beforehand (frames.ts `LiveFrame`). */
export interface PreFramed {
  /** The UTF-8 payload (what ws frames itself when the socket is not reachable). */
  readonly bytes: Buffer;
  /** The complete text frame. */
  readonly ws: Buffer;
}

export class WsSocket {
  readonly #ws: WebSocket;
  readonly #raw: Writable | undefined;
  /** Pre-framed frames held since `cork` (not yet written), and their size. */
  #held: PreFramed[] | undefined;
  #heldBytes = 0;
  /** The TCP socket itself was corked: something went through ws while frames were held. */
  #rawCorked = false;

  /**
   * `socket`: the TCP socket of the request ws upgraded (`request.socket`); without one (an upgrade injected
   * in-process, with no TCP socket) every message goes through `ws.send`.
   */
  constructor(ws: WebSocket, socket: unknown) {
    this.#ws = ws;
    this.#raw = socket instanceof Writable ? socket : undefined;
  }

  /** True when pre-framed writes go straight to the TCP socket (false: ws frames them, still correct). */
  get direct(): boolean {
    return this.#raw !== undefined;
  }

  get open(): boolean {
    return this.#ws.readyState === this.#ws.OPEN;
  }

  /** Bytes written but not yet handed to the kernel (ws's own count, including direct writes and held frames). */
  get buffered(): number {
    return this.#ws.bufferedAmount + this.#heldBytes;
  }

  /**
   * True when the connection is open and holds less than `highWater` bytes unsent — checked for every socket
   * on every live frame, so it reads the TCP socket's own count (the same bytes: ws has nothing of its own
   * queued, see above) rather than going through ws.
   */
  canTake(highWater: number): boolean {
    if (this.#ws.readyState !== this.#ws.OPEN) return false;
    return (this.#raw ? this.#raw.writableLength + this.#heldBytes : this.#ws.bufferedAmount) < highWater;
  }

  /** Sends a text message through ws; `done` runs once it is flushed (or failed). */
  sendText(data: string | Buffer, done?: (err?: Error) => void): void {
    this.#beforeWs();
    // Always a text frame: pre-encoded messages arrive as UTF-8 bytes.
    if (done) this.#ws.send(data, { binary: false }, done);
    else this.#ws.send(data, { binary: false });
  }

  /** Sends a pre-framed text message in one write (the frame is never built again for this socket). */
  sendFramed(frame: PreFramed): void {
    if (this.#held) {
      this.#held.push(frame);
      this.#heldBytes += frame.ws.length;
    } else if (this.#raw) this.#raw.write(frame.ws);
    else this.#ws.send(frame.bytes, { binary: false });
  }

  /** Holds pre-framed writes until `uncork` (anything sent through ws meanwhile still leaves after them). */
  cork(): void {
    if (this.#raw) this.#held ??= [];
  }

  /**
   * Hands the frames held since `cork` to the kernel in one write. When they are exactly the frames of
   * `shared` (this socket was given every frame of the batch), that write is the batch's one shared block —
   * built once for every such socket — instead of this socket's own list of frames.
   */
  uncork(shared?: SharedBlock): void {
    const held = this.#held;
    const raw = this.#raw;
    if (!held || !raw) return;
    this.#held = undefined;
    this.#heldBytes = 0;
    if (held.length > 0) {
      if (shared && sameFrames(held, shared.frames)) raw.write(shared.block());
      else if (held.length === 1 && held[0]) raw.write(held[0].ws);
      else {
        if (!this.#rawCorked) raw.cork();
        this.#rawCorked = true;
        for (const f of held) raw.write(f.ws);
      }
    }
    if (this.#rawCorked) {
      this.#rawCorked = false;
      raw.uncork();
    }
  }

  /**
   * Before anything goes through ws while frames are held: the TCP socket is corked and the held frames go in
   * first, so the order of everything sent is the order of the calls and it still leaves in one `writev`.
   */
  #beforeWs(): void {
    const held = this.#held;
    const raw = this.#raw;
    if (!held || !raw) return;
    if (!this.#rawCorked) {
      raw.cork();
      this.#rawCorked = true;
    }
    for (const f of held) raw.write(f.ws);
    held.length = 0;
    this.#heldBytes = 0;
  }

  close(code: number, reason: string): void {
    this.#beforeWs();
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#held = undefined;
    this.#heldBytes = 0;
    this.#ws.terminate();
  }

  ping(): void {
    this.#beforeWs();
    this.#ws.ping();
  }
}

/** Whether `a` holds exactly the frames of `b`, in order (the same objects). */
function sameFrames(a: readonly PreFramed[], b: readonly PreFramed[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
