/** The Django libraries' keys never collide with Naboom's, on every layout. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeySpace, djangoKeySpace, matchesPattern, SEVERITIES, type KeyLayout, type NamespaceOwner } from './keys.js';
import { rolePatterns } from './roles.js';

const LAYOUTS: KeyLayout[] = ['standalone', 'cluster'];
const OWNERS: NamespaceOwner[] = ['app', 'websocket', 'realtime'];
const DJANGO = { django: true } as const;

const word = fc.stringMatching(/^[a-zA-Z\d\-_.]{1,40}$/);
/** Channel names as channels_redis accepts them, process-specific ones (`…!…`) included. */
const channelName = fc.oneof(word, fc.tuple(word, fc.stringMatching(/^[\w\-.]{0,30}$/)).map(([a, b]) => `${a}!${b}`));
const celeryKey = fc.stringMatching(/^[\x21-\x7e]{1,60}$/);

/** Keys the Django libraries build, with the role that must own each. */
function djangoKeys(names: { channel: string; group: string; celery: string; cache: string }): [NamespaceOwner, string][] {
  const ks = djangoKeySpace();
  const ch = ks.channel(names.channel);
  return [
    ['app', ks.cache('default', names.cache)],
    ['app', ks.cache('sessions', names.cache)],
    ['app', ks.session('abcdefghijklmnopqrstuvwxyz012345')],
    ['app', ks.celery(names.celery)],
    ['realtime', ks.cache('realtime', names.cache)],
    ['websocket', ch],
    ['websocket', `${ch}$inflight`],
    ['websocket', ks.group(names.group)],
  ];
}

/** Every family of key Naboom builds, as the prefix its builder puts before the variable part. */
function naboomPrefixes(layout: KeyLayout): string[] {
  const ks = createKeySpace(layout);
  const strip = (k: string): string => k.slice(0, -'x'.length);
  return [
    strip(ks.channels.queue('x')),
    strip(ks.channels.inbox('x')),
    strip(ks.channels.group('x')),
    strip(ks.channels.groupProcesses('x')),
    strip(ks.probe('websocket', 'x')),
    strip(ks.probe('app', 'x')),
    strip(ks.probe('realtime', 'x')),
    `${ks.queuePrefix}:`,
    strip(ks.auth.user('x')),
    strip(ks.auth.token('x')),
    strip(ks.auth.userTokens('x')),
    ks.rateLimitPrefix,
    ks.sessionStorePrefix,
    strip(ks.alerts.state('x')),
    strip(ks.alerts.cache('x')),
    ...SEVERITIES.map((s) => ks.alerts.stream(s)),
    ks.alerts.feed,
  ];
}

describe('Django keys', () => {
  for (const layout of LAYOUTS) {
    it(`are granted to their owner and to no other role, with the profile (${layout})`, () => {
      fc.assert(
        fc.property(channelName, word, celeryKey, celeryKey, (channel, group, celery, cache) => {
          for (const [owner, key] of djangoKeys({ channel, group, celery, cache })) {
            for (const role of OWNERS) {
              const granted = rolePatterns(role, layout, DJANGO).keys.some((p) => matchesPattern(p, key));
              expect(granted, `${role} on ${key}`).toBe(role === owner);
            }
          }
        }),
        { numRuns: 300 },
      );
    });

    it(`never are keys Naboom's own builders make (${layout})`, () => {
      const prefixes = naboomPrefixes(layout);
      fc.assert(
        fc.property(channelName, word, celeryKey, (channel, group, celery) => {
          const ks = djangoKeySpace();
          // Caches are shared on purpose (same keys, same JSON); the channel layer and Celery must not meet Naboom.
          for (const key of [ks.channel(channel), `${ks.channel(channel)}$inflight`, ks.group(group), ks.celery(celery)]) {
            for (const p of prefixes) expect(key.startsWith(p), `${key} vs ${p}`).toBe(false);
          }
        }),
        { numRuns: 300 },
      );
    });

    it(`share no hash tag with Naboom's keys, so Django never pins a key into Naboom's slots (${layout})`, () => {
      fc.assert(
        fc.property(channelName, word, celeryKey, (channel, group, celery) => {
          const ks = djangoKeySpace();
          for (const key of [ks.channel(channel), ks.group(group), ks.celery(celery.replace(/[{}]/g, '_'))]) expect(key).not.toMatch(/\{[^}]*\}/);
        }),
      );
      // Naboom's grouped keys do carry their tags on Cluster: the channel layer {ch}, alerts {panic}.
      if (layout === 'cluster') expect(naboomPrefixes(layout).filter((p) => p.includes('{')).length).toBeGreaterThan(0);
    });
  }

  it('keep the prefixes the settings module writes: naboom:channels: with its colon, naboom:celery:', () => {
    const ks = djangoKeySpace();
    expect(ks.channel('specific.abc!def')).toBe('naboom:channels:specific.abc!');
    expect(ks.group('room')).toBe('naboom:channels::group:room');
    expect(ks.celery('celery')).toBe('naboom:celery:celery');
    expect(ks.cache('default', 'k')).toBe(createKeySpace('standalone').cache('default', 'k'));
    expect(() => ks.channel('a:b')).toThrow(/Invalid Django channel name/);
    expect(() => ks.group('a!b')).toThrow(/Invalid Django group name/);
  });
});
