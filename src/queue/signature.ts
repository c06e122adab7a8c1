/**
 * The webhook signature: `X-Naboom-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact raw request body
 * keyed with NOTIFY_WEBHOOK_SECRET. Receivers verify it over the bytes they received, before parsing JSON.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-naboom-signature';

/** `sha256=<lowercase hex>` for a body. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a received signature header against the raw body (for receivers and tests). */
export function verifySignature(body: string | Uint8Array, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
