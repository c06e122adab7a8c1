import { describe, expect, it } from 'vitest';
import { isLastStreamId, isStreamId, MAX_STREAM_ID } from '../../src/alerts/stream-id.js';

describe('isStreamId', () => {
  it('accepts complete ids up to the unsigned 64-bit maximum in each part', () => {
    for (const id of ['0-0', '0-1', '1700000000000-0', '18446744073709551615-0', '0-18446744073709551615', MAX_STREAM_ID]) expect(isStreamId(id)).toBe(true);
  });
  it('refuses ids Redis would reject or that are not ids at all', () => {
    for (const id of ['', '-', '1', '1-', '-1', '1-2-3', ' 1-2', '1-2 ', '+', '$', '1-a', '99999999999999999999-0', '18446744073709551616-0', '0-18446744073709551616', '1e3-0', '١-٢']) expect(isStreamId(id)).toBe(false);
  });
  it('knows the id nothing can follow', () => {
    expect(isLastStreamId(MAX_STREAM_ID)).toBe(true);
    expect(isLastStreamId('18446744073709551615-0')).toBe(false);
  });
});
