import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headerProblems } from '../redis/script-header.js';
import { PRESENCE_SCRIPTS } from './store.js';

describe('presence scripts', () => {
  it.each(PRESENCE_SCRIPTS.map((s) => [s.name, s] as const))('%s: the header names exactly the declared KEYS and ARGV, in order', (_name, script) => {
    expect(headerProblems(script)).toEqual([]);
  });

  it('every script file in lua/ is declared', () => {
    const files = readdirSync(fileURLToPath(new URL('./lua/', import.meta.url))).filter((f) => f.endsWith('.lua'));
    expect(files.sort()).toEqual(PRESENCE_SCRIPTS.map((s) => fileURLToPath(s.file).split('/').pop()).sort());
  });

  it('the scripts that read prune stale responders in the same step (the shared include is resolved)', () => {
    for (const s of PRESENCE_SCRIPTS.filter((x) => x.name !== 'presence-remove')) {
      expect(s.source, s.name).toMatch(/local function pruneStale/);
      expect(s.source, s.name).toMatch(/^pruneStale\(geo, seen, info, staleBefore\)$/m);
      expect(s.source, s.name).not.toMatch(/@include/);
    }
  });
});
