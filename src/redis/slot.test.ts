import { describe, expect, it } from 'vitest';
import { crc16, keySlot } from './slot.js';

describe('cluster key slots', () => {
  it('matches the Redis Cluster specification', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('{panic}:alerts:high')).toBe(keySlot('{panic}:feed'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
  });
});
