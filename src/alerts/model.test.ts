import { describe, expect, it } from 'vitest';
import { compareIds } from './model.js';

describe('stream ids', () => {
  it('compare by milliseconds, then sequence', () => {
    expect(compareIds('1700000000000-0', '1700000000000-0')).toBe(0);
    expect(compareIds('1700000000000-1', '1700000000000-0')).toBe(1);
    expect(compareIds('1700000000000-9', '1700000000001-0')).toBe(-1);
    expect(compareIds('0-0', '1-0')).toBe(-1);
    expect(compareIds('1700000000000-10', '1700000000000-9')).toBe(1);
  });
});
