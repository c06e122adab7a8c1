/**
 * The lifecycle of one live connection (WebSocket or SSE), as an explicit state machine:
 *
 *   opening ──subscribe──► subscribed ──subscribe──► subscribed   (a resubscribe replaces the filter)
 *      │                       │
 *      └────────end────────────┴──► closing ──closed──► closed      (the server ends it: tell, then close)
 *      └──────closed───────────┴──────────────────────► closed      (the client went away)
 *
 * Its point is what it refuses: no subscription starts once the connection is ending, and the server tells
 * a client why it ends only once, however many reasons (slow, revoked, shutdown) arrive together.
 */

export type ConnectionState = 'opening' | 'subscribed' | 'closing' | 'closed';
export type ConnectionEvent = 'subscribe' | 'end' | 'closed';

const NEXT: Readonly<Record<ConnectionState, Readonly<Partial<Record<ConnectionEvent, ConnectionState>>>>> = {
  opening: { subscribe: 'subscribed', end: 'closing', closed: 'closed' },
  subscribed: { subscribe: 'subscribed', end: 'closing', closed: 'closed' },
  closing: { closed: 'closed' },
  closed: {},
};

/** An event the connection's current state does not allow. */
export class IllegalTransition extends Error {
  constructor(
    readonly from: ConnectionState,
    readonly event: ConnectionEvent,
  ) {
    super(`live connection: "${event}" is not allowed while ${from}`);
    this.name = 'IllegalTransition';
  }
}

export class ConnectionLifecycle {
  #state: ConnectionState = 'opening';
  #subscriptions = 0;

  get state(): ConnectionState {
    return this.#state;
  }

  /** Subscriptions started on this connection (every one after the first is a resubscribe). */
  get subscriptions(): number {
    return this.#subscriptions;
  }

  /** True while a subscription may still start (neither ending nor ended). */
  get accepting(): boolean {
    return this.#state === 'opening' || this.#state === 'subscribed';
  }

  /** Whether `event` is allowed now. */
  can(event: ConnectionEvent): boolean {
    return NEXT[this.#state][event] !== undefined;
  }

  /** Applies `event`; throws IllegalTransition (and changes nothing) when the current state does not allow it. */
  fire(event: ConnectionEvent): ConnectionState {
    const next = NEXT[this.#state][event];
    if (next === undefined) throw new IllegalTransition(this.#state, event);
    if (event === 'subscribe') this.#subscriptions += 1;
    this.#state = next;
    return next;
  }

  /** Applies `event` when allowed; false (nothing changes) when refused — for events a peer may repeat. */
  offer(event: ConnectionEvent): boolean {
    if (!this.can(event)) return false;
    this.fire(event);
    return true;
  }
}
