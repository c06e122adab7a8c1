import { describe, expect, it } from 'vitest';
import { aclPatterns, createKeySpace, matchesPattern, type KeyLayout, type NamespaceOwner } from '../redis/keys.js';
import { queueKeys } from './keys.js';

const OWNERS: NamespaceOwner[] = ['app', 'websocket', 'realtime'];
const QUEUE_KEYS_SAMPLE = ['notifications:wait', 'notifications:1', 'notifications:failed', 'notifications:repeat:daily-summary'];

describe('queue keys', () => {
  for (const layout of ['standalone', 'cluster'] as KeyLayout[]) {
    it(`${layout}: heartbeats and BullMQ's keys fall inside the app role's patterns only`, () => {
      const prefix = createKeySpace(layout).queuePrefix;
      const k = queueKeys(prefix);
      const keys = [k.workers, k.worker('b99fc5ae-4155-453b-a47e-c969b99403dd'), ...QUEUE_KEYS_SAMPLE.map((s) => `${prefix}:${s}`)];
      for (const key of keys) {
        const owners = OWNERS.filter((o) => aclPatterns(layout, o).keys.some((p) => matchesPattern(p, key)));
        expect(owners, key).toEqual(['app']);
      }
      if (layout === 'cluster') for (const key of keys) expect(key.startsWith('{naboom:queue}:')).toBe(true);
    });
  }

  it('refuses a worker id that could escape its key', () => {
    const k = queueKeys('naboom:queue');
    for (const bad of ['a:b', 'a*', '{x}', 'a b', '']) expect(() => k.worker(bad)).toThrow(/Invalid worker id/);
  });
});
