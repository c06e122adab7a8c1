/**
 * Purpose-bound keys derived from SECRET_KEY with HKDF-SHA256, so one operator secret never serves two
 * purposes directly (session cookies, channel-layer encryption, …). The list order is kept: the first key
 * is the current one, the rest only verify/decrypt during a rotation.
 */
import { hkdfSync } from 'node:crypto';
import type { Secret } from '../config/secret.js';

/** 32-byte key for `purpose` from one SECRET_KEY entry. */
export function deriveKey(secret: Secret, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret.reveal(), 'utf8'), Buffer.from('naboom', 'utf8'), Buffer.from(purpose, 'utf8'), length));
}

/** One derived key per SECRET_KEY entry, current first. */
export function deriveKeys(secrets: readonly Secret[], purpose: string, length = 32): Buffer[] {
  return secrets.map((s) => deriveKey(s, purpose, length));
}
