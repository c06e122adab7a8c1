import { describe, expect, it } from 'vitest';
import { diffUser, effectiveCommands, parseGetUser, selectorDrift } from './diff.js';
import { ruleTokens, userRules } from './rules.js';

const want = userRules('monitoring', 'monitoring_user', ['a'.repeat(64)], 'standalone');

const live = (commands: string, extra: Partial<Record<string, unknown>> = {}) =>
  parseGetUser('monitoring_user', ['flags', ['on'], 'passwords', ['a'.repeat(64)], 'commands', commands, 'keys', '', 'channels', '', 'selectors', [], ...Object.entries(extra).flat()]);

describe('ACL drift', () => {
  it('is in sync when the live rules equal the desired ones', () => {
    const u = live('-@all +client|setname +dbsize +info +latency|latest +ping +select +slowlog|get +slowlog|len');
    expect(diffUser(want, { ...u, effectiveCommands: effectiveCommands(u.commandTokens, new Map()) }).problems).toEqual([]);
  });

  it('expands categories the way Redis compacts them (+@hash -hsetnx …)', () => {
    const cats = new Map([['hash', ['hget', 'hset', 'hsetnx']]]);
    expect([...effectiveCommands(['-@all', '+@hash', '-hsetnx'], cats)].sort()).toEqual(['hget', 'hset']);
    expect([...effectiveCommands(['-@all', '+client|setname', '+client|id', '-client'], cats)]).toEqual([]);
  });

  it('reports an extra grant, a missing grant, nopass, a wrong password and extra keys', () => {
    const u = live('-@all +client|setname +dbsize +info +ping +select +slowlog|get +slowlog|len +keys', {
      flags: ['on', 'nopass'],
      passwords: [],
      keys: '~*',
    });
    const d = diffUser(want, { ...u, effectiveCommands: effectiveCommands(u.commandTokens, new Map()) });
    expect(d.problems).toEqual(
      expect.arrayContaining([
        'user is nopass (accepts any password)',
        'password does not match the configured one',
        'extra key patterns: ~*',
        'missing commands: +latency|latest',
        'extra commands: +keys',
      ]),
    );
  });

  it('reports a missing user', () => {
    expect(diffUser(want, undefined).problems).toEqual(['user does not exist']);
  });

  it('parses selectors in either reply form and compares them by keys and effective commands', () => {
    const rt = userRules('realtime', 'realtime_user', ['b'.repeat(64)], 'standalone');
    const sel = rt.selectors[0];
    expect(sel?.keys).toEqual(['naboom:presence:*']);
    const cmds = `-@all ${(sel?.commands ?? []).map((c) => `+${c}`).join(' ')}`;
    const flat = parseGetUser('realtime_user', ['flags', ['on'], 'selectors', [['commands', cmds, 'keys', '~naboom:presence:*', 'channels', '']]]);
    const map = parseGetUser('realtime_user', { flags: ['on'], selectors: [{ commands: cmds, keys: '~naboom:presence:*', channels: '' }] });
    for (const u of [flat, map]) expect(selectorDrift(rt.selectors, u.selectors), JSON.stringify(u.selectors)).toEqual([]);
    // Redis may describe commands through a category: the expanded set is what counts.
    const viaCategory = { ...(flat.selectors[0] ?? { keys: [], readKeys: [], writeKeys: [], channels: [], commandTokens: [] }), effectiveCommands: new Set(sel?.commands) };
    expect(selectorDrift(rt.selectors, [{ ...viaCategory, commandTokens: ['-@all', '+@geo'] }])).toEqual([]);
    expect(selectorDrift(rt.selectors, [])).toEqual([expect.stringMatching(/^missing selector\(s\): \(~naboom:presence:\* \+eval /)]);
    expect(selectorDrift(rt.selectors, [...flat.selectors, { keys: ['panic:*'], readKeys: [], writeKeys: [], channels: [], commandTokens: ['-@all', '+geoadd'] }])).toEqual(['extra selector(s): (~panic:* +geoadd)']);
    // Read-only patterns in a selector never match ours.
    expect(selectorDrift(rt.selectors, [{ ...viaCategory, readKeys: ['x:*'] }]).join('\n')).toMatch(/missing.*\n?.*extra selector\(s\): .*%R~x:\*/s);
    expect(selectorDrift([], []).length).toBe(0);
  });

  it('renders selectors after clearselectors for every user but the superuser', () => {
    const rt = ruleTokens(userRules('realtime', 'realtime_user', ['b'.repeat(64)], 'cluster'));
    expect(rt.indexOf('clearselectors')).toBe(rt.length - 2);
    expect(rt.at(-1)).toMatch(/^\(~naboom:presence:\* \+eval \+evalsha \+geoadd .*\+zscore\)$/);
    expect(ruleTokens(userRules('monitoring', 'monitoring_user', ['a'.repeat(64)], 'standalone')).at(-1)).toBe('clearselectors');
    expect(ruleTokens(userRules('master', 'default', ['a'.repeat(64)], 'standalone'))).not.toContain('clearselectors');
  });
});
