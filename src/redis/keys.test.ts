import { describe, expect, it } from 'vitest';
import { aclPatterns, createKeySpace, matchesPattern, SEVERITIES, type KeyLayout, type NamespaceOwner } from './keys.js';

const LAYOUTS: KeyLayout[] = ['standalone', 'cluster'];

/** Every key the code can build, with the role that must own it. */
function everyKey(layout: KeyLayout): [NamespaceOwner, string][] {
  const ks = createKeySpace(layout);
  const out: [NamespaceOwner, string][] = [
    ['app', ks.cache('default', 'k')],
    ['app', ks.cache('sessions', 'k')],
    ['app', `${ks.sessionStorePrefix}abc`],
    ['app', `${ks.queuePrefix}:notifications:wait`],
    ['app', ks.auth.user('alice')],
    ['app', ks.auth.userIndex],
    ['app', ks.auth.token('abc')],
    ['app', ks.auth.userTokens('alice')],
    ['app', `${ks.rateLimitPrefix}alerts:user:1`],
    ['app', ks.probe('app', 'n')],
    ['websocket', ks.channels.queue('chat')],
    ['websocket', ks.channels.inbox('p1')],
    ['websocket', ks.channels.group('g')],
    ['websocket', ks.channels.groupProcesses('g')],
    ['websocket', `${ks.channels.queuePrefix}chat`],
    ['websocket', `${ks.channels.inboxPrefix}p1`],
    ['websocket', ks.probe('websocket', 'n')],
    ['realtime', ks.cache('realtime', 'k')],
    ['realtime', ks.alerts.feed],
    ['realtime', ks.alerts.state('1-0')],
    ['realtime', ks.alerts.cache('1-0')],
    ['realtime', ks.alerts.idempotency('u1', 'abc')],
    ['realtime', ks.alerts.escalations],
    ['realtime', ks.alerts.byReporter('u1')],
    ['realtime', ks.probe('realtime', 'n')],
  ];
  for (const s of SEVERITIES) out.push(['realtime', ks.alerts.stream(s)]);
  return out;
}

describe('key module', () => {
  for (const layout of LAYOUTS) {
    it(`every key is granted to its owner and to no other role (${layout})`, () => {
      const owners: NamespaceOwner[] = ['app', 'websocket', 'realtime'];
      for (const [owner, key] of everyKey(layout)) {
        for (const role of owners) {
          const granted = aclPatterns(layout, role).keys.some((p) => matchesPattern(p, key));
          expect(granted, `${role} on ${key}`).toBe(role === owner);
        }
      }
    });
  }

  it('keeps the SPEC names in standalone mode', () => {
    const ks = createKeySpace('standalone');
    expect(ks.alerts.stream('critical')).toBe('panic:alerts:critical');
    expect(ks.alerts.cache('1700000000000-0')).toBe('emergency:alert:1700000000000-0');
    expect(ks.cache('default', 'x')).toBe('naboom:cache:1:x');
    expect(ks.queuePrefix).toBe('naboom:queue');
    expect(ks.broadcastChannel).toBe('emergency:broadcast');
  });

  it('puts every alert key in one hash slot on Cluster', () => {
    const ks = createKeySpace('cluster');
    const tags = [ks.alerts.stream('high'), ks.alerts.feed, ks.alerts.state('1-0'), ks.alerts.cache('1-0'), ks.alerts.idempotency('u', 'k'), ks.alerts.escalations].map(
      (k) => /\{([^}]*)\}/.exec(k)?.[1],
    );
    expect(new Set(tags)).toEqual(new Set(['panic']));
    expect(ks.queuePrefix).toBe('{naboom:queue}');
  });

  for (const layout of LAYOUTS) {
    it(`script prefixes build the same keys as the builders (${layout})`, () => {
      const ks = createKeySpace(layout);
      expect(`${ks.alerts.statePrefix}1-0`).toBe(ks.alerts.state('1-0'));
      expect(`${ks.alerts.cachePrefix}1-0`).toBe(ks.alerts.cache('1-0'));
    });
  }

  for (const layout of LAYOUTS) {
    it(`channel-layer prefixes build the same keys as the builders, in one slot on Cluster (${layout})`, () => {
      const ks = createKeySpace(layout);
      expect(`${ks.channels.queuePrefix}chat.1`).toBe(ks.channels.queue('chat.1'));
      expect(`${ks.channels.inboxPrefix}p1`).toBe(ks.channels.inbox('p1'));
      const keys = [ks.channels.queue('a'), ks.channels.inbox('b'), ks.channels.group('g'), ks.channels.groupProcesses('g')];
      const tags = keys.map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
      expect(new Set(tags)).toEqual(new Set([layout === 'cluster' ? 'ch' : undefined]));
    });
  }

  it('refuses user input that could escape a namespace or act as a glob', () => {
    const ks = createKeySpace('standalone');
    for (const bad of ['../x', 'a b', 'a*', 'a:b', '', 'x'.repeat(201), '{panic}']) {
      expect(() => ks.alerts.state(bad)).toThrow(/Invalid alert id/);
    }
    expect(() => ks.cache('default', 'with space')).toThrow(/Invalid cache key/);
    expect(() => ks.probe('monitoring', 'n')).toThrow();
  });
});
