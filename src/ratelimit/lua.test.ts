import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headerProblems } from '../redis/script-header.js';
import { COUNT } from './counter.js';

describe('rate-limit script', () => {
  it('the header names exactly the declared KEYS and ARGV, in order', () => {
    expect(headerProblems(COUNT)).toEqual([]);
  });

  it('is the only script file in lua/', () => {
    expect(readdirSync(fileURLToPath(new URL('./lua/', import.meta.url)))).toEqual(['rate-limit-count-N.lua']);
  });

  it('sends every counter as a key and every window as an argument, in the same order', () => {
    const items = [
      { keys: { counter: 'a' }, args: { window: 1000 } },
      { keys: { counter: 'b' }, args: { window: 2000 } },
    ];
    expect(COUNT.order({ keys: {}, args: {}, items })).toEqual({ keys: ['a', 'b'], args: [1000, 2000] });
  });
});
