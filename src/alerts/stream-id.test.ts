import { describe, expect, it } from 'vitest';
import { isMaxStreamId, isMinStreamId, isStreamId, MAX_STREAM_ID } from './stream-id.js';

describe('isStreamId', () => {
  it('accepts ms-seq ids within the unsigned 64-bit range of each part', () => {
    for (const id of ['0-0', '1-0', '1712345678901-3', MAX_STREAM_ID, '18446744073709551615-0', '0-18446744073709551615', '00000000000000000001-1']) {
      expect(isStreamId(id), id).toBe(true);
    }
  });

  it('refuses ids Redis rejects and anything not shaped ms-seq', () => {
    for (const id of ['99999999999999999999-0', '18446744073709551616-0', '0-18446744073709551616', '1', '1-', '-1', '1-2-3', '', ' 1-0', '1-0 ', '+', '-', '$', '(1-0', '1-*', '0x1-0', '1.5-0', '١-٠', '123456789012345678901-0']) {
      expect(isStreamId(id), id).toBe(false);
    }
  });

  it('names the ends of the id space, however they are written', () => {
    expect(isMinStreamId('0-0')).toBe(true);
    expect(isMinStreamId('000-00')).toBe(true);
    expect(isMinStreamId('0-1')).toBe(false);
    expect(isMinStreamId('x')).toBe(false);
    expect(isMaxStreamId(MAX_STREAM_ID)).toBe(true);
    expect(isMaxStreamId('018446744073709551615-18446744073709551615')).toBe(false);
    expect(isMaxStreamId('18446744073709551615-18446744073709551614')).toBe(false);
  });
});
