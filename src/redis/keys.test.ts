import { describe, expect, it } from 'vitest';
import { aclPatterns, CACHE_PREFIXES, createKeySpace, matchesPattern, SEVERITIES, type CacheName, type KeyLayout, type KeySpace, type NamespaceOwner } from './keys.js';
import { allRoles, type RoleName } from './roles.js';
import { keySlot } from './slot.js';

const LAYOUTS: KeyLayout[] = ['standalone', 'cluster'];
const OWNERS: readonly NamespaceOwner[] = ['app', 'websocket', 'realtime'];

/** Keys that must share one slot on Cluster, by the hash tag that puts them there. */
const SLOT_GROUPS = { panic: 'panic', channels: 'ch', queue: 'naboom:queue', presence: 'presence' } as const;
type SlotGroup = keyof typeof SLOT_GROUPS;

interface Sample {
  /** Arguments for a builder, exactly as many as it declares; none for a string property. */
  readonly args?: readonly string[];
  /** Appended to a prefix, as its consumer does (BullMQ, the session store, the rate limiter, a script). */
  readonly suffix?: string;
  /** The roles whose patterns must match the name (key patterns, or channel patterns for a channel), and no other. */
  readonly owners: readonly NamespaceOwner[];
  /** On Cluster: the slot the key must share with the rest of its group; without one, no hash tag at all. */
  readonly group?: SlotGroup;
}

interface Rule {
  readonly kind: 'key' | 'channel';
  readonly samples: readonly Sample[];
}

const CACHE_OWNER = { default: 'app', sessions: 'app', realtime: 'realtime' } as const satisfies Record<CacheName, NamespaceOwner>;
const BULLMQ_SUFFIXES = [':notifications:wait', ':notifications:1', ':notifications:failed', ':notifications:repeat:daily-summary'];
const WORKER_ID = 'b99fc5ae-4155-453b-a47e-c969b99403dd';

const key = (owner: NamespaceOwner, sample: Omit<Sample, 'owners'> = {}): Rule => ({ kind: 'key', samples: [{ ...sample, owners: [owner] }] });
const alertKey = (args?: string[], suffix?: string): Rule => key('realtime', { group: 'panic', ...(args ? { args } : {}), ...(suffix ? { suffix } : {}) });
const channelKey = (args?: string[], suffix?: string): Rule => key('websocket', { group: 'channels', ...(args ? { args } : {}), ...(suffix ? { suffix } : {}) });

/**
 * Every member of the KeySpace, by its path, with who owns it. The walk below fails on a member missing here,
 * so a new builder cannot be added without deciding its owner (and thereby its ACL grant and slot).
 */
const RULES: Readonly<Record<string, Rule>> = {
  cache: {
    kind: 'key',
    samples: (Object.keys(CACHE_PREFIXES) as CacheName[]).map((name) => ({ args: [name, 'k'], owners: [CACHE_OWNER[name]] })),
  },
  sessionStorePrefix: key('app', { suffix: 'abc' }),
  queuePrefix: { kind: 'key', samples: BULLMQ_SUFFIXES.map((suffix) => ({ suffix, owners: ['app'], group: 'queue' })) },
  'queue.workers': key('app', { group: 'queue' }),
  'queue.worker': key('app', { args: [WORKER_ID], group: 'queue' }),
  'auth.user': key('app', { args: ['alice'] }),
  'auth.userIndex': key('app'),
  'auth.token': key('app', { args: ['abc'] }),
  'auth.userTokens': key('app', { args: ['alice'] }),
  rateLimitPrefix: key('app', { suffix: 'alerts:user:1' }),
  'push.subscriptions': key('app', { args: ['alice'] }),
  'push.subscribers': key('app'),
  // Granted through the realtime role's presence selector, not its root patterns.
  'presence.geo': key('realtime', { group: 'presence' }),
  'presence.seen': key('realtime', { group: 'presence' }),
  'presence.info': key('realtime', { group: 'presence' }),
  'channels.queue': channelKey(['chat']),
  'channels.inbox': channelKey(['p1']),
  'channels.group': channelKey(['g']),
  'channels.groupProcesses': channelKey(['g']),
  'channels.queuePrefix': channelKey(undefined, 'chat'),
  'channels.inboxPrefix': channelKey(undefined, 'p1'),
  'alerts.stream': { kind: 'key', samples: SEVERITIES.map((s) => ({ args: [s], owners: ['realtime'], group: 'panic' })) },
  'alerts.feed': alertKey(),
  'alerts.state': alertKey(['1-0']),
  'alerts.cache': alertKey(['1-0']),
  'alerts.idempotency': alertKey(['u1', 'abc']),
  'alerts.escalations': alertKey(),
  'alerts.byReporter': alertKey(['u1']),
  'alerts.thread': alertKey(['1-0']),
  'alerts.recent': alertKey(),
  'alerts.statePrefix': alertKey(undefined, '1-0'),
  'alerts.cachePrefix': alertKey(undefined, '1-0'),
  // realtime_user publishes on it, websocket_user subscribes to it.
  broadcastChannel: { kind: 'channel', samples: [{ owners: ['websocket', 'realtime'] }] },
  probe: { kind: 'key', samples: OWNERS.map((o) => ({ args: [o, 'n'], owners: [o] })) },
};

type Member = { readonly path: string; readonly value: unknown };

/** Every function and string property of the key space, recursively, by dotted path. */
function members(node: object, prefix = ''): Member[] {
  const out: Member[] = [];
  for (const [name, value] of Object.entries(node) as [string, unknown][]) {
    const path = `${prefix}${name}`;
    if (value !== null && typeof value === 'object') out.push(...members(value, `${path}.`));
    else out.push({ path, value });
  }
  return out;
}

interface Built {
  readonly path: string;
  readonly kind: Rule['kind'];
  readonly name: string;
  readonly sample: Sample;
}

/** Builds every sample name of every member; the paths the rules cannot classify are returned apart. */
function buildAll(ks: KeySpace): { built: Built[]; unclassified: string[] } {
  const built: Built[] = [];
  const unclassified: string[] = [];
  for (const { path, value } of members(ks)) {
    const rule = RULES[path];
    if (!rule || (typeof value !== 'function' && typeof value !== 'string')) {
      unclassified.push(path);
      continue;
    }
    for (const sample of rule.samples) {
      let name: unknown = value;
      if (typeof value === 'function') {
        const args = sample.args ?? [];
        expect(args.length, `${path}: sample arguments for its arity`).toBe(value.length);
        name = (value as (...a: string[]) => unknown)(...args);
      } else {
        expect(sample.args, `${path} is a string; it takes no arguments`).toBeUndefined();
      }
      expect(typeof name, path).toBe('string');
      built.push({ path, kind: rule.kind, name: `${String(name)}${sample.suffix ?? ''}`, sample });
    }
  }
  return { built, unclassified };
}

/** The roles (other than the superuser) whose key or channel patterns (their selectors' included) match a name. */
function grantedTo(layout: KeyLayout, kind: Rule['kind'], name: string): RoleName[] {
  return allRoles()
    .filter((r) => !r.superuser)
    .filter((r) => {
      const p = r.patterns(layout);
      const selectorKeys = (r.selectors?.(layout) ?? []).flatMap((s) => s.keys);
      const patterns = kind === 'channel' ? p.channels : [...p.keys, ...p.readKeys, ...selectorKeys];
      return patterns.some((pattern) => matchesPattern(pattern, name));
    })
    .map((r) => r.name);
}

const hashTag = (k: string): string | undefined => /\{([^}]+)\}/.exec(k)?.[1];

describe('key module', () => {
  for (const layout of LAYOUTS) {
    it(`classifies every KeySpace member, and every rule names a member (${layout})`, () => {
      const ks = createKeySpace(layout);
      const { unclassified } = buildAll(ks);
      expect(unclassified, 'KeySpace members without an owner in RULES').toEqual([]);
      const paths = new Set(members(ks).map((m) => m.path));
      expect(Object.keys(RULES).filter((p) => !paths.has(p)), 'RULES naming no KeySpace member').toEqual([]);
    });

    it(`grants every key and channel to exactly its owning roles and no other (${layout})`, () => {
      const { built } = buildAll(createKeySpace(layout));
      expect(built.length).toBeGreaterThan(Object.keys(RULES).length);
      for (const b of built) {
        expect(grantedTo(layout, b.kind, b.name).sort(), `${b.path} → ${b.name}`).toEqual([...b.sample.owners].sort());
      }
    });
  }

  it('on Cluster every key of a group carries its hash tag and shares one slot; other keys carry no tag', () => {
    const { built } = buildAll(createKeySpace('cluster'));
    const slots = new Map<SlotGroup, Set<number>>();
    for (const b of built.filter((x) => x.kind === 'key')) {
      const group = b.sample.group;
      expect(hashTag(b.name), `${b.path} → ${b.name}`).toBe(group ? SLOT_GROUPS[group] : undefined);
      if (group) slots.set(group, (slots.get(group) ?? new Set()).add(keySlot(b.name)));
    }
    for (const group of Object.keys(SLOT_GROUPS) as SlotGroup[]) expect(slots.get(group)?.size, group).toBe(1);
    expect(built.filter((b) => b.path === 'alerts.byReporter').map((b) => keySlot(b.name))).toEqual([keySlot('{panic}')]);
  });

  it('carries no hash tag in the standalone layout', () => {
    for (const b of buildAll(createKeySpace('standalone')).built) expect(hashTag(b.name), `${b.path} → ${b.name}`).toBeUndefined();
  });

  it('keeps the contract names in standalone mode', () => {
    const ks = createKeySpace('standalone');
    expect(ks.alerts.stream('critical')).toBe('panic:alerts:critical');
    expect(ks.alerts.cache('1700000000000-0')).toBe('emergency:alert:1700000000000-0');
    expect(ks.cache('default', 'x')).toBe('naboom:cache:1:x');
    expect(ks.queuePrefix).toBe('naboom:queue');
    expect(ks.queue.workers).toBe('naboom:queue:workers');
    expect(ks.queue.worker('w1')).toBe('naboom:queue:workers:w1');
    expect(ks.broadcastChannel).toBe('emergency:broadcast');
  });

  it('puts every alert key in one hash slot on Cluster', () => {
    const ks = createKeySpace('cluster');
    const tags = [
      ks.alerts.stream('high'),
      ks.alerts.feed,
      ks.alerts.state('1-0'),
      ks.alerts.cache('1-0'),
      ks.alerts.idempotency('u', 'k'),
      ks.alerts.escalations,
      ks.alerts.byReporter('u'),
    ].map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
    expect(new Set(tags)).toEqual(new Set(['panic']));
    expect(ks.queuePrefix).toBe('{naboom:queue}');
  });

  it('keeps the worker heartbeats under the BullMQ prefix on Cluster', () => {
    const ks = createKeySpace('cluster');
    for (const k of [ks.queue.workers, ks.queue.worker(WORKER_ID), ...BULLMQ_SUFFIXES.map((s) => `${ks.queuePrefix}${s}`)]) {
      expect(k.startsWith('{naboom:queue}:'), k).toBe(true);
    }
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

  it('derives the ACL patterns of the app, websocket and realtime roles from this module only', () => {
    for (const layout of LAYOUTS) for (const o of OWNERS) expect(allRoles().find((r) => r.name === o)?.patterns(layout)).toEqual(aclPatterns(layout, o));
  });

  it('refuses user input that could escape a namespace or act as a glob', () => {
    const ks = createKeySpace('standalone');
    for (const bad of ['../x', 'a b', 'a*', 'a:b', '', 'x'.repeat(201), '{panic}']) {
      expect(() => ks.alerts.state(bad)).toThrow(/Invalid alert id/);
    }
    for (const bad of ['a:b', 'a*', '{x}', 'a b', '']) expect(() => ks.queue.worker(bad)).toThrow(/Invalid worker id/);
    expect(() => ks.cache('default', 'with space')).toThrow(/Invalid cache key/);
    expect(() => ks.probe('monitoring', 'n')).toThrow();
  });
});
