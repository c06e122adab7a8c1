import { describe, expect, it } from 'vitest';
import { diffUser, effectiveCommands, parseGetUser } from './diff.js';
import { userRules } from './rules.js';

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
});
