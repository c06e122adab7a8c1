import { describe, expect, it } from 'vitest';
import { classifyEntry, describeGroup, groupAclLog, type AclLogEntry } from './acl-log.js';

const entry = (over: Partial<AclLogEntry> & { name?: string; addr?: string; cmd?: string }): AclLogEntry => {
  const { name = '', addr = '10.0.0.7:50000', cmd = 'flushall', ...rest } = over;
  return {
    count: 1,
    reason: 'command',
    context: 'toplevel',
    object: 'flushall',
    username: 'app_user',
    clientInfo: `id=7 addr=${addr} laddr=10.0.0.1:6379 fd=8 name=${name} age=0 cmd=${cmd} user=app_user`,
    clientName: name || undefined,
    ageSeconds: 0,
    ...rest,
  };
};

describe('ACL LOG classification', () => {
  it("tells Naboom's connections, verify's expected probes and everyone else apart", () => {
    expect(classifyEntry(entry({}))).toEqual({ class: 'foreign' });
    expect(classifyEntry(entry({ name: 'naboom:app:123' }))).toEqual({ class: 'grant-missing', role: 'app' });
    expect(classifyEntry(entry({ name: 'naboom:websocket:9:blocking' }))).toEqual({ class: 'grant-missing', role: 'websocket' });
    // Only Naboom's own role names count: a look-alike name is someone else.
    expect(classifyEntry(entry({ name: 'naboom:root:1' }))).toEqual({ class: 'foreign' });
    expect(classifyEntry(entry({ name: 'xnaboom:app:1' }))).toEqual({ class: 'foreign' });
    // The blocking copy BullMQ makes of a worker's client carries BullMQ's name, under our queue prefix.
    expect(classifyEntry(entry({ name: 'naboom:queue:bm90aWZpY2F0aW9ucw==:w:host-1:42' }))).toEqual({ class: 'grant-missing', role: 'app' });
    expect(classifyEntry(entry({ name: '{naboom:queue}:bm90aWZpY2F0aW9ucw==:w:host-1:42' }))).toEqual({ class: 'grant-missing', role: 'app' });
    expect(classifyEntry(entry({ name: 'naboom:queue:bm90aWZpY2F0aW9ucw==' }))).toEqual({ class: 'grant-missing', role: 'app' });
    // Another prefix, or not BullMQ's shape under ours, is someone else.
    expect(classifyEntry(entry({ name: 'bull:bm90aWZpY2F0aW9ucw==:w:host-1:42' }))).toEqual({ class: 'foreign' });
    expect(classifyEntry(entry({ name: 'naboom:queuex:bm90aWZpY2F0aW9ucw==' }))).toEqual({ class: 'foreign' });
    expect(classifyEntry(entry({ name: 'naboom:queue:not-base64!' }))).toEqual({ class: 'foreign' });
    expect(classifyEntry(entry({ name: 'naboom:app:verify-42', object: 'keys' }))).toEqual({ class: 'verify-probe', role: 'app' });
    expect(classifyEntry(entry({ name: 'naboom:realtime:verify-42', reason: 'key', object: 'naboom:cache:verify-probe:ab12' }))).toEqual({ class: 'verify-probe', role: 'realtime' });
    // A verify connection refused something verify does not provoke: a grant is missing.
    expect(classifyEntry(entry({ name: 'naboom:app:verify-42', reason: 'key', object: 'naboom:cache:x' }))).toEqual({ class: 'grant-missing', role: 'app' });
    expect(classifyEntry(entry({ name: 'naboom:app:verify-42', object: 'hset' }))).toEqual({ class: 'grant-missing', role: 'app' });
  });

  it('groups by cause and client host, sums counts and dates the latest', () => {
    const now = Date.parse('2026-12-01T12:00:00.000Z');
    const groups = groupAclLog(
      [
        entry({ count: 2, addr: '10.0.0.7:1111', ageSeconds: 30 }),
        entry({ count: 1, addr: '10.0.0.7:2222', ageSeconds: 5 }),
        entry({ count: 1, addr: '10.0.0.8:3333', ageSeconds: 1 }),
        entry({ name: 'naboom:app:123', reason: 'key', object: 'panic:x', cmd: 'get', addr: '10.0.0.5:4444' }),
      ],
      now,
    );
    expect(groups.map(describeGroup)).toEqual([
      'someone tried FLUSHALL as app_user from 10.0.0.7 (3×)',
      'naboom:app:123 (role app, user app_user) from 10.0.0.5 was refused GET key panic:x (1×): a grant is missing',
      'someone tried FLUSHALL as app_user from 10.0.0.8 (1×)',
    ]);
    expect(groups[0]?.lastSeen).toBe('2026-12-01T11:59:55.000Z');
  });
});
