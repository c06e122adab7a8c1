import { describe, expect, it } from 'vitest';
import { CERT_WARN_DAYS, expiryStatus } from './tls-checks.js';

describe('certificate expiry', () => {
  const now = Date.parse('2026-12-04T00:00:00Z');
  const inDays = (d: number): Date => new Date(now + d * 86_400_000);

  it(`passes with ${CERT_WARN_DAYS} days or more left, warns below, fails once expired`, () => {
    expect(expiryStatus(inDays(365), now)).toEqual({ status: 'pass', days: 365 });
    expect(expiryStatus(inDays(CERT_WARN_DAYS), now).status).toBe('pass');
    expect(expiryStatus(inDays(CERT_WARN_DAYS - 1), now)).toEqual({ status: 'warn', days: CERT_WARN_DAYS - 1 });
    expect(expiryStatus(inDays(0.5), now).status).toBe('warn');
    expect(expiryStatus(inDays(0), now).status).toBe('fail');
    expect(expiryStatus(inDays(-3), now).status).toBe('fail');
  });
});
