/**
 * The live feed over `GET /ws`. It remembers the id of the last feed event it saw (the cursor) and, after
 * any disconnect — a server restart, a network drop, being dropped as a slow reader — reconnects with
 * exponential backoff and subscribes with `since` = that cursor, so the server replays exactly what was
 * missed. The board keys alerts by id, so an event seen twice can never show twice.
 *
 * "Live" is shown only while the server proves it: the `live` notice names the heartbeat interval, and every
 * frame (heartbeats above all) re-arms a timer of two intervals. When it runs out the state turns "stale",
 * the socket is closed and the feed resubscribes with `since` — a silent connection never passes for live.
 */
// Types only: the protocol's zod schemas stay on the server, the bundle never contains zod.
import type { ServerMessage, SubscribeMessage } from '../../src/http/live/protocol.js';
import { parseMessage, type ThreadMessage } from './dispatch.js';
import { compareIds, isObj, parseAlert, STREAM_ID, type Alert } from './model.js';

export type ConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'replaying' }
  | { readonly kind: 'live' }
  | { readonly kind: 'stale' }
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly retryAt: number; readonly reason: string };

export interface FeedHandlers {
  /** Alerts received (`replay`: missed while away; `live`: just happened). */
  onAlerts(alerts: readonly Alert[], origin: 'replay' | 'live'): void;
  /** A message posted in the thread of an alert this user may see (`alert.message`; replayed ones too). */
  onMessage?(message: ThreadMessage): void;
  onState(state: ConnectionState): void;
  /** Some missed events are no longer retained by the server: the board should reload its list. */
  onGap(): void;
  /** The session is gone: the page should show the login form. */
  onSignedOut(): void;
  /** Loads the board from the list endpoint; returns the feed id to replay from (when no cursor is known yet). */
  resync(): Promise<string>;
  /** True while the session is still valid (asked when a connection fails before it opened). */
  signedIn(): Promise<boolean>;
}

/** The subset of a WebSocket the feed uses (a fake one in unit tests). */
export interface FeedSocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { readonly data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** What the feed needs from its surroundings; the defaults are the browser's. Tests pass a clock and sockets. */
export interface FeedEnvironment {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  openSocket(): FeedSocket;
  /** Fires `online` when the network comes back (the window in a browser). */
  readonly online?: { addEventListener(type: 'online', fn: () => void): void; removeEventListener(type: 'online', fn: () => void): void };
}

/** The page's window, typed by what the feed uses (this module also compiles for Node unit tests). */
interface PageWindow {
  readonly location: { readonly href: string };
  addEventListener(type: 'online', fn: () => void): void;
  removeEventListener(type: 'online', fn: () => void): void;
}

function browserEnvironment(): FeedEnvironment {
  const window = (globalThis as unknown as { window: PageWindow }).window;
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    openSocket: () => {
      const url = new URL('/ws', window.location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      return new WebSocket(url) as unknown as FeedSocket;
    },
    online: window,
  };
}

/** The heartbeat interval assumed until the server names one (its default, LIVE_HEARTBEAT_MS). */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Intervals without a frame after which a live connection counts as stale. */
export const MISSED_HEARTBEATS = 2;

const BACKOFF_START_MS = 400;
const BACKOFF_MAX_MS = 5000;
/** Frames are applied in small batches, so a replay of thousands of events is one render, not thousands. */
const FLUSH_MS = 16;

export function backoffMs(attempt: number, random: number = Math.random()): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.max(0, attempt - 1));
  // ±20 % jitter, so a restarted server is not hit by every dashboard in the same millisecond.
  return Math.round(base * (0.8 + 0.4 * random));
}


/**
 * A server message as received: its `type` selects the protocol message (so field names are checked against
 * the protocol), but every value is still `unknown` until checked — the server may be newer or broken.
 */
type Received<M> = M extends { readonly type: infer T } ? { readonly type: T } & { readonly [K in Exclude<keyof M, 'type'>]?: unknown } : never;
type Incoming = Received<ServerMessage>;

export class LiveFeed {
  readonly #h: FeedHandlers;
  readonly #env: FeedEnvironment;
  #ws: FeedSocket | undefined;
  #cursor: string | undefined;
  #attempt = 0;
  #timer: unknown;
  #stopped = false;
  #replaying = false;
  #live = false;
  #heartbeatMs = DEFAULT_HEARTBEAT_MS;
  #staleTimer: unknown;
  #pending: { alerts: Alert[]; origin: 'replay' | 'live' } | undefined;
  #flushTimer: unknown;
  readonly #onOnline = (): void => this.reconnectNow();

  constructor(handlers: FeedHandlers, env?: FeedEnvironment) {
    this.#h = handlers;
    this.#env = env ?? browserEnvironment();
  }

  /** The id of the last feed event seen (what a reconnect replays from). */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  start(): void {
    this.#env.online?.addEventListener('online', this.#onOnline);
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#env.online?.removeEventListener('online', this.#onOnline);
    this.#env.clearTimeout(this.#timer);
    this.#env.clearTimeout(this.#flushTimer);
    this.#env.clearTimeout(this.#staleTimer);
    this.#ws?.close(1000, 'bye');
    this.#ws = undefined;
  }

  /** Skips the wait of a pending reconnect. */
  reconnectNow(): void {
    if (this.#stopped || this.#timer === undefined) return;
    this.#env.clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    this.#h.onState({ kind: 'connecting' });
    if (this.#cursor === undefined) {
      try {
        this.#cursor = await this.#h.resync();
      } catch {
        this.#retry('the alert list could not be loaded');
        return;
      }
      if (this.#stopped) return;
    }
    const ws = this.#env.openSocket();
    this.#ws = ws;
    let opened = false;
    let reason = 'connection lost';
    ws.onopen = () => {
      opened = true;
      const since = this.#cursor;
      const subscribe: SubscribeMessage = { type: 'subscribe', ...(since ? { since } : {}) };
      ws.send(JSON.stringify(subscribe));
      if (since) this.#h.onState({ kind: 'replaying' });
    };
    ws.onmessage = (m: { readonly data: unknown }) => {
      if (typeof m.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(m.data);
      } catch {
        return;
      }
      if (this.#ws !== ws) return;
      if (this.#live) this.#armStale();
      const r = this.#frame(frame);
      if (r) reason = r;
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      this.#live = false;
      this.#env.clearTimeout(this.#staleTimer);
      this.#flush();
      if (this.#stopped) return;
      if (opened) {
        this.#retry(reason);
        return;
      }
      // Refused before it opened: a dead server, or a session that expired (a 401 the browser hides).
      void this.#h.signedIn().then(
        (ok) => (ok ? this.#retry('server unreachable') : this.#signedOut()),
        () => this.#retry('server unreachable'),
      );
    };
  }

  #signedOut(): void {
    this.stop();
    this.#h.onSignedOut();
  }

  #retry(reason: string): void {
    if (this.#stopped) return;
    this.#attempt += 1;
    const wait = backoffMs(this.#attempt);
    this.#h.onState({ kind: 'reconnecting', attempt: this.#attempt, retryAt: this.#env.now() + wait, reason });
    this.#timer = this.#env.setTimeout(() => void this.#connect(), wait);
  }

  /** (Re)starts the countdown to "stale": two heartbeat intervals without any frame. */
  #armStale(): void {
    this.#env.clearTimeout(this.#staleTimer);
    this.#staleTimer = this.#env.setTimeout(() => this.#stale(), MISSED_HEARTBEATS * this.#heartbeatMs);
  }

  /** The server went quiet: say so, drop the socket, and resubscribe from the cursor after a short wait. */
  #stale(): void {
    const ws = this.#ws;
    if (!ws || this.#stopped) return;
    this.#ws = undefined;
    this.#live = false;
    this.#flush();
    this.#h.onState({ kind: 'stale' });
    ws.close(4000, 'stale');
    this.#attempt += 1;
    this.#timer = this.#env.setTimeout(() => void this.#connect(), backoffMs(this.#attempt));
  }

  /** Handles one server frame; returns a close reason worth showing, if the frame announces one. */
  #frame(raw: unknown): string | undefined {
    if (!isObj(raw) || typeof raw['type'] !== 'string') return undefined;
    // Only the type is known to be a string; a type this version does not know falls to `default`.
    const f = raw as Incoming;
    switch (f.type) {
      case 'subscribed':
        return undefined;
      case 'replay.start':
        this.#replaying = true;
        this.#h.onState({ kind: 'replaying' });
        return undefined;
      case 'replay.truncated':
        this.#h.onGap();
        return undefined;
      case 'replay.end':
        this.#replaying = false;
        this.#advance(f.last_id);
        this.#flush();
        return undefined;
      case 'live': {
        this.#replaying = false;
        this.#attempt = 0;
        const interval = f.interval_ms;
        if (typeof interval === 'number' && Number.isFinite(interval) && interval > 0) this.#heartbeatMs = interval;
        this.#live = true;
        this.#armStale();
        this.#flush();
        this.#h.onState({ kind: 'live' });
        return undefined;
      }
      case 'heartbeat':
        return undefined;
      case 'alert':
      case 'alert.updated': {
        const alert = parseAlert(f.alert);
        if (alert) this.#queue(alert, this.#replaying ? 'replay' : 'live');
        this.#advance(f.id);
        return undefined;
      }
      case 'alert.message': {
        // Threads merge messages by id, so a replayed message never shows twice.
        const message = parseMessage(f.message);
        if (message) this.#h.onMessage?.(message);
        this.#advance(f.id);
        return undefined;
      }
      case 'shutdown':
        return 'the server is restarting';
      case 'error':
        return typeof f.message === 'string' ? f.message : 'the server reported an error';
      default:
        return undefined;
    }
  }

  #advance(id: unknown): void {
    if (typeof id !== 'string' || !STREAM_ID.test(id)) return;
    if (this.#cursor === undefined || compareIds(id, this.#cursor) > 0) this.#cursor = id;
  }

  #queue(alert: Alert, origin: 'replay' | 'live'): void {
    if (this.#pending && this.#pending.origin !== origin) this.#flush();
    this.#pending ??= { alerts: [], origin };
    this.#pending.alerts.push(alert);
    this.#flushTimer ??= this.#env.setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    this.#env.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const p = this.#pending;
    this.#pending = undefined;
    if (p && p.alerts.length > 0) this.#h.onAlerts(p.alerts, p.origin);
  }
}
