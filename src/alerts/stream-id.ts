/** Redis stream ids (`<ms>-<seq>`, each part an unsigned 64-bit integer) checked before Redis sees them. */

const MAX_U64 = 18_446_744_073_709_551_615n;
const SHAPE = /^([0-9]{1,20})-([0-9]{1,20})$/;

/** The largest id Redis can store: nothing can come after it. */
export const MAX_STREAM_ID = `${MAX_U64}-${MAX_U64}`;

/** True when `id` is a complete stream id Redis accepts (`ms-seq`, each part ≤ 18446744073709551615). */
export function isStreamId(id: string): boolean {
  const m = SHAPE.exec(id);
  if (!m?.[1] || !m[2]) return false;
  return BigInt(m[1]) <= MAX_U64 && BigInt(m[2]) <= MAX_U64;
}

/** True when no stream id can follow `id` (an exclusive range start `(id` would overflow in Redis). */
export function isLastStreamId(id: string): boolean {
  const m = SHAPE.exec(id);
  return m !== null && BigInt(m[1] ?? 0) === MAX_U64 && BigInt(m[2] ?? 0) === MAX_U64;
}
