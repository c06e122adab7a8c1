import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headerProblems } from '../redis/script-header.js';
import { SCRIPTS } from './lua.js';

describe('channel-layer scripts', () => {
  it.each(Object.values(SCRIPTS).map((s) => [s.name, s] as const))('%s: the header names exactly the declared KEYS and ARGV, in order', (_name, script) => {
    expect(headerProblems(script)).toEqual([]);
  });

  it('every script file in lua/ is declared', () => {
    const files = readdirSync(fileURLToPath(new URL('./lua/', import.meta.url))).filter((f) => f.endsWith('.lua'));
    expect(files.sort()).toEqual(Object.values(SCRIPTS).map((s) => fileURLToPath(s.file).split('/').pop()).sort());
  });

  it('push-bounded is written once and inlined into each script that includes it', () => {
    for (const s of [SCRIPTS.send, SCRIPTS.groupAdd, SCRIPTS.groupSend]) {
      expect(s.source.match(/local function push_bounded/g)).toHaveLength(1);
      expect(s.source).not.toContain('@include');
    }
    expect(SCRIPTS.groupLeave.source).not.toContain('push_bounded');
  });

  it('orders named keys and args as declared, leaving out optional ones not given', () => {
    expect(SCRIPTS.groupAdd.order({ keys: { members: 'g' }, args: { member: 'c', now: 5, groupTtl: 60 } })).toEqual({ keys: ['g'], args: ['c', 5, 60] });
    expect(
      SCRIPTS.groupAdd.order({ keys: { inbox: 'i', members: 'g' }, args: { ttl: 9, capacity: 8, control: 'x', groupTtl: 60, now: 5, member: 'p' } }),
    ).toEqual({ keys: ['g', 'i'], args: ['p', 5, 60, 'x', 8, 9] });
  });
});
