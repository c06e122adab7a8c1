import { describe, expect, it } from 'vitest';
import { ConnectionLifecycle, IllegalTransition, type ConnectionEvent, type ConnectionState } from './lifecycle.js';

/** A connection driven into `state` through legal events. */
function at(state: ConnectionState): ConnectionLifecycle {
  const life = new ConnectionLifecycle();
  const path: Record<ConnectionState, ConnectionEvent[]> = { opening: [], subscribed: ['subscribe'], closing: ['subscribe', 'end'], closed: ['subscribe', 'end', 'closed'] };
  for (const e of path[state]) life.fire(e);
  expect(life.state).toBe(state);
  return life;
}

describe('live connection lifecycle', () => {
  it('opens, subscribes, resubscribes, ends and closes', () => {
    const life = new ConnectionLifecycle();
    expect(life.state).toBe('opening');
    expect(life.accepting).toBe(true);
    expect(life.fire('subscribe')).toBe('subscribed');
    expect(life.fire('subscribe')).toBe('subscribed');
    expect(life.subscriptions).toBe(2);
    expect(life.fire('end')).toBe('closing');
    expect(life.accepting).toBe(false);
    expect(life.fire('closed')).toBe('closed');
  });

  it('a client that goes away closes from opening or subscribed without a closing step', () => {
    expect(at('opening').fire('closed')).toBe('closed');
    expect(at('subscribed').fire('closed')).toBe('closed');
    expect(at('opening').fire('end')).toBe('closing');
  });

  const illegal: [ConnectionState, ConnectionEvent][] = [
    ['closing', 'subscribe'],
    ['closing', 'end'],
    ['closed', 'subscribe'],
    ['closed', 'end'],
    ['closed', 'closed'],
  ];

  it.each(illegal)('refuses %s → %s: fire throws, offer answers false, the state stays', (state, event) => {
    const life = at(state);
    const subscriptions = life.subscriptions;
    expect(life.can(event)).toBe(false);
    expect(() => life.fire(event)).toThrow(IllegalTransition);
    expect(life.offer(event)).toBe(false);
    expect(life.state).toBe(state);
    expect(life.subscriptions).toBe(subscriptions);
  });

  it('tells a client why the server ends it only once, however many reasons arrive', () => {
    const life = at('subscribed');
    expect(life.offer('end')).toBe(true);
    expect(life.offer('end')).toBe(false);
    expect(life.offer('closed')).toBe(true);
    expect(life.offer('end')).toBe(false);
  });
});
